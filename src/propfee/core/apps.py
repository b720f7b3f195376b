from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "propfee.core"
    label = "core"
    verbose_name = "核心"
