from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments: refunds and store credit"

    def ready(self):
        from . import checks  # noqa: F401  (registers the settings checks)
