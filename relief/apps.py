from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("人道救助")

    def ready(self) -> None:
        from redcross.navigation import PublicSection, register_public_section

        register_public_section(
            PublicSection(
                "relief",
                _("人道救助"),
                _("救助项目的到账、发放和受助户数（只公布人数）；在线申请救助，凭申请编号查询办理进度。"),
                "relief:projects",
                order=50,
            )
        )
