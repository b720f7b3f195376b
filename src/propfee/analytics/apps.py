from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "propfee.analytics"
    label = "analytics"
    verbose_name = "报表与分析"
