"""报表与分析 URLs (namespace "analytics")."""

from django.urls import path  # noqa: F401

app_name = "analytics"
urlpatterns: list = []
