"""`python manage.py load_demo`: the demo stores and orders, dated relative to now."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rma.demo import demo_document, demo_rows
from rma.importing import ImportValidationError, import_document

HEADINGS = ("Store", "Order number", "Email", "Postcode", "Shows")


class Command(BaseCommand):
    help = (
        "Load the demo stores TMSUS and TMSDE with orders that show every eligibility "
        "case (idempotent: run it again to bring the dates up to now)."
    )

    def handle(self, *args, **options):
        document = demo_document(now=timezone.now())
        try:
            result = import_document(document)
        except ImportValidationError as error:  # only if demo.json was broken by an edit
            raise CommandError(
                "rma/demo/demo.json is invalid:\n" + "\n".join(error.errors)
            ) from None
        self.stdout.write(result.summary())
        rows = [HEADINGS, *demo_rows(document)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(HEADINGS) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]))
        self.stdout.write(
            "\nLook an order up with its number and the email or the postcode. "
            "For the API: python manage.py create_api_key TMSUS"
        )
