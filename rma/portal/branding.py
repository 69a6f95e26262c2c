"""Store branding under the Content Security Policy.

The brand colour goes into a small `<style>` element carrying the request's CSP nonce
(the page's only inline CSS), with a text colour chosen for at least 4.5:1 contrast.
Product images and logos live on the store's servers: their https origins are added to
`img-src` for the page that shows them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from csp.constants import NONCE
from csp.decorators import csp_update
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from rma.branding import brand_colour, brand_text_colour
from rma.models import Store


def use_store_language(request, store) -> None:
    """Show the page in the store's language unless the shopper chose one.

    The shopper's explicit choice (the language switch sets Django's language cookie)
    wins; without it, a store with a `language` overrides the browser's Accept-Language.
    """
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return
    language = (store.language or "") if store else ""
    if language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = language


def only_store() -> Store | None:
    """The deployment's store when it has exactly one (then `/` is branded as it)."""
    stores = list(Store.objects.all()[:2])
    return stores[0] if len(stores) == 1 else None


def lookup_path(store) -> str:
    """Where a shopper looks up another order of this store."""
    if store is None:
        return reverse("portal:lookup")
    return reverse("portal:store_lookup", kwargs={"store_code": store.code})


def brand_context(store) -> dict:
    """Template variables for a store's brand colour and logo (left out when unusable)."""
    context = {"logo_url": secure_url(store.logo_url), "lookup_path": lookup_path(store)}
    if colour := brand_colour(store):
        context["brand_colour"] = colour
        context["brand_text"] = brand_text_colour(colour)
    return context


# A host name as it may stand in a CSP source (after IDNA encoding): nothing that could
# end a source (space), a directive (";") or a policy (",").
HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def image_origin(url: str) -> str:
    """The https origin of an image URL, as a CSP source; "" when it has none to trust.

    Built from the parsed host and port, never copied from the URL: a user name or
    password part, a bad port or an odd host leaves the image out.
    """
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.netloc or "@" in parts.netloc:
        return ""
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (UnicodeError, ValueError):
        return ""
    if not HOST_NAME.fullmatch(host):
        return ""
    return f"https://{host}:{port}" if port else f"https://{host}"


# A file on this site (the demo stores' logos under /static/): 'self' in the policy already.
SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9/._~%+-]*")


def secure_url(url: str) -> str:
    """The URL if the page may load it (https, an origin we can allow, or a path on this
    site), else ""."""
    if SITE_PATH.fullmatch(url or ""):
        return url
    return url if image_origin(url) else ""


def with_store_policy(response, *, store, image_urls=()):
    """Allow the store's brand style (by nonce) and its image origins on this response."""
    update = {}
    if brand_colour(store):
        update["style-src"] = [NONCE]
    origins = {image_origin(url) for url in (*image_urls, store.logo_url)}
    if origins := sorted(origin for origin in origins if origin):
        update["img-src"] = origins
    if not update:
        return response
    return csp_update(update)(lambda: response)()
