"""Photo uploads: images only (checked by opening them), size-limited, stored privately."""

from __future__ import annotations

import uuid
import warnings

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image

# Pillow format name → (file extension, content type) of the photos we accept.
ACCEPTED_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
try:  # HEIC (iPhone photos) only when the optional pillow-heif plugin is installed.
    from pillow_heif import register_heif_opener
except ImportError:
    pass
else:
    register_heif_opener()
    ACCEPTED_FORMATS["HEIF"] = ("heic", "image/heic")
# The file input's `accept` attribute: the content types above.
ACCEPT = ",".join(content_type for _, content_type in ACCEPTED_FORMATS.values())

NOT_A_PHOTO = _("This file is not a photo we can read. Please choose a JPEG, PNG or WEBP image.")


TOO_MANY_PIXELS = _(
    "This photo has too many pixels (%(megapixels)s megapixels). Photos can have at most "
    "%(limit)s megapixels."
)


def pixel_count(data) -> int | None:
    """Width times height from the image's header, without decoding it (None: not readable).

    A few kilobytes of PNG can declare 144 megapixels; decoding or verifying such a
    file costs hundreds of megabytes, so the size is read first.
    """
    try:
        data.seek(0)
        with warnings.catch_warnings():
            # Pillow warns above its own (higher) limit; ours is checked by the caller.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(data) as image:
                width, height = image.size
    except Image.DecompressionBombError:  # above twice Pillow's limit: at least this many
        return 2 * Image.MAX_IMAGE_PIXELS + 1
    except Exception:  # not an image at all: the ImageField says so
        return None
    finally:
        data.seek(0)
    return width * height


class PhotoField(forms.ImageField):
    """An image of an accepted format, at most `PHOTO_MAX_BYTES` and `PHOTO_MAX_PIXELS`,
    renamed to a random name."""

    default_error_messages = {"invalid_image": NOT_A_PHOTO}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.FileInput(attrs={"accept": ACCEPT}))
        super().__init__(**kwargs)

    def to_python(self, data):
        if data and data.size > settings.PHOTO_MAX_BYTES:
            raise ValidationError(
                _("This photo is too large (%(size)s). Photos can be at most %(limit)s."),
                code="too_large",
                params={
                    "size": filesizeformat(data.size),
                    "limit": filesizeformat(settings.PHOTO_MAX_BYTES),
                },
            )
        pixels = pixel_count(data) if data else None
        if pixels is not None and pixels > settings.PHOTO_MAX_PIXELS:
            raise ValidationError(
                TOO_MANY_PIXELS,
                code="too_many_pixels",
                params={
                    "megapixels": round(pixels / 1_000_000),
                    "limit": round(settings.PHOTO_MAX_PIXELS / 1_000_000),
                },
            )
        photo = super().to_python(data)
        if photo is None:
            return None
        if photo.image.format not in ACCEPTED_FORMATS:
            raise ValidationError(NOT_A_PHOTO, code="invalid_image")
        extension, content_type = ACCEPTED_FORMATS[photo.image.format]
        # Never keep the shopper's file name: it may say more than the photo should.
        photo.name = f"{uuid.uuid4().hex}.{extension}"
        photo.content_type = content_type
        photo.seek(0)
        return photo


# The most photos a shopper may add to one item (each one checked as above).
MAX_PHOTOS_PER_LINE = 5


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(PhotoField):
    """Up to `MAX_PHOTOS_PER_LINE` photos of one item, each a `PhotoField` photo: a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_PHOTOS_PER_LINE:
            raise ValidationError(
                _("Add at most %(limit)d photos of an item (you chose %(count)d)."),
                code="too_many_photos",
                params={"limit": MAX_PHOTOS_PER_LINE, "count": len(files)},
            )
        photos = []
        for position, item in enumerate(files, start=1):
            try:
                photos.append(super().clean(item, initial))
            except ValidationError as error:
                if len(files) == 1:
                    raise
                # Say which of the photos is at fault.
                raise ValidationError(
                    [
                        _("Photo %(number)d: %(message)s") % {"number": position, "message": text}
                        for text in error.messages
                    ]
                ) from error
        return [photo for photo in photos if photo]
