"""redcross.compiled: a queryset compiled once, run again with new values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from redcross import compiled
from redcross.compiled import compiled_values
from redcross.models import Branch

pytestmark = pytest.mark.django_db

MARK = -777_000_111


def _branches_from(shape, *, lowest: int):
    return Branch.objects.filter(pk__gte=lowest).order_by("pk").values_list("pk", "code")[:shape]


def _created_after(shape, *, since):
    return Branch.objects.filter(created_at__gte=since).order_by("pk").values_list("pk", "created_at")[:shape]


def test_the_sql_is_compiled_once_and_each_call_gets_its_own_values(branch_tree, django_assert_num_queries):
    compiled._compiled.clear()
    pks = sorted(branch.pk for branch in branch_tree.values())
    first = compiled_values(_branches_from, shape=10, placeholders={"lowest": MARK}, values={"lowest": pks[0]})
    assert [pk for pk, _code in first] == pks
    with django_assert_num_queries(1):
        later = compiled_values(_branches_from, shape=10, placeholders={"lowest": MARK}, values={"lowest": pks[2]})
    assert [pk for pk, _code in later] == pks[2:]
    assert len(compiled._compiled) == 1


def test_datetimes_are_passed_and_read_back_as_the_orm_does(branch_tree):
    # SQLite takes and returns datetimes as text: the ORM's adaptation and converters apply
    since = timezone.now() - timedelta(days=1)
    mark = since.replace(year=1901)
    rows = compiled_values(_created_after, shape=10, placeholders={"since": mark}, values={"since": since})
    assert rows == list(_created_after(10, since=since))
    assert all(created.tzinfo is not None for _pk, created in rows)


def test_a_placeholder_that_never_reaches_the_sql_is_refused(branch_tree):
    with pytest.raises(ValueError, match="lowest"):
        compiled_values(
            lambda shape, lowest: Branch.objects.values_list("pk")[:shape],
            shape=1, placeholders={"lowest": MARK}, values={"lowest": 1},
        )  # fmt: skip
