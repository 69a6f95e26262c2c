"""`python manage.py load_demo`: the demo stores and orders, and a few weeks of history
(orders and returns in every status), all dated relative to now."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rma.demo import demo_document, demo_rows
from rma.demo.history import HISTORY_DAYS, load_history
from rma.importing import ImportValidationError, import_document

HEADINGS = ("Store", "Order number", "Email", "Postcode", "Shows")


class Command(BaseCommand):
    help = (
        "Load the demo stores TMSUS and TMSDE with orders that show every eligibility "
        "case, and a few weeks of orders and returns for the dashboard (idempotent: run it "
        "again to bring the dates up to now)."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        document = demo_document(now=now)
        try:
            result = import_document(document)
            returns = load_history(now=now)
        except ImportValidationError as error:  # only if the demo data was broken by an edit
            raise CommandError("The demo data is invalid:\n" + "\n".join(error.errors)) from None
        self.stdout.write(result.summary())
        self.stdout.write(
            f"History: {returns} returns in every status over the last {HISTORY_DAYS} days "
            "(written anew on every run)."
        )
        rows = [HEADINGS, *demo_rows(document)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(HEADINGS) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]))
        self.stdout.write(
            "\nLook an order up with its number and the email or the postcode. "
            "For the API: python manage.py create_api_key TMSUS"
        )
