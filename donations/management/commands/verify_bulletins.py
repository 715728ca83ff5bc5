"""``python manage.py verify_bulletins [--branch CODE]``: recompute every published bulletin's hash and
every link of each branch's chain; one line per chain; exit status 1 if any chain is broken."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from donations.services.bulletins.publish import bulletin_verify_chain
from redcross.models import Branch


class Command(BaseCommand):
    help = "Verify the hash chains of published bulletins (公示): one line per branch, non-zero exit if broken."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--branch", metavar="CODE", help="only this branch's chain (branch code)")

    def handle(self, *args, **options) -> None:
        branch = None
        if options.get("branch"):
            branch = Branch.objects.filter(code=options["branch"]).first()
            if branch is None:
                raise CommandError(f"--branch: no branch with code {options['branch']!r}")
        result = bulletin_verify_chain(branch=branch)
        if not result.chains:
            self.stdout.write("no published bulletins")
        for chain in result.chains:
            if chain.ok:
                self.stdout.write(f"{chain.branch_code} {chain.branch_name}: OK, {chain.count} bulletins")
            else:
                broken = chain.broken
                self.stdout.write(f"{chain.branch_code} {chain.branch_name}: BROKEN at {broken.label}: {broken.reason}")
        if not result.ok:
            raise CommandError("bulletin chain broken", returncode=1)
