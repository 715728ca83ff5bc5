"""The training sections of the monthly and annual reports: sessions held and people trained by
kind and audience for the period (本级 and 全市系统), the plan as the annual target, and the
year's plan vs actual up to the end of the period."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from reports.periods import ReportPeriod
from reports.registry import registry
from reports.selectors import report_build
from tests.reports.helpers import export_bytes, read_xlsx
from tests.training.conftest import make_certificate, make_person
from training.models import SessionStatus
from training.services.plans import plan_target_set, training_plan_create
from training.services.sessions import attendance_record, session_create, session_set_status

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1  # a whole past year: every month of it may be reported


def _at(month: int, day: int = 10, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(YEAR, month, day, hour))


def _held(branch, by, instructor, *, month, trainees=0, kind="first_aider", audience="community", **extra):
    session = session_create(
        branch=branch, title="班", kind=kind, audience=audience, venue="中心", starts_at=_at(month),
        ends_at=_at(month, hour=17), capacity=max(trainees, 1), instructors=[instructor], by=by, **extra,
    )  # fmt: skip
    if not session.is_outdoor:
        session_set_status(session=session, status=SessionStatus.OPEN, by=by)
    session_set_status(
        session=session, status=SessionStatus.HELD, by=by, **({"people_reached": 300} if session.is_outdoor else {})
    )
    for n in range(trainees):
        attendance_record(session=session, person=make_person(branch, name=f"学员{n}"), hours_attended=1, by=by)
    return session


@pytest.fixture
def year_of_training(branch_tree, city_staff):
    city, east = branch_tree["city"], branch_tree["east"]
    instructor = make_person(city, name="张老师")
    make_certificate(instructor, expires_on=datetime.date(YEAR + 3, 1, 1))
    plan = training_plan_create(branch=city, year=YEAR, title="年度计划", by=city_staff)
    plan_target_set(plan=plan, kind="first_aider", audience="community", sessions=4, people=100, by=city_staff)
    plan_target_set(plan=plan, kind="awareness", audience="school", sessions=2, people=1000, by=city_staff)
    _held(city, city_staff, instructor, month=3, trainees=3)
    _held(city, city_staff, instructor, month=5, trainees=2)
    _held(east, city_staff, instructor, month=3, trainees=4)
    _held(city, city_staff, instructor, month=3, kind="awareness", audience="school", is_outdoor=True)
    # not held: never counted
    session_create(
        branch=city, title="计划中", kind="first_aider", audience="community", venue="中心", starts_at=_at(3, 20),
        ends_at=_at(3, 20, 17), capacity=30, instructors=[instructor], by=city_staff,
    )  # fmt: skip
    return city


def _rows(section_key, period, branch, scope):
    return list(registry.get(section_key).rows(period, branch, scope))


def test_the_sections_are_registered_in_report_order():
    keys = [section.key for section in registry.sections()]
    assert keys.index("training_by_kind") < keys.index("training_plan_progress")


def test_sessions_and_people_by_kind_and_audience_for_a_month(year_of_training, branch_tree):
    march = ReportPeriod.month_of(f"{YEAR}-03")
    own = {(row["kind"], row["audience"]): (row["sessions"], row["people"]) for row in _rows(
        "training_by_kind", march, year_of_training, "own")}  # fmt: skip
    assert own == {("awareness", "school"): (1, 300), ("first_aider", "community"): (1, 3)}
    system = {(row["kind"], row["audience"]): (row["sessions"], row["people"]) for row in _rows(
        "training_by_kind", march, year_of_training, "system")}  # fmt: skip
    assert system == {("awareness", "school"): (1, 300), ("first_aider", "community"): (2, 7)}
    may = _rows("training_by_kind", ReportPeriod.month_of(f"{YEAR}-05"), year_of_training, "system")
    assert [(row["sessions"], row["people"]) for row in may] == [(1, 2)]


def test_plan_progress_counts_the_year_up_to_the_end_of_the_period(year_of_training):
    march = {row["kind"]: row for row in _rows(
        "training_plan_progress", ReportPeriod.month_of(f"{YEAR}-03"), year_of_training, "system")}  # fmt: skip
    assert (march["first_aider"]["held_sessions"], march["first_aider"]["people_trained"]) == (2, 7)
    assert march["first_aider"]["people_percent"] == 7
    year = {row["kind"]: row for row in _rows(
        "training_plan_progress", ReportPeriod.year_of(YEAR), year_of_training, "system")}  # fmt: skip
    first_aider = year["first_aider"]
    assert (first_aider["planned_sessions"], first_aider["held_sessions"]) == (4, 3)
    assert (first_aider["planned_people"], first_aider["people_trained"], first_aider["people_percent"]) == (100, 9, 9)
    assert (year["awareness"]["people_trained"], year["awareness"]["people_percent"]) == (300, 30)


def test_the_annual_report_sets_the_plan_beside_the_people_trained(year_of_training):
    report = report_build(period=ReportPeriod.year_of(YEAR), branch=year_of_training, scope="system")
    sheets = read_xlsx(export_bytes(report, "xlsx"))
    title = report.section("training_by_kind").title
    table = sheets[title]
    header = next(row for row in table if row and "培训人数" in [str(cell) for cell in row])
    assert "计划人数" in header
    body = [row for row in table[table.index(header) + 1 :] if row and row[0] == "救护员培训"]
    assert body and body[0][header.index("培训人数")] == 9
    assert body[0][header.index("计划人数")] == 100


def test_a_branch_without_training_gets_empty_sections(branch_tree):
    assert _rows("training_by_kind", ReportPeriod.year_of(YEAR), branch_tree["west"], "system") == []
    assert _rows("training_plan_progress", ReportPeriod.year_of(YEAR), branch_tree["west"], "system") == []


def test_the_sections_read_a_fixed_number_of_queries(year_of_training, django_assert_max_num_queries):
    period = ReportPeriod.year_of(YEAR)
    with django_assert_max_num_queries(6):
        _rows("training_by_kind", period, year_of_training, "system")
        _rows("training_plan_progress", period, year_of_training, "system")


def test_certificates_equipment_and_aeds_in_the_report(branch_tree, city_staff):
    """Certificates issued (a renewal among them), revoked and expired; equipment bought and
    distributed; the AED registry per branch with those needing attention and the checks."""
    from tests.training.test_exams_and_certificates import held_session, trainee
    from training.services.aeds import aed_check_record, aed_register
    from training.services.certificates import certificate_issue, certificate_revoke
    from training.services.equipment import equipment_batch_register, equipment_distribute, equipment_site_save

    city, east = branch_tree["city"], branch_tree["east"]
    instructor = make_person(city, name="张老师")
    make_certificate(instructor, expires_on=timezone.localdate() + datetime.timedelta(days=900))
    session = held_session(city, city_staff, instructor)
    first, second = trainee(session, city_staff, name="甲"), trainee(session, city_staff, name="乙")
    certificate_issue(session=session, person=first, by=city_staff)
    revoked = certificate_issue(session=session, person=second, by=city_staff)
    certificate_revoke(certificate=revoked, reason="冒名", by=city_staff)
    today = timezone.localdate()
    batch = equipment_batch_register(
        branch=city, kind="aed", quantity=5, funding_line="lottery", purchased_on=today, by=city_staff
    )
    school = equipment_site_save(branch=east, name="东区一小", kind="school", by=city_staff)
    equipment_distribute(
        batch=batch, site=school, quantity=2, distributed_on=today, received_by_name="校长", by=city_staff
    )
    checked = aed_register(branch=east, place="东区体育馆", address="东路 1 号", latitude="30.2", longitude="120.1",
                           by=city_staff)  # fmt: skip
    aed_check_record(aed=checked, checked_on=today, result="ready", by=city_staff)
    aed_register(
        branch=east, place="东区图书馆", address="东路 2 号", latitude="30.3", longitude="120.2", by=city_staff
    )

    month = ReportPeriod.month_of(f"{today:%Y-%m}")
    certificates = {row["kind"]: row for row in _rows("training_certificates", month, city, "system")}
    assert (certificates["first_aider"]["issued"], certificates["first_aider"]["revoked"]) == (2, 1)
    assert certificates["first_aider"]["renewed"] == 0
    equipment = _rows("training_equipment", month, city, "system")
    assert [(row["kind"], row["bought"], row["distributed"], row["sites"]) for row in equipment] == [("aed", 5, 2, 1)]
    assert (
        _rows("training_equipment", month, east, "own")
        == [{"kind": "aed", "kind_label": "AED", "bought": 0, "distributed": 0, "sites": 0}]
        or _rows("training_equipment", month, east, "own") == []
    )
    aeds = _rows("training_aeds", month, city, "system")
    assert [(row["branch_name"], row["in_service"], row["due"], row["checks"]) for row in aeds] == [
        (east.name, 2, 1, 1)
    ]
    assert _rows("training_aeds", month, city, "own") == []
