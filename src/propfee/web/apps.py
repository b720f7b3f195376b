from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "propfee.web"
    label = "web"
    verbose_name = "员工界面"
