"""The embedded default of `make run`: SQLite, eager tasks, console email."""

from .base import *  # noqa: F403
from .base import STORAGES, env

DEBUG = env.bool("DEBUG", default=True)
# runserver serves static files from the apps; no collectstatic manifest is needed locally.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
