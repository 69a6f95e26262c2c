"""Tracking webhooks: `POST /webhooks/tracking/easypost` and `/webhooks/tracking/shippo`.

EasyPost signs each body with HMAC-SHA256 under the webhook secret
(`X-Hmac-Signature: hmac-sha256-hex=...`), checked with the library's own
`validate_webhook`; Shippo's webhook URL carries a secret token (`?token=...`). Every
refusal is a 4xx with a short JSON reason and a log line, never a 5xx: bad signature or
token 401, malformed body 400, unknown tracking number 404, replay 409. Updates the
product does not show (pre-transit, other event kinds) are acknowledged with 200.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from easypost.errors import SignatureVerificationError
from easypost.util import validate_webhook

from .parsing import MalformedUpdate, easypost_update, shippo_update
from .services import TrackingRefused, tracking_record

logger = logging.getLogger(__name__)


def _refused(source: str, status: int, reason: str, **details) -> JsonResponse:
    logger.warning("Tracking webhook %s refused (%s): %s %s", source, status, reason, details)
    return JsonResponse({"recorded": False, "error": reason}, status=status)


def _record(source: str, body, read) -> JsonResponse:
    try:
        update = read(body, now=timezone.now())
    except MalformedUpdate as error:
        return _refused(source, 400, str(error))
    if update is None or update.status is None:
        return JsonResponse({"recorded": False, "ignored": True})
    try:
        event = tracking_record(source=source, update=update)
    except TrackingRefused as refusal:
        return _refused(
            source, refusal.status, str(refusal), tracking_number=update.tracking_number
        )
    return JsonResponse({"recorded": True, "status": event.status})


@csrf_exempt
@require_POST
def easypost_tracking(request) -> JsonResponse:
    secret = settings.EASYPOST_WEBHOOK_SECRET
    if not secret:
        return _refused("easypost", 401, "EASYPOST_WEBHOOK_SECRET is not set")
    try:
        body = validate_webhook(request.body, request.headers, secret)
    except SignatureVerificationError:
        return _refused("easypost", 401, "bad signature")
    except (ValueError, UnicodeDecodeError):
        return _refused("easypost", 400, "body is not JSON")
    return _record("easypost", body, easypost_update)


@csrf_exempt
@require_POST
def shippo_tracking(request) -> JsonResponse:
    token = settings.SHIPPO_WEBHOOK_TOKEN
    given = request.GET.get("token", "")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return _refused("shippo", 401, "bad token")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _refused("shippo", 400, "body is not JSON")
    return _record("shippo", body, shippo_update)
