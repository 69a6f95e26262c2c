"""`python manage.py import_data FILE`: import stores and orders (docs/import-format.md)."""

import json
import sys
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rma.importing import ImportValidationError, import_document


def read_json(data: bytes, source: str):
    """Parse an import document; JSON numbers with a fraction become Decimal, never float."""
    try:
        return json.loads(data, parse_float=Decimal)
    except RecursionError:
        raise CommandError(f"{source} is not valid JSON: it is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise CommandError(f"{source} is not valid JSON: {error}") from None


class Command(BaseCommand):
    help = (
        "Import stores and orders from a JSON document in the format of docs/import-format.md. "
        "Idempotent; an invalid document changes nothing."
    )
    # call_command("import_data", "-", stdin=...) in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("file", help='path of the JSON document, or "-" for standard input')

    def handle(self, *args, file, **options):
        if file == "-":
            stdin = options.get("stdin") or sys.stdin
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
            source = "standard input"
        else:
            try:
                data = Path(file).read_bytes()
            except OSError as error:
                raise CommandError(f"cannot read {file}: {error.strerror}") from None
            source = file
        try:
            result = import_document(read_json(data, source))
        except ImportValidationError as error:
            for message in error.errors:
                self.stderr.write(message)
            raise CommandError(
                f"{len(error.errors)} error(s) in {source}; nothing was imported."
            ) from None
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(result.summary())
        self.stdout.write(self.style.SUCCESS(f"Imported {source}."))
