"""Recompute the persons' ID match keys after PERSON_MATCH_KEY changed (docs/configuration.md)."""

from django.core.management.base import BaseCommand

from redcross.people import person_match_keys_recompute


class Command(BaseCommand):
    help = "Recompute every person's ID match key with the current PERSON_MATCH_KEY."

    def handle(self, *args, **options) -> None:
        changed = person_match_keys_recompute()
        self.stdout.write(f"{changed} match keys recomputed")
