"""REST API v1: one router; each app registers its viewsets in its own `api.py`."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from propfee.estates import api as estates_api

router = DefaultRouter()
estates_api.register(router)

urlpatterns = [
    path("", include("propfee.core.api_urls")),
    path("", include(router.urls)),
]
