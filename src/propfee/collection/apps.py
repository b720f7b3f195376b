from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "propfee.collection"
    label = "collection"
    verbose_name = "催收"

    def ready(self) -> None:
        from propfee.collection import evidence, public_list

        evidence.register()
        public_list.register()
