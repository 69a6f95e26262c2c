"""An email backend whose failures a test scripts (settings.EMAIL_BACKEND names it)."""

from __future__ import annotations

import threading
from collections import deque

from django.core.mail.backends.locmem import EmailBackend


class FlakyEmailBackend(EmailBackend):
    """Raise the scripted errors one send at a time, then deliver to the locmem outbox."""

    failures: deque = deque()
    attempts = 0
    _lock = threading.Lock()

    @classmethod
    def script(cls, *errors: Exception) -> None:
        with cls._lock:
            cls.failures = deque(errors)
            cls.attempts = 0

    def send_messages(self, messages):
        cls = type(self)
        with cls._lock:
            cls.attempts += 1
            error = cls.failures.popleft() if cls.failures else None
        if error is not None:
            raise error
        return super().send_messages(messages)
