from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        # every installed app may contribute sections from its own <app>/report_sections.py
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("report_sections")
        # the beat entry "reports-monthly" names a task that must be registered in every process
        from reports import tasks  # noqa: F401
