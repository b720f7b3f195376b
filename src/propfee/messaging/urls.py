"""消息与通知 URLs (namespace "messaging")."""

from django.urls import path  # noqa: F401

app_name = "messaging"
urlpatterns: list = []
