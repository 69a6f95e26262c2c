import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "returns_portal.settings.local")

application = get_wsgi_application()

# With eager tasks (no broker) this process renders labels: load the fonts now, in the
# background, rather than in the first return request (labels/warmup.py).
from labels.warmup import warm_in_background  # noqa: E402

warming = warm_in_background()
