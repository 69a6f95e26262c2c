"""Retention job: anonymise shoppers' personal data older than the retention period."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rma.services.retention import personal_data_purge


class Command(BaseCommand):
    help = (
        "Anonymise orders placed more than --days ago with no active return: names, emails, "
        "street addresses, comments, photos and labels go; statistics stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=730, help="retention period (default 730)")

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        result = personal_data_purge(older_than=dt.timedelta(days=days))
        self.stdout.write(
            f"Anonymised {result.orders} orders; deleted {result.photos} photos "
            f"and {result.labels} labels."
        )
