from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("人道救助")

    def ready(self) -> None:
        # the beat entry names the relief books task, which must be registered in every process
        from donations.selectors.trace import register_trace_outcome
        from redcross.navigation import PublicSection, register_public_section
        from relief import tasks  # noqa: F401
        from relief.selectors.public import project_trace_outcomes

        # a donor's trace ends at the project its allocation funded: "helped 195 households"
        register_trace_outcome("relief", project_trace_outcomes)

        register_public_section(
            PublicSection(
                "relief",
                _("人道救助"),
                _("救助项目的到账、发放和受助户数（只公布人数）；在线申请救助，凭申请编号查询办理进度。"),
                "relief:projects",
                order=50,
            )
        )
