from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "propfee.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from django.urls import register_converter

        from propfee.core import lookups  # noqa: F401  (registers the `__prefix` lookup)
        from propfee.core.logs import log_redaction_install

        log_redaction_install()

        from propfee.core.identifiers import IdConverter

        register_converter(IdConverter, "id")
