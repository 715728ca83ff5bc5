from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("捐赠")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # the kept campaign figures start empty when their tables arrive (migration 0013): fill them
        # once from the ledgers, so an existing portal's pages never show zeros after the upgrade
        post_migrate.connect(fill_kept_figures_once, sender=self)
        # the beat entries name donations tasks, which must be registered in every process
        from donations import tasks  # noqa: F401
        from donations.models import Certificate
        from donations.selectors.lookup import certificate_verification_context, public_certificates
        from redcross.navigation import PublicSection, register_public_section
        from redcross.verification import register_verifiable

        # the donation certificate is checked on the one verification page, like every numbered document
        register_verifiable(
            Certificate,
            template="donations/certificate_verify.html",
            queryset=public_certificates,
            context=certificate_verification_context,
        )

        register_public_section(
            PublicSection(
                "disclosure",
                _("信息公开"),
                _("捐赠款物接收公示、使用公告、爱心榜单和年度工作报告：每一笔捐赠从哪里来、到哪里去。"),
                "disclosure:index",
                order=10,
            )
        )
        register_public_section(
            PublicSection(
                "lookup",
                _("捐赠查询"),
                _("凭捐赠流水号和预留手机号后四位，查询您的捐赠及其去向，下载捐赠票据和电子捐赠证书。"),
                "donations:lookup",
                order=20,
            )
        )


def fill_kept_figures_once(sender, using: str = "default", **kwargs) -> None:
    """After ``migrate``: rebuild the kept figures from the ledgers when there are none yet but
    the ledgers hold confirmed gifts or allocations (an upgrade); otherwise nothing (two queries)."""
    from donations.models import Allocation, CampaignDayFigures, Donation
    from donations.services.figures import rebuild_kept_figures

    if using != "default" or CampaignDayFigures.objects.exists():
        return
    if Donation.objects.public().exists() or Allocation.objects.exists():
        rebuild_kept_figures()
