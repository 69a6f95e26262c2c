"""The label download behind a signed link; every refusal is the same bare 404."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from rma.models import LabelStatus

from .links import rma_number_from_label_token
from .models import ReturnLabel


@require_safe
def label_download(request, token: str) -> FileResponse:
    """The current ISSUED label PDF of the RMA the token was signed for."""
    rma_number = rma_number_from_label_token(token)
    label = (
        ReturnLabel.objects.filter(rma__rma_number=rma_number, status=LabelStatus.ISSUED)
        .exclude(file="")
        .first()
        if rma_number
        else None
    )
    if label is None:
        raise Http404
    try:
        pdf = label.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        pdf,
        as_attachment=True,
        filename=f"return-label-{rma_number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def label_qr_code(request, token: str) -> FileResponse:
    """The QR code (PNG) of the RMA's current ISSUED label, shown instead of printing."""
    rma_number = rma_number_from_label_token(token)
    label = (
        ReturnLabel.objects.filter(rma__rma_number=rma_number, status=LabelStatus.ISSUED)
        .exclude(qr_code="")
        .first()
        if rma_number
        else None
    )
    if label is None:
        raise Http404
    try:
        image = label.qr_code.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(image, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
