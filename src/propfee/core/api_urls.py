"""API authentication and identity: obtain a token with username and password; who am I."""

from django.urls import path

from propfee.core.api import MeView, TokenObtainView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("me/", MeView.as_view(), name="api-me"),
]
