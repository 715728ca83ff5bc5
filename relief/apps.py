from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("人道救助")

    def ready(self) -> None:
        # the beat entry names the relief books task, which must be registered in every process
        from donations.selectors.trace import register_trace_outcome
        from donations.services.bulletins.compose import register_usage_lines
        from redcross.navigation import PublicSection, register_public_section
        from relief import tasks  # noqa: F401
        from relief.selectors.bulletins import relief_usage_lines
        from relief.selectors.public import project_trace_outcomes
        from relief.services.bulletins import bulletin_aids_record

        # a donor's trace ends at the project its allocation funded: "helped 195 households"
        register_trace_outcome("relief", project_trace_outcomes)
        # a usage announcement lists each project's disbursements in its period: counts and totals
        register_usage_lines("relief", relief_usage_lines, bulletin_aids_record)

        register_public_section(
            PublicSection(
                "relief",
                _("人道救助"),
                _("救助项目的到账、发放和受助户数（只公布人数）；在线申请救助，凭申请编号查询办理进度。"),
                "relief:projects",
                order=50,
            )
        )
