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
        register_public_section(
            PublicSection(
                "aeds",
                _("查找 AED"),
                _("离您最近的自动体外除颤器（AED）：位置、开放时间、室内或室外；以及经本人同意公开的成功救人案例。"),
                "training:aeds",
                order=40,
            )
        )
