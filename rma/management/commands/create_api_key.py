"""`python manage.py create_api_key STORE [--name NAME]`: print a new API key once."""

from django.core.management.base import BaseCommand, CommandError

from rma.apikeys import api_key_create
from rma.models import Store


class Command(BaseCommand):
    help = "Create an API key for a store and print it. It is stored hashed: copy it now."

    def add_arguments(self, parser):
        parser.add_argument("store", help="the store code, e.g. TMSUS")
        parser.add_argument("--name", default="default", help="what the key is for")

    def handle(self, *args, store, name, **options):
        found = Store.objects.filter(code=store).first()
        if found is None:
            raise CommandError(f'unknown store "{store}"')
        api_key, raw_key = api_key_create(store=found, name=name)
        self.stderr.write(
            f'API key "{api_key.name}" for {found.code} ({api_key.prefix}…). '
            "It is shown only this once; send it in the apikey header:"
        )
        self.stdout.write(raw_key)
