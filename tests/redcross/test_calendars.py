"""iCalendar feeds (redcross.calendars): what goes in comes back out when parsed."""

import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from redcross.calendars import CONTENT_TYPE, CalendarEvent, ical_calendar, ical_feed

UTC = datetime.UTC


def _session(**overrides) -> CalendarEvent:
    fields = {
        "uid": "training-session-42",
        "title": "救护员培训（第 3 期）",
        "start": datetime.datetime(2026, 5, 1, 1, 0, tzinfo=UTC),  # 09:00 in Xi'an
        "end": datetime.datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        "location": "雁塔区红十字会培训室, 含 “引号” 与; 分号",
        "description": "携带身份证\n提前 15 分钟到场",
        "url": "http://127.0.0.1:8000/training/sessions/42/",
        "geo": (34.2235, 108.9480),
    }
    fields.update(overrides)
    return CalendarEvent(**fields)


def test_the_feed_parses_back_with_every_field_in_shanghai_time():
    parsed = icalendar.Calendar.from_ical(ical_calendar([_session()], name="应急救护培训"))
    assert str(parsed["X-WR-CALNAME"]) == "应急救护培训"
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    (event,) = parsed.walk("VEVENT")
    assert str(event["UID"]) == "training-session-42@127.0.0.1"
    assert str(event["SUMMARY"]) == "救护员培训（第 3 期）"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.replace(tzinfo=None) == datetime.datetime(2026, 5, 1, 9, 0)
    assert end.astimezone(UTC) == datetime.datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    assert "DTSTART;TZID=Asia/Shanghai:20260501T090000" in ical_calendar([_session()], name="x").decode()
    assert str(event["LOCATION"]) == "雁塔区红十字会培训室, 含 “引号” 与; 分号"
    assert str(event["DESCRIPTION"]) == "携带身份证\n提前 15 分钟到场"
    assert str(event["URL"]) == "http://127.0.0.1:8000/training/sessions/42/"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (34.2235, 108.948)
    assert str(event["STATUS"]) == "CONFIRMED" and "DTSTAMP" in event


def test_all_day_events_cancellations_and_an_empty_feed():
    day = _session(start=datetime.date(2026, 6, 14), end=datetime.date(2026, 6, 15), geo=None, cancelled=True)
    (event,) = icalendar.Calendar.from_ical(ical_calendar([day], name="献血日")).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime.date(2026, 6, 14)
    assert "GEO" not in event and str(event["STATUS"]) == "CANCELLED"
    assert icalendar.Calendar.from_ical(ical_calendar([], name="空")).walk("VEVENT") == []


def test_bad_events_are_refused():
    with pytest.raises(ValueError, match="aware"):
        ical_calendar([_session(start=datetime.datetime(2026, 5, 1, 9, 0))], name="x")
    with pytest.raises(ValueError, match="ends before"):
        ical_calendar([_session(end=datetime.datetime(2026, 4, 30, tzinfo=ZoneInfo("Asia/Shanghai")))], name="x")


def test_the_view_answer_is_text_calendar():
    response = ical_feed([_session()], name="应急救护培训", filename="training.ics")
    assert response["Content-Type"] == CONTENT_TYPE == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="training.ics"'
    assert icalendar.Calendar.from_ical(response.content).walk("VEVENT")
