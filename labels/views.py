"""The label download behind a signed link; every refusal is the same bare 404."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from rma.models import LabelStatus

from .links import rma_number_from_label_token
from .models import ReturnLabel


def _issued_label_file(token: str, field: str):
    """(RMA number, open file) of the `field` file of the RMA's current ISSUED label that
    the token was signed for; Http404 for a bad token, no such label or a missing file."""
    rma_number = rma_number_from_label_token(token)
    label = (
        ReturnLabel.objects.filter(rma__rma_number=rma_number, status=LabelStatus.ISSUED)
        .exclude(**{field: ""})
        .first()
        if rma_number
        else None
    )
    if label is None:
        raise Http404
    try:
        return rma_number, getattr(label, field).open("rb")
    except FileNotFoundError as error:
        raise Http404 from error


def _private(response: FileResponse) -> FileResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def label_download(request, token: str) -> FileResponse:
    """The current ISSUED label PDF of the RMA the token was signed for."""
    rma_number, pdf = _issued_label_file(token, "file")
    return _private(
        FileResponse(
            pdf,
            as_attachment=True,
            filename=f"return-label-{rma_number}.pdf",
            content_type="application/pdf",
        )
    )


@require_safe
def label_qr_code(request, token: str) -> FileResponse:
    """The QR code (PNG) of the RMA's current ISSUED label, shown instead of printing."""
    _rma_number, image = _issued_label_file(token, "qr_code")
    return _private(FileResponse(image, content_type="image/png"))
