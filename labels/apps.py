from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "labels"
    verbose_name = "Return labels"

    def ready(self):
        # Register the tasks in every process, so enqueueing by name finds them.
        from . import tasks  # noqa: F401
