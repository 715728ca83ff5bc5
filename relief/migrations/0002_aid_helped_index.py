# The public project page counts the households helped by district from the disbursements alone:
# (project, status, purpose, branch, beneficiary) lets PostgreSQL answer it with an index-only scan
# (50,000 households: no lookup of the register). Its first two columns replace relief_aid_project.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("relief", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="aid",
            name="relief_aid_project",
        ),
        migrations.AddIndex(
            model_name="aid",
            index=models.Index(
                fields=["project", "status", "purpose", "branch", "beneficiary"], name="relief_aid_helped"
            ),
        ),
    ]
