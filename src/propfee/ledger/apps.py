from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "propfee.ledger"
    label = "ledger"
    verbose_name = "核销与减免"
