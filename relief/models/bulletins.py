"""Which published usage announcement (使用公告) listed which disbursement.

The donations app composes and publishes bulletins; relief adds its disbursements to a usage
announcement through the bulletins' registry (``register_usage_lines`` in
``donations.services.bulletins.compose``) and records here, on publication, each disbursement the
announcement counted: so a disbursement confirmed late is published once, in the next
announcement of the same scope, and a project's page can list the announcements that published it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class BulletinAid(models.Model):
    """A disbursement counted (as a project's totals, never by name) in a published usage announcement."""

    bulletin = models.ForeignKey(
        "donations.Bulletin", verbose_name=_("公示"), on_delete=models.PROTECT, related_name="relief_aid_links"
    )
    aid = models.ForeignKey(
        "relief.Aid", verbose_name=_("救助发放"), on_delete=models.PROTECT, related_name="bulletin_links"
    )

    class Meta:
        verbose_name = _("公告的救助发放")
        verbose_name_plural = _("公告的救助发放")
        constraints = [models.UniqueConstraint(fields=["bulletin", "aid"], name="relief_bulletin_aid_once")]

    def __str__(self) -> str:
        return f"{self.bulletin_id} → {self.aid_id}"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("公示记录不能删除"))
