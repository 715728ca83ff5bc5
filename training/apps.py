from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("应急救护培训")

    def ready(self) -> None:
        # the beat entry and the PDF render name training tasks, which must be registered in every process
        from redcross.verification import register_verifiable
        from training import tasks  # noqa: F401
        from training.models import Certificate

        # the portal's own certificates on the one verification page; those recorded from another
        # body (most 师资证 come from the provincial branch) are checked there, not here
        register_verifiable(
            Certificate, template="training/certificate_verify.html", queryset=Certificate.objects.issued_here
        )
