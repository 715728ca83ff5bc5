"""The public course pages: the calendar and its filters, a session's page, the iCalendar feeds,
registration through the public-form pattern (bad input, honeypot, duplicates, closed sessions)
and the registrant's private page (status, phone change, cancellation, wrong tokens)."""

from __future__ import annotations

import datetime
import re

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from redcross.models import ConsentRecord, Person
from tests.factories import StaffFactory
from tests.training.conftest import at
from tests.training.registration_helpers import consent_text, open_session, person
from training.models import CourseKind, Registration, RegistrationStatus, Session, SessionStatus
from training.services.registration import registration_create
from training.services.sessions import session_create, session_set_status

pytestmark = pytest.mark.django_db

CALENDAR = "/training/"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def text(branch_tree):
    return consent_text()


@pytest.fixture
def session(branch_tree, officer, instructor):
    return open_session(
        branch_tree["east"], officer, instructor, capacity=2, latitude="30.259000", longitude="120.160000"
    )


def _data(text, **overrides):
    data = {
        "name": "张三",
        "phone": "139 1234 5678",
        "id_number": ID_NUMBER,
        "birth_date": "",
        "consent": "on",
        "consent_version": str(text.version),
        "website": "",
    }
    data.update(overrides)
    return data


def _register_url(session):
    return f"/training/sessions/{session.pk}/register/"


def _link(page: str) -> str:
    return re.search(r'href="http://testserver(/training/r/[^"]+/)"', page).group(1)


def _nothing_written():
    assert Registration.objects.count() == 0
    assert Person.objects.filter(training_registrations__isnull=False).count() == 0
    assert ConsentRecord.objects.count() == 0


# --- the calendar ---------------------------------------------------------------------------


def test_the_calendar_lists_upcoming_open_sessions_only(client, branch_tree, officer, instructor, session):
    started = open_session(branch_tree["east"], officer, instructor, title="已开课的班", days=-1)
    planned = session_create(
        branch=branch_tree["west"], title="计划中的班", kind=CourseKind.FIRST_AIDER, audience="community",
        venue="礼堂", starts_at=at(5), ends_at=at(5, 17), capacity=5, instructors=[instructor], by=officer,
    )  # fmt: skip
    page = client.get(CALENDAR).content.decode()
    assert session.title in page and f"/training/sessions/{session.pk}/" in page
    assert started.title not in page and planned.title not in page
    assert 'data-label="开课时间"' in page and 'class="roll stack sessions"' in page
    # the navigation leads here
    assert 'href="/training/"' in client.get("/").content.decode()


def test_the_calendar_filters_by_district_with_its_subtree_and_by_kind(client, branch_tree, officer, instructor):
    east = open_session(branch_tree["east"], officer, instructor, title="东区救护员班")
    school = open_session(branch_tree["east_school"], officer, instructor, title="东区一中普及班", kind="awareness")
    west = open_session(branch_tree["west"], officer, instructor, title="西区救护员班")
    page = client.get(CALENDAR, {"district": branch_tree["east"].code}).content.decode()
    assert east.title in page and school.title in page and west.title not in page
    page = client.get(CALENDAR, {"district": branch_tree["east"].code, "kind": "awareness"}).content.decode()
    assert school.title in page and east.title not in page
    # unknown filters are ignored, never an error
    page = client.get(CALENDAR, {"district": "<script>", "kind": "x" * 500}).content.decode()
    assert east.title in page and west.title in page and "<script>" not in page
    assert client.get(CALENDAR, {"cursor": "forged"}).status_code == 404


def test_the_calendar_shows_seats_left_and_the_waitlist(client, branch_tree, session):
    registration_create(session=session, person=person(branch_tree["east"]))
    page = client.get(CALENDAR).content.decode()
    assert "尚余 1 / 2" in page
    for _ in range(3):
        registration_create(session=session, person=person(branch_tree["east"]))
    page = client.get(CALENDAR).content.decode()
    assert "已满" in page and "2 人候补" in page


def test_the_calendar_costs_the_same_queries_for_3_or_40_sessions_and_pages(client, branch_tree, officer, instructor):
    for n in range(3):
        s = open_session(branch_tree["east"], officer, instructor, title=f"班{n}", days=n + 1)
        registration_create(session=s, person=person(branch_tree["east"]))
    client.get(CALENDAR)  # warm the site's cached facts
    with CaptureQueriesContext(connection) as few:
        client.get(CALENDAR)
    for n in range(37):
        s = open_session(branch_tree["west"], officer, instructor, title=f"西{n}", days=n + 5)
        registration_create(session=s, person=person(branch_tree["west"]))
    with CaptureQueriesContext(connection) as many:
        page = client.get(CALENDAR).content.decode()
    assert len(many) == len(few) <= 4, [q["sql"] for q in many.captured_queries]
    # thirty a page; the next page continues where the first ended
    assert page.count('data-label="培训班"') == 30
    cursor = re.search(r'cursor=([^"&]+)"', page).group(1).replace("%3A", ":")
    second = client.get(CALENDAR, {"cursor": cursor}).content.decode()
    assert second.count('data-label="培训班"') == 10


# --- a session's page and the feeds ----------------------------------------------------------


def test_a_sessions_page_shows_facts_and_seats_and_never_a_person(client, branch_tree, session, instructor):
    someone = person(branch_tree["east"], "钱多多")
    registration_create(session=session, person=someone)
    page = client.get(f"/training/sessions/{session.pk}/").content.decode()
    assert session.title in page and session.venue in page and "16" in page
    assert 'data-seats="1"' in page and "openstreetmap.org/?mlat=30.259000" in page
    assert f"/training/sessions/{session.pk}/register/" in page
    for secret in ("钱多多", someone.phone, instructor.name, instructor.phone):
        assert secret not in page


def test_planned_and_outdoor_sessions_have_no_public_page(client, branch_tree, officer, instructor):
    planned = session_create(
        branch=branch_tree["east"], title="计划中", kind=CourseKind.FIRST_AIDER, audience="community",
        venue="礼堂", starts_at=at(5), ends_at=at(5, 17), capacity=5, instructors=[instructor], by=officer,
    )  # fmt: skip
    outdoor = session_create(
        branch=branch_tree["east"], title="广场普及", kind=CourseKind.AWARENESS, audience="community",
        venue="广场", starts_at=at(5), ends_at=at(5, 12), is_outdoor=True, by=officer,
    )  # fmt: skip
    for target in (planned, outdoor):
        assert client.get(f"/training/sessions/{target.pk}/").status_code == 404
        assert client.get(f"/training/sessions/{target.pk}.ics").status_code == 404
        assert client.get(_register_url(target)).status_code == 404
    assert client.get("/training/sessions/999999/").status_code == 404


def test_the_icalendar_feed_lists_public_sessions(client, branch_tree, officer, instructor, session):
    registration_create(session=session, person=person(branch_tree["east"], "孙小美"))
    west = open_session(branch_tree["west"], officer, instructor, title="西区救护员班")
    held = open_session(branch_tree["west"], officer, instructor, title="上周的班", days=-7)
    session_set_status(session=held, status=SessionStatus.HELD, by=officer)
    old = open_session(branch_tree["west"], officer, instructor, title="两个月前的班", days=-60)
    response = client.get("/training/calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {session.title, west.title, held.title}
    assert old.title not in events
    event = events[session.title]
    assert str(event["UID"]).startswith(f"training-session-{session.pk}@")
    assert str(event["LOCATION"]) == session.venue
    assert str(event["URL"]) == f"http://testserver/training/sessions/{session.pk}/"
    assert event.decoded("DTSTART") == timezone.localtime(session.starts_at)
    assert (event["GEO"].latitude, event["GEO"].longitude) == (30.259, 120.16)
    body = response.content.decode()
    assert "孙小美" not in body and instructor.phone not in body
    # a district's feed, and one session's
    district = icalendar.Calendar.from_ical(client.get("/training/calendar.ics", {"district": "CSE"}).content)
    assert [str(e["SUMMARY"]) for e in district.walk("VEVENT")] == [session.title]
    single = icalendar.Calendar.from_ical(client.get(f"/training/sessions/{session.pk}.ics").content)
    assert [str(e["SUMMARY"]) for e in single.walk("VEVENT")] == [session.title]


# --- registration through the public form ----------------------------------------------------


def test_a_registration_takes_a_seat_records_consent_and_gives_a_private_link(client, text, session):
    page = client.get(_register_url(session)).content.decode()
    assert session.title in page and "尚余 2 个名额" in page and text.title in page
    response = client.post(_register_url(session), _data(text))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex" and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "报名成功" in page and "已为您保留名额" in page
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.REGISTERED
    assert registration.person.id_number == ID_NUMBER and registration.person.phone == "13912345678"
    assert registration.person.branch == session.branch
    record = ConsentRecord.objects.get()
    assert registration.consent == record and record.person == registration.person
    assert (record.purpose, record.method, record.branch) == ("training-registration", "online", session.branch)
    assert _link(page) == f"/training/r/{registration.management_token}/"


def test_a_full_session_puts_the_registrant_on_the_waitlist_with_their_place(client, text, session, branch_tree):
    for _ in range(3):
        registration_create(session=session, person=person(branch_tree["east"]))
    page = client.get(_register_url(session)).content.decode()
    assert "名额已满" in page
    page = client.post(_register_url(session), _data(text)).content.decode()
    assert "已进入候补" in page and "候补第 2 位" in page
    assert Registration.objects.get(person__name="张三").status == RegistrationStatus.WAITLISTED


@pytest.mark.parametrize(
    ("overrides", "label", "message"),
    [
        ({"id_number": "110105194912310022"}, "居民身份证号码", "校验位不正确"),
        ({"id_number": ""}, "居民身份证号码", "必填"),
        ({"birth_date": (datetime.date.today() + datetime.timedelta(days=1)).isoformat()}, "出生日期", "不能晚于今天"),
        ({"name": "张" * 10_000}, "姓名", "50"),
        ({"name": '<script>alert("x")</script>'}, "姓名", "不能包含"),
        ({"phone": "12345"}, "手机号码", "有效的手机号码"),
        ({"phone": ""}, "手机号码", "必填"),
        ({"consent": ""}, "培训报名个人信息处理同意书", "请阅读并勾选"),
        ({"id_number": ID_NUMBER, "birth_date": "1950-01-01"}, "出生日期", "与身份证号码不一致"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, text, session, overrides, label, message):
    response = client.post(_register_url(session), _data(text, **overrides))
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('id="signup-errors"')
    summary = page[start : page.index("</ul>", start)]
    assert label in summary and message in summary, summary
    assert "<script>alert" not in page
    _nothing_written()


def test_an_awareness_course_needs_no_id_number(client, text, branch_tree, officer, instructor):
    awareness = open_session(branch_tree["east"], officer, instructor, kind="awareness", title="普及班")
    page = client.post(_register_url(awareness), _data(text, id_number="")).content.decode()
    assert "报名成功" in page
    assert Registration.objects.get().person.id_number == ""


def test_a_filled_honeypot_answers_like_success_and_writes_nothing(client, text, session):
    page = client.post(_register_url(session), _data(text, website="http://spam.example")).content.decode()
    assert "报名成功" in page and "已为您保留名额" in page
    _nothing_written()
    assert client.get(_link(page)).status_code == 404


def test_csrf_is_required(text, session):
    assert Client(enforce_csrf_checks=True).post(_register_url(session), _data(text)).status_code == 403
    _nothing_written()


def test_a_duplicate_registration_names_the_field_and_adds_nothing(client, text, session):
    client.post(_register_url(session), _data(text))
    # the same ID number typed another way, or the same phone and name without it
    for again in ({"id_number": ID_NUMBER.lower(), "phone": "13800000000"}, {"id_number": "110101199003074258"}):
        page = client.post(_register_url(session), _data(text, **again)).content.decode()
        assert "请勿重复报名" in page and "请修改以下内容" in page
    assert Registration.objects.count() == 1 and ConsentRecord.objects.count() == 1


def test_a_session_not_taking_registrations_says_why_and_writes_nothing(client, text, branch_tree, officer, instructor):
    started = open_session(branch_tree["east"], officer, instructor, days=-1)
    response = client.get(_register_url(started))
    assert response.status_code == 200 and "已开始，报名已截止" in response.content.decode()
    assert 'name="name"' not in response.content.decode()
    response = client.post(_register_url(started), _data(text))
    assert response.status_code == 409 and "报名已截止" in response.content.decode()
    _nothing_written()


def test_a_session_closing_while_the_form_is_open_refuses_in_the_form(client, text, session, officer):
    client.get(_register_url(session))
    session_set_status(session=session, status=SessionStatus.PLANNED, by=officer)
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.OPEN)  # the page saw it open ...
    from unittest import mock

    with mock.patch("training.services.registration.registration_closed_reason", return_value="本期培训未开放报名"):
        page = client.post(_register_url(session), _data(text)).content.decode()
    assert "本期培训未开放报名" in page and "请修改以下内容" in page
    _nothing_written()


def test_no_published_consent_text_closes_the_form(client, session):
    assert client.get(_register_url(session)).status_code == 503
    assert client.post(_register_url(session), {"name": "张三"}).status_code == 503
    _nothing_written()


# --- the private page --------------------------------------------------------------------------


def _registered(client, text, session, **overrides):
    page = client.post(_register_url(session), _data(text, **overrides)).content.decode()
    return _link(page)


def test_the_private_page_shows_the_registration_masked(client, text, session):
    link = _registered(client, text, session)
    response = client.get(link)
    assert response.status_code == 200 and "noindex" in response["X-Robots-Tag"]
    page = response.content.decode()
    assert "张*" in page and "139****5678" in page and session.title in page and "已报名" in page
    assert "13912345678" not in page and ID_NUMBER not in page


def test_the_registrant_changes_the_phone(client, text, session):
    link = _registered(client, text, session)
    page = client.post(link, {"action": "change", "phone": "13700001234"}).content.decode()
    assert "已保存修改" in page and "137****1234" in page
    assert Registration.objects.get().person.phone == "13700001234"
    page = client.post(link, {"action": "change", "phone": "<b>1</b>"}).content.decode()
    assert "新的手机号码" in page and "有效的手机号码" in page
    assert Registration.objects.get().person.phone == "13700001234"


def test_cancelling_through_the_link_promotes_the_first_waiting(client, text, session, branch_tree):
    link = _registered(client, text, session)
    other = registration_create(session=session, person=person(branch_tree["east"]))
    waiting = registration_create(session=session, person=person(branch_tree["east"]))
    assert waiting.status == RegistrationStatus.WAITLISTED
    page = client.get(f"/training/r/{waiting.management_token}/").content.decode()
    assert "候补第 1 位" in page
    page = client.post(link, {"action": "withdraw"}).content.decode()
    assert "已撤回" in page and "已取消" in page
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.status == RegistrationStatus.REGISTERED and other.status == RegistrationStatus.REGISTERED
    mine = Registration.objects.get(person__name="张三")
    assert mine.status == RegistrationStatus.CANCELLED and mine.cancelled_by is None
    assert mine.consent.withdrawn_at is not None
    # a cancelled registration cannot be changed any more
    client.post(link, {"action": "change", "phone": "13700001234"})
    assert Registration.objects.get(person__name="张三").person.phone == "13912345678"


def test_the_link_cannot_cancel_once_the_session_has_started(client, text, session):
    link = _registered(client, text, session)
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - datetime.timedelta(minutes=1))
    page = client.get(link).content.decode()
    assert "不能在线取消" in page and 'value="withdraw"' not in page
    page = client.post(link, {"action": "withdraw"}).content.decode()
    assert "不能在线取消" in page
    assert Registration.objects.get().status == RegistrationStatus.REGISTERED


def test_unknown_tokens_count_as_guesses(client, text, session, settings):
    settings.PUBLIC_FORM_LIMIT = 3
    link = _registered(client, text, session)
    assert client.get("/training/r/guess-1/").status_code == 404
    assert client.get("/training/r/" + "x" * 500 + "/").status_code == 404
    assert client.get("/training/r/guess-3/").status_code == 429
    # once over the limit, a right link gets the same refusal as a wrong one
    assert client.get(link).status_code == 429
    assert Registration.objects.get().status == RegistrationStatus.REGISTERED
