from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "labels"
    verbose_name = "Return labels"

    def ready(self):
        # Register the tasks in every process, so enqueueing by name finds them; worker
        # processes render one label as they start (labels/warmup.py).
        from . import tasks, warmup  # noqa: F401
