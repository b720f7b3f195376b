from django.apps import AppConfig


class EstatesConfig(AppConfig):
    name = "propfee.estates"
    label = "estates"
    verbose_name = "项目与房屋"
