"""Recompute the beneficiaries' keyed hashes after RELIEF_MATCH_KEY changed (docs/configuration.md)."""

from django.core.management.base import BaseCommand

from relief.services.beneficiaries import beneficiary_keys_recompute


class Command(BaseCommand):
    help = "Recompute every relief beneficiary's match keys with the current RELIEF_MATCH_KEY."

    def handle(self, *args, **options):
        changed = beneficiary_keys_recompute()
        self.stdout.write(f"{changed} keys recomputed")
