"""The embedded default of `make run`: SQLite, eager tasks, console email."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
