import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from redcross.models import Branch, BranchLevel, GrassrootsKind
from redcross.selectors import (
    BranchScope,
    branch_ids_for_scope,
    branch_subtree,
    city_branch,
    filter_by_branch_scope,
)
from tests.factories import CountyBranchFactory, GrassrootsBranchFactory

pytestmark = pytest.mark.django_db


def test_subtree_is_branch_and_everything_below(branch_tree):
    east = branch_tree["east"]
    assert set(branch_subtree(east)) == {east, branch_tree["east_school"]}
    assert set(branch_subtree(branch_tree["city"])) == set(branch_tree.values())
    assert city_branch() == branch_tree["city"]


def test_own_and_system_scope(branch_tree):
    east = branch_tree["east"]
    assert branch_ids_for_scope(east, BranchScope.OWN) == [east.pk]
    assert set(branch_ids_for_scope(east, BranchScope.SYSTEM)) == {east.pk, branch_tree["east_school"].pk}
    # the same through a related lookup, as totals of other apps will use it
    users_branches = Branch.objects.all()
    own = filter_by_branch_scope(users_branches, east, "own", branch_field="id")
    system = filter_by_branch_scope(Branch.objects.all(), east, BranchScope.SYSTEM, branch_field="parent")
    assert list(own) == [east]
    assert list(system) == [branch_tree["east_school"]]


def test_subtree_prefix_does_not_leak_into_siblings_with_similar_ids(branch_tree):
    # "/1/2/" must not match "/1/21/": the trailing slash in the path prevents it
    city = branch_tree["city"]
    many = [CountyBranchFactory(parent=city) for _ in range(25)]
    first = many[0]
    assert set(branch_subtree(first)) == {first}


def test_moving_a_branch_moves_its_subtree(branch_tree):
    school = branch_tree["east_school"]
    GrassrootsBranchFactory(parent=school.parent)  # sibling, must stay
    school.parent = branch_tree["west"]
    school.full_clean()
    school.save()
    school.refresh_from_db()
    assert school.path.startswith(branch_tree["west"].path)
    assert school in branch_subtree(branch_tree["west"])
    assert school not in branch_subtree(branch_tree["east"])


def test_moving_a_district_updates_descendant_paths(branch_tree):
    city = branch_tree["city"]
    east, school = branch_tree["east"], branch_tree["east_school"]
    new_parent_school = GrassrootsBranchFactory(parent=city, code="NEWG")
    # a grassroots branch cannot hold a district: refused
    east.parent = new_parent_school
    with pytest.raises(ValidationError) as excinfo:
        east.full_clean()
    assert "parent" in excinfo.value.message_dict
    # a grassroots branch moved under the city keeps its own children's paths right
    school.parent = city
    school.save()
    assert Branch.objects.get(pk=school.pk).path == f"{city.path}{school.pk}/"


def test_cycle_is_refused(branch_tree):
    east, school = branch_tree["east"], branch_tree["east_school"]
    east.level = BranchLevel.GRASSROOTS
    east.grassroots_kind = GrassrootsKind.OTHER
    east.parent = school
    with pytest.raises(ValidationError) as excinfo:
        east.full_clean()
    assert "parent" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("level", "kind", "field"),
    [
        (BranchLevel.GRASSROOTS, "", "grassroots_kind"),
        (BranchLevel.COUNTY, GrassrootsKind.SCHOOL, "grassroots_kind"),
    ],
)
def test_grassroots_kind_rules(branch_tree, level, kind, field):
    branch = Branch(name="新组织", code="NEW1", level=level, grassroots_kind=kind, parent=branch_tree["city"])
    with pytest.raises(ValidationError) as excinfo:
        branch.full_clean()
    assert field in excinfo.value.message_dict


def test_only_one_city_branch(branch_tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Branch.objects.create(name="另一个市", code="XX", level=BranchLevel.CITY)


def test_county_needs_a_parent_in_the_database_too(branch_tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Branch.objects.create(name="无上级区", code="YY", level=BranchLevel.COUNTY)


@pytest.mark.parametrize("code", ["x", "lower", "TOOLONGCODE", "1AB", "A-B", "<script>"])
def test_bad_codes_are_refused_naming_the_field(branch_tree, code):
    branch = Branch(name="新组织", code=code, level=BranchLevel.COUNTY, parent=branch_tree["city"])
    with pytest.raises(ValidationError) as excinfo:
        branch.full_clean()
    assert "code" in excinfo.value.message_dict


def test_branches_are_never_deleted(branch_tree):
    with pytest.raises(ValidationError):
        branch_tree["west_school"].delete()
    assert Branch.objects.filter(pk=branch_tree["west_school"].pk).exists()


# --- containment: Branch.is_within and Branch.within_q, the one rule --------------------------


def test_is_within_and_within_q_agree_on_every_pair(branch_tree):
    """The Python test and the filter are one rule: for every pair of branches (siblings with
    similar ids included) they give the same answer, and it is the tree's answer."""
    city = branch_tree["city"]
    similar = [CountyBranchFactory(parent=city) for _ in range(11)]  # ids 1x next to 1
    branches = list(Branch.objects.all())
    below = {
        branch_tree["city"]: set(branches),
        branch_tree["east"]: {branch_tree["east"], branch_tree["east_school"]},
        branch_tree["west"]: {branch_tree["west"], branch_tree["west_school"]},
        branch_tree["east_school"]: {branch_tree["east_school"]},
        similar[0]: {similar[0]},
    }
    for ancestor in branches:
        in_python = {branch for branch in branches if branch.is_within(ancestor)}
        in_sql = set(Branch.objects.filter(Branch.within_q(ancestor)))
        assert in_python == in_sql, ancestor
        if ancestor in below:
            assert in_python == below[ancestor], ancestor
    assert branch_tree["east"].is_within(branch_tree["east"])
    assert not branch_tree["city"].is_within(branch_tree["east"])


def test_within_q_through_a_relation(branch_tree):
    east = branch_tree["east"]
    children = Branch.objects.filter(Branch.within_q(east, "parent"))
    assert set(children) == {branch_tree["east_school"]}


def test_an_unsaved_branch_contains_nothing_rather_than_everything(branch_tree):
    unsaved = Branch(name="未保存", code="UNS", level=BranchLevel.COUNTY, parent=branch_tree["city"])
    with pytest.raises(ValueError):
        branch_tree["east"].is_within(unsaved)
    with pytest.raises(ValueError):
        Branch.within_q(unsaved)


def test_no_module_reads_the_path_as_a_tree_by_itself():
    """``path.startswith`` / ``path__startswith`` appear only in redcross/models/core.py (Branch)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    allowed = {"redcross/models/core.py"}
    offenders = []
    for app in ("redcross", "donations", "reports", "relief", "training", "registries", "membership",
                "volunteers", "publicity"):  # fmt: skip
        for path in (root / app).rglob("*.py"):
            name = str(path.relative_to(root))
            if "migrations" in path.parts or name in allowed:
                continue
            text = path.read_text(encoding="utf-8")
            if ".path.startswith(" in text.replace("request.path.startswith(", "") or "path__startswith" in text:
                offenders.append(name)
    assert offenders == []


def test_lineage_ids_are_the_branch_and_every_branch_above_it(branch_tree):
    school, east, city = branch_tree["east_school"], branch_tree["east"], branch_tree["city"]
    assert Branch.lineage_ids(school.path) == [city.pk, east.pk, school.pk]
    assert Branch.lineage_ids(city.path) == [city.pk] and Branch.lineage_ids("") == []
