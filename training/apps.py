from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("应急救护培训")

    def ready(self) -> None:
        from redcross.navigation import PublicSection, register_public_section

        register_public_section(
            PublicSection(
                "training",
                _("培训报名"),
                _("应急救护培训课程日历：按地区和类别查找正在报名的培训班，在线报名，名额满后候补。"),
                "training:calendar",
                order=30,
            )
        )
