from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("应急救护培训")

    def ready(self) -> None:
        # the beat entry and the PDF render name training tasks, which must be registered in every process
        from redcross.navigation import PublicSection, register_public_section
        from redcross.verification import register_verifiable
        from training import tasks  # noqa: F401
        from training.models import Certificate

        # the portal's own certificates on the one verification page; those recorded from another
        # body (most 师资证 come from the provincial branch) are checked there, not here
        register_verifiable(
            Certificate, template="training/certificate_verify.html", queryset=Certificate.objects.issued_here
        )
        register_public_section(
            PublicSection(
                "training",
                _("培训报名"),
                _("应急救护培训课程日历：按地区和类别查找正在报名的培训班，在线报名，名额满后候补。"),
                "training:calendar",
                order=30,
            )
        )
        register_public_section(
            PublicSection(
                "aeds",
                _("查找 AED"),
                _("离您最近的自动体外除颤器（AED）：位置、开放时间、室内或室外；以及经本人同意公开的成功救人案例。"),
                "training:aeds",
                order=40,
            )
        )
