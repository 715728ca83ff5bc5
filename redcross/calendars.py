"""iCalendar feeds of public events (training sessions, blood drives, volunteer activities).

An app turns its events into ``CalendarEvent``s and returns ``ical_feed(events, name=...)`` from a
view: a ``text/calendar`` answer that phones and calendar programs subscribe to. Times are given
in Asia/Shanghai with its VTIMEZONE, so a subscriber anywhere sees the local time of the event;
coordinates are WGS-84 (``GEO``). Only what a public page shows goes into a feed: never a phone
number, an ID number or a participant's name.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone

CALENDAR_TIME_ZONE = ZoneInfo("Asia/Shanghai")
CONTENT_TYPE = "text/calendar; charset=utf-8"
_PRODID = "-//Red Cross branch portal//redcross.calendars//ZH"


@dataclass(frozen=True)
class CalendarEvent:
    """One public event. ``uid`` is stable for the event (e.g. ``training-session-42``): a calendar
    that sees it again updates the event instead of adding a second one. ``start`` and ``end``
    are aware datetimes, or dates for all-day events (``end`` is then the day after the last)."""

    uid: str
    title: str
    start: datetime.datetime | datetime.date
    end: datetime.datetime | datetime.date
    location: str = ""
    description: str = ""
    url: str = ""
    geo: tuple[float, float] | None = None  # (latitude, longitude), WGS-84
    cancelled: bool = False


def _uid(uid: str) -> str:
    """Globally unique, as RFC 5545 asks: the site's host name after the app's own id."""
    if "@" in uid:
        return uid
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "localhost"
    return f"{uid}@{host}"


def _local(moment: datetime.datetime | datetime.date) -> datetime.datetime | datetime.date:
    if isinstance(moment, datetime.datetime):
        if timezone.is_naive(moment):
            raise ValueError("calendar times must be aware datetimes")
        return moment.astimezone(CALENDAR_TIME_ZONE)
    return moment


def ical_calendar(events: Iterable[CalendarEvent], *, name: str) -> bytes:
    """The feed as iCalendar bytes (RFC 5545)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", _PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(CALENDAR_TIME_ZONE))
    stamp = timezone.now().astimezone(datetime.UTC)
    for item in events:
        start, end = _local(item.start), _local(item.end)
        if end < start:
            raise ValueError(f"event {item.uid} ends before it starts")
        event = icalendar.Event()
        event.add("uid", _uid(item.uid))
        event.add("dtstamp", stamp)
        event.add("summary", item.title)
        event.add("dtstart", start)
        event.add("dtend", end)
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        if item.geo is not None:
            event.add("geo", item.geo)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def ical_feed(events: Iterable[CalendarEvent], *, name: str, filename: str = "calendar.ics") -> HttpResponse:
    """A view's answer: the feed as ``text/calendar``, shown inline so a calendar can subscribe."""
    response = HttpResponse(ical_calendar(events, name=name), content_type=CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
