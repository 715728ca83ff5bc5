"""Every staff change in the training app is audited: each of its models keeps a history
(django-simple-history), and a service write names the user who made it."""

from __future__ import annotations

import pytest
from django.apps import apps

from tests.training.conftest import at
from training.services.sessions import session_create, session_set_status

# rows no member of staff writes: none yet; a model added here needs a reason
NOT_AUDITED: set[str] = set()


def test_every_training_model_keeps_a_history():
    models = [
        model for model in apps.get_app_config("training").get_models() if not model.__name__.startswith("Historical")
    ]
    missing = [model._meta.label for model in models if not hasattr(model, "history")]
    assert sorted(set(missing) - NOT_AUDITED) == []
    assert len(models) >= 7


@pytest.mark.django_db
def test_a_service_write_names_its_user(branch_tree, city_staff, instructor):
    session = session_create(
        branch=branch_tree["city"], title="班", kind="first_aider", audience="community", venue="中心",
        starts_at=at(5), ends_at=at(5, 17), capacity=20, instructors=[instructor], by=city_staff,
    )  # fmt: skip
    session_set_status(session=session, status="open", by=city_staff)
    latest = session.history.first()
    assert (latest.history_user, latest.status, latest.history_type) == (city_staff, "open", "~")
