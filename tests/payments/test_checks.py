"""Start-up checks of the refund settings."""

from payments.checks import refund_settings


def test_default_settings_pass(settings):
    settings.REFUND_SERVICE = "none"
    assert refund_settings(None) == []


def test_unknown_refund_service_is_an_error(settings):
    settings.REFUND_SERVICE = "paypal"
    [problem] = refund_settings(None)
    assert problem.id == "payments.E001"


def test_stripe_without_a_key_is_a_warning(settings):
    settings.REFUND_SERVICE, settings.STRIPE_API_KEY = "stripe", ""
    [problem] = refund_settings(None)
    assert problem.id == "payments.W001"
    settings.STRIPE_API_KEY = "sk_test_x"
    assert refund_settings(None) == []
