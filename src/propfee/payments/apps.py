from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "propfee.payments"
    label = "payments"
    verbose_name = "收款"
