from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class RedCrossAdminConfig(admin_apps.AdminConfig):
    default = False  # listed by its full path in INSTALLED_APPS
    default_site = "redcross.admin_site.RedCrossAdminSite"


def _forget_portal_facts(sender, **kwargs) -> None:
    from redcross.site import forget_portal_name

    forget_portal_name()


def _sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    from redcross.roles import sync_roles

    sync_roles(Group.objects.db_manager(using).model, Permission)


class RedcrossConfig(AppConfig):
    default = True
    name = "redcross"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from redcross import audit  # noqa: F401  (connects the history signal)

        # every installed app may declare its workbench to-do lines in <app>/workbench.py
        autodiscover_modules("workbench")

        # after auth's own handler created the permissions of every model
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="redcross_sync_roles")
        # a saved branch may be the city branch, whose facts every page shows
        post_save.connect(_forget_portal_facts, sender="redcross.Branch", dispatch_uid="redcross_forget_portal_facts")
