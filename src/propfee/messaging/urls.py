"""消息与通知 URLs (namespace "messaging")."""

from django.urls import path

from propfee.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<id:pk>/", views.message_detail, name="message_detail"),
    path("<id:pk>/cancel/", views.message_cancel_view, name="message_cancel"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/defaults/", views.template_defaults, name="template_defaults"),
    path("templates/preview/", views.template_preview_view, name="template_preview"),
    path("templates/<id:pk>/", views.template_edit, name="template_edit"),
    path("templates/<id:pk>/approve/", views.template_approve_view, name="template_approve"),
    path("callback/<str:provider>/", views.delivery_callback, name="callback"),
    # The address printed in docs/operations.md for the providers' consoles.
    path("callbacks/<str:provider>/", views.delivery_callback, name="callbacks"),
]
