"""文书 URLs (namespace "documents")."""

from django.urls import path

from propfee.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.document_list, name="document_list"),
    path("<id:pk>/file/", views.document_file, name="document_file"),
    path("<id:pk>/delivery/", views.delivery_add, name="delivery_add"),
    path("evidence/<id:pk>/", views.evidence_file, name="evidence_file"),
    path("units/<str:code>/", views.unit_section, name="unit_section"),
    path("units/<str:code>/generate/", views.document_generate, name="document_generate"),
    path("units/<str:code>/contract/", views.contract_add, name="contract_add"),
    path("units/<str:code>/bundle/", views.evidence_bundle, name="evidence_bundle"),
    path("payments/<id:pk>/receipt/", views.receipt, name="receipt"),
    path("batch/", views.batch_new, name="batch_new"),
    path("batch/<id:pk>/file/", views.batch_file, name="batch_file"),
    path("public-notice/", views.public_notice_new, name="public_notice_new"),
    path(
        "public-notice/<id:pk>/approve/",
        views.public_notice_approve_view,
        name="public_notice_approve",
    ),
    path(
        "public-notice/<id:pk>/print/", views.public_notice_print_view, name="public_notice_print"
    ),
]
