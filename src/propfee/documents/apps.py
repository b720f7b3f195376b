from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "propfee.documents"
    label = "documents"
    verbose_name = "文书与单据"
