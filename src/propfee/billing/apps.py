from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "propfee.billing"
    label = "billing"
    verbose_name = "收费与计费"
