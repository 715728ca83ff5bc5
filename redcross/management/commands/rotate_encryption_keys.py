"""Re-encrypt every encrypted column with the newest key (the first of FIELD_ENCRYPTION_KEYS)."""

from django.apps import apps
from django.core.management.base import BaseCommand

from redcross.encryption import reset_key_cache, rotate_model


class Command(BaseCommand):
    help = "Re-encrypt all encrypted personal data with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        reset_key_cache()
        total = 0
        for model in apps.get_models():
            rows = rotate_model(model)
            if rows is not None:
                total += rows
                self.stdout.write(f"{model._meta.label}: {rows}")
        self.stdout.write(self.style.SUCCESS(f"re-encrypted rows: {total}"))
