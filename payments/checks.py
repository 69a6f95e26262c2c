"""Start-up checks of the refund settings (`manage.py check`, runserver, deploy)."""

from django.conf import settings
from django.core.checks import Error, Warning, register

REFUND_SERVICES = ("none", "stripe")


@register()
def refund_settings(app_configs, **kwargs):
    problems = []
    if settings.REFUND_SERVICE not in REFUND_SERVICES:
        problems.append(
            Error(
                f"REFUND_SERVICE is {settings.REFUND_SERVICE!r}",
                hint="Use none (the store refunds, told by the webhook) or stripe.",
                id="payments.E001",
            )
        )
    elif settings.REFUND_SERVICE == "stripe" and not settings.STRIPE_API_KEY:
        problems.append(
            Warning(
                "REFUND_SERVICE is stripe but STRIPE_API_KEY is not set",
                hint="Every refund will fail and wait in the refund failed queue.",
                id="payments.W001",
            )
        )
    return problems
