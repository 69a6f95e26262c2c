"""`LABEL_SERVICE=http`: an external return label service (docs/decisions.md).

`POST {LABEL_SERVICE_URL}` with `{"rmaId", "store", "orderId", "from", "to", "package"}`
and the key in the `apikey` header (the header the RMA service API uses too, see
docs/decisions.md). The answer is `{"carrier", "trackingNumber", "labelPdf": base64}`
or `{"carrier", "trackingNumber", "labelUrl"}`; a label URL is downloaded at once.

Every call has a timeout. 5xx answers, timeouts and connection errors raise
`TransientLabelError` (the task retries with backoff); any other refusal or a malformed
answer raises `PermanentLabelError`. Both URLs must resolve to public addresses
(`returns_portal.outbound`); a private one is a `PermanentLabelError`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from returns_portal import outbound

from .base import IssuedLabel, LabelRequest, LabelService, PermanentLabelError, TransientLabelError
from .carrier import TRANSIENT_REQUEST_ERRORS, read_capped

API_KEY_HEADER = "apikey"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class HttpLabelService(LabelService):
    name = "http"

    def __init__(self, *, url: str, api_key: str, timeout: float):
        self.url = url
        self.api_key = api_key
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> HttpLabelService:
        if not settings.LABEL_SERVICE_URL:
            raise ImproperlyConfigured("LABEL_SERVICE=http needs LABEL_SERVICE_URL")
        return cls(
            url=settings.LABEL_SERVICE_URL,
            api_key=settings.LABEL_SERVICE_API_KEY,
            timeout=settings.LABEL_SERVICE_TIMEOUT,
        )

    def issue(self, request: LabelRequest) -> IssuedLabel:
        payload = {
            "rmaId": request.rma_number,
            "store": request.store_code,
            "orderId": request.order_id,
            "from": request.from_address,
            "to": request.to_address,
            "package": request.package,
        }
        response = self._call("POST", self.url, json=payload, headers=self._headers(self.url))
        try:
            answer = response.json()
        except ValueError as error:
            raise PermanentLabelError("Label service answered with invalid JSON") from error
        if not isinstance(answer, dict):
            raise PermanentLabelError("Label service answer is not a JSON object")
        carrier = answer.get("carrier")
        tracking_number = answer.get("trackingNumber")
        if not isinstance(carrier, str) or not isinstance(tracking_number, str):
            raise PermanentLabelError("Label service answer lacks carrier or trackingNumber")
        label_url = answer.get("labelUrl") or ""
        if answer.get("labelPdf"):
            pdf = self._decode(answer["labelPdf"])
        elif isinstance(label_url, str) and label_url.startswith(("https://", "http://")):
            pdf = self._download(label_url)
        else:
            raise PermanentLabelError("Label service answer has neither labelPdf nor labelUrl")
        return IssuedLabel(
            carrier=carrier.strip(),
            tracking_number=tracking_number.strip(),
            pdf=pdf,
            label_url=label_url if isinstance(label_url, str) else "",
        )

    def _headers(self, url: str) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        # The key goes only to the service itself, never to a label URL on another host.
        if self.api_key and _origin(url) == _origin(self.url):
            headers[API_KEY_HEADER] = self.api_key
        return headers

    def _call(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            # The service's URL and the label URL it answers with both go through the
            # outbound guard: public addresses only, checked on the resolved address.
            response = outbound.request(
                method,
                url,
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,
                **kwargs,
            )
        except outbound.AddressNotAllowed as error:
            raise PermanentLabelError(
                f"Label service call refused: {outbound.NOT_ALLOWED_MESSAGE}"
            ) from error
        except TRANSIENT_REQUEST_ERRORS as error:
            raise TransientLabelError(f"Label service unreachable: {error}") from error
        except requests.RequestException as error:
            raise PermanentLabelError(f"Label service request failed: {error}") from error
        if response.status_code >= 500:
            raise TransientLabelError(f"Label service error: HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise PermanentLabelError(f"Label service refused: HTTP {response.status_code}")
        return response

    @staticmethod
    def _decode(text) -> bytes:
        if not isinstance(text, str):
            raise PermanentLabelError("labelPdf is not a base64 string")
        try:
            pdf = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            raise PermanentLabelError("labelPdf is not valid base64") from error
        return _checked_pdf(pdf)

    def _download(self, url: str) -> bytes:
        response = self._call("GET", url, headers=self._headers(url), stream=True)
        return _checked_pdf(read_capped(response))


def _checked_pdf(pdf: bytes) -> bytes:
    if not pdf.startswith(b"%PDF-"):
        raise PermanentLabelError("Label is not a PDF document")
    return pdf
