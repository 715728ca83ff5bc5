"""Create the staff role groups (DESIGN.md section 1).

Permissions of models that exist now are attached here; a post_migrate
handler (redcross.apps) tops them up whenever later migrations add models.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from redcross.roles import sync_roles

    # permissions are normally created after all migrations; create them now so the groups get them
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_role_groups(apps, schema_editor):
    from redcross.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=[role.name for role in ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("redcross", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
