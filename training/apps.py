from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("应急救护培训")

    def ready(self) -> None:
        from redcross.navigation import PublicSection, register_public_section

        register_public_section(
            PublicSection(
                "aeds",
                _("查找 AED"),
                _("离您最近的自动体外除颤器（AED）：位置、开放时间、室内或室外；以及经本人同意公开的成功救人案例。"),
                "training:aeds",
                order=40,
            )
        )
