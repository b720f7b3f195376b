"""文书与单据 URLs (namespace "documents")."""

from django.urls import path  # noqa: F401

app_name = "documents"
urlpatterns: list = []
