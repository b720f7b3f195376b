from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "propfee.collection"
    label = "collection"
    verbose_name = "催收"
