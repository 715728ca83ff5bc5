from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("捐赠")

    def ready(self) -> None:
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
