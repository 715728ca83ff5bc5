"""The AED registry: overdue checks and expired consumables flagged to staff (workbench line, admin
filter, reminders), the nearest AEDs by the haversine formula, the district list, the GeoJSON
export with OpenStreetMap's tags, the public page (phone-first, nothing about people), bad input."""

from __future__ import annotations

import datetime
import json
import math
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from redcross.workbench import todo_items
from tests.factories import StaffFactory
from training.models import Aed, AedAccess, AedCheck, AedCheckResult, AedStatus
from training.selectors.aeds import (
    aed_check_reminders,
    aed_geojson,
    aeds_by_place,
    aeds_needing_attention,
    haversine_km,
    haversine_km_expression,
    nearest_aeds,
    parse_coordinate,
    public_aeds,
)
from training.services.aeds import aed_check_record, aed_register, aed_remove, aed_update

pytestmark = pytest.mark.django_db

CENTRE = (30.26, 120.16)


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"], last_name="检", first_name="查员甲")


@pytest.fixture
def east_staff(branch_tree):
    return StaffFactory(branch=branch_tree["east"], roles=["district_staff"])


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def _aed(branch, by, place="体育馆", north_km=0.0, east_km=0.0, checked_days_ago: int | None = 1, **extra) -> Aed:
    """An AED ``north_km`` / ``east_km`` from the centre (small distances: flat-earth offsets)."""
    lat = CENTRE[0] + north_km / 111.195
    lng = CENTRE[1] + east_km / (111.195 * math.cos(math.radians(CENTRE[0])))
    values = {
        "branch": branch, "place": place, "address": f"中山路 {abs(hash(place)) % 900 + 100} 号",
        "latitude": Decimal(f"{lat:.6f}"), "longitude": Decimal(f"{lng:.6f}"),
        "battery_expires_on": _days(400), "pads_expires_on": _days(300), "serial_number": f"SN-{place}",
        "note": "钥匙在保安室", **extra,
    }  # fmt: skip
    aed = aed_register(by=by, **values)
    if checked_days_ago is not None:
        aed_check_record(aed=aed, checked_on=_days(-checked_days_ago), result=AedCheckResult.READY, by=by)
        aed.refresh_from_db()
    return aed


# --- distances ------------------------------------------------------------------------------------


def test_haversine_matches_known_distances():
    assert haversine_km(*CENTRE, *CENTRE) == 0
    # Beijing (Tiananmen) to Shanghai (People's Square): about 1,068 km
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067.3, abs=2)
    # one degree of latitude along a meridian: R·π/180
    assert haversine_km(0, 0, 1, 0) == pytest.approx(6371.0088 * math.pi / 180, rel=1e-9)
    # antipodes: half the circumference, no domain error
    assert haversine_km(0, 0, 0, 180) == pytest.approx(6371.0088 * math.pi, rel=1e-9)


def test_the_database_computes_the_same_distance(branch_tree, officer):
    far = _aed(branch_tree["city"], officer, place="远处", north_km=800, east_km=-600)
    near = _aed(branch_tree["city"], officer, place="近处", north_km=0.3, east_km=0.4)
    rows = Aed.objects.annotate(d=haversine_km_expression(*CENTRE)).values_list("pk", "d")
    for pk, distance in rows:
        aed = far if pk == far.pk else near
        assert distance == pytest.approx(haversine_km(*CENTRE, float(aed.latitude), float(aed.longitude)), abs=1e-6)


def test_nearest_aeds_are_sorted_by_distance(branch_tree, officer):
    spots = {"甲": (0.9, 0.0), "乙": (0.0, -0.2), "丙": (-2.5, 1.0), "丁": (3.0, 3.0), "戊": (0.1, 0.1), "己": (40, 0)}
    for place, (north, east) in spots.items():
        _aed(branch_tree["city"], officer, place=place, north_km=north, east_km=east)
    found = nearest_aeds(*CENTRE)
    assert [aed.place for aed in found] == ["戊", "乙", "甲", "丙", "丁", "己"]
    for aed in found:
        assert aed.distance_km == pytest.approx(haversine_km(*CENTRE, float(aed.latitude), float(aed.longitude)))
    assert found[0].distance_m == round(found[0].distance_km * 1000) and found[0].distance_m < 200
    assert [aed.place for aed in nearest_aeds(*CENTRE, limit=2)] == ["戊", "乙"]


def test_an_aed_just_outside_the_search_box_beats_one_in_its_corner(branch_tree, officer):
    """The box around the visitor is 5 km; a row in its corner (6.4 km) must not win over one just
    outside it (5.5 km): only rows within the radius are kept from the box."""
    _aed(branch_tree["city"], officer, place="框内", north_km=4.9)
    _aed(branch_tree["city"], officer, place="框角", north_km=4.5, east_km=4.5)
    _aed(branch_tree["city"], officer, place="框外", east_km=5.5)
    assert [aed.place for aed in nearest_aeds(*CENTRE, limit=2)] == ["框内", "框外"]
    assert [aed.place for aed in nearest_aeds(*CENTRE, limit=1)] == ["框内"]
    assert [aed.place for aed in nearest_aeds(*CENTRE, limit=3)] == ["框内", "框外", "框角"]


def test_the_public_list_leaves_out_removed_faulty_and_private_aeds(branch_tree, officer):
    ready = _aed(branch_tree["city"], officer, place="可用")
    private = _aed(branch_tree["city"], officer, place="内部", access=AedAccess.PRIVATE)
    faulty = _aed(branch_tree["city"], officer, place="故障")
    removed = _aed(branch_tree["city"], officer, place="撤除")
    aed_check_record(aed=faulty, checked_on=_days(0), result=AedCheckResult.FAULT, by=officer)
    aed_remove(aed=removed, by=officer)
    assert list(public_aeds()) == [ready]
    assert [aed.place for aed in nearest_aeds(*CENTRE)] == ["可用"]
    assert private.pk and faulty.pk
    # fixed: a ready check puts it back
    aed_check_record(aed=faulty, checked_on=_days(0), result=AedCheckResult.READY, by=officer)
    assert {aed.place for aed in nearest_aeds(*CENTRE)} == {"可用", "故障"}


def test_the_district_filter_covers_the_districts_subtree(branch_tree, officer):
    _aed(branch_tree["east"], officer, place="东区图书馆", north_km=5)
    _aed(branch_tree["east_school"], officer, place="东区一中", north_km=6)
    _aed(branch_tree["west"], officer, place="西区公园", north_km=0.1)
    east = branch_tree["east"]
    assert {aed.place for aed in nearest_aeds(*CENTRE, district=east)} == {"东区图书馆", "东区一中"}
    assert {aed.place for aed in aeds_by_place(district=east).aeds} == {"东区图书馆", "东区一中"}
    assert len(aeds_by_place().aeds) == 3


def test_the_district_list_pages_by_keyset_without_gaps_or_repeats(branch_tree, officer):
    names = [f"场所{n:02d}" for n in range(7)] + ["场所03"]  # a repeated place name: the id breaks the tie
    for name in names:
        _aed(branch_tree["city"], officer, place=name, checked_days_ago=None)
    seen, cursor = [], ""
    for _page in range(10):
        page = aeds_by_place(cursor=cursor, size=3)
        seen += [(aed.place, aed.id) for aed in page.aeds]
        cursor = page.next_cursor
        if not cursor:
            break
    assert [place for place, _id in seen] == sorted(names)
    assert len({pk for _place, pk in seen}) == len(names)
    with pytest.raises(ValidationError) as excinfo:
        aeds_by_place(cursor=cursor or "forged.cursor")
    assert "cursor" in excinfo.value.message_dict


# --- checks and what needs attention --------------------------------------------------------------


def test_overdue_checks_and_expiring_consumables_are_flagged(branch_tree, officer, settings):
    settings.TRAINING_AED_CHECK_DAYS = 30
    settings.TRAINING_AED_EXPIRY_WARNING_DAYS = 30
    city = branch_tree["city"]
    fine = _aed(city, officer, place="正常", checked_days_ago=29)
    overdue = _aed(city, officer, place="逾期", checked_days_ago=31)
    never = _aed(city, officer, place="未检", checked_days_ago=None)
    battery = _aed(city, officer, place="电池过期", battery_expires_on=_days(-1))
    pads = _aed(city, officer, place="电极片将过期", pads_expires_on=_days(20))
    removed = _aed(city, officer, place="已撤除", checked_days_ago=200)
    aed_remove(aed=removed, by=officer)
    flagged = set(aeds_needing_attention(branch_ids=None))
    assert flagged == {overdue, never, battery, pads}
    reminders = {reminder.aed_id: reminder.reasons for reminder in aed_check_reminders()}
    assert reminders == {
        overdue.pk: ("check_overdue",),
        never.pk: ("never_checked",),
        battery.pk: ("battery_expired",),
        pads.pk: ("pads_expiring",),
    }
    assert fine not in flagged
    # the setting decides: with 60 days, a check 31 days ago is on time
    settings.TRAINING_AED_CHECK_DAYS = 60
    assert overdue not in set(aeds_needing_attention(branch_ids=None))
    # a check with new pads clears the flags; running the reminders twice finds the same
    settings.TRAINING_AED_CHECK_DAYS = 30
    aed_check_record(
        aed=overdue, checked_on=_days(0), result=AedCheckResult.READY, pads_expires_on=_days(700), by=officer
    )
    assert overdue not in set(aeds_needing_attention(branch_ids=None))
    assert aed_check_reminders() == aed_check_reminders()


def test_a_check_records_who_and_when_and_refuses_bad_dates(branch_tree, officer, east_staff):
    aed = _aed(branch_tree["east"], officer, checked_days_ago=10)
    check = aed_check_record(aed=aed, checked_on=_days(-2), result=AedCheckResult.READY, by=east_staff)
    aed.refresh_from_db()
    assert (aed.last_checked_on, aed.last_checked_by) == (_days(-2), east_staff)
    assert check.history.first().history_user == east_staff
    assert aed.history.first().history_user == east_staff
    for day, field in ((_days(1), "checked_on"), (_days(-5), "checked_on"), (None, "checked_on")):
        with pytest.raises(ValidationError) as excinfo:
            aed_check_record(aed=aed, checked_on=day, result=AedCheckResult.READY, by=officer)
        assert field in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        aed_check_record(aed=aed, checked_on=_days(0), result="fine", by=officer)
    assert "result" in excinfo.value.message_dict
    west_staff = StaffFactory(branch=branch_tree["west"], roles=["district_staff"])
    with pytest.raises(PermissionDenied):
        aed_check_record(aed=aed, checked_on=_days(0), result=AedCheckResult.READY, by=west_staff)
    assert AedCheck.objects.filter(aed=aed).count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", "91"),
        ("latitude", "-90.5"),
        ("longitude", "180.01"),
        ("longitude", "abc"),
        ("latitude", "NaN"),
        ("latitude", "Infinity"),
        ("latitude", "1e400"),
        ("longitude", "9" * 100),
        ("latitude", None),
        ("place", ""),
        ("place", "x" * 10_000),
        ("place", "<script>alert(1)</script>"),
        ("address", ""),
        ("opening_hours", "<b>24/7</b>"),
        ("opening_hours", "全天"),
        ("access", "everyone"),
    ],
)
def test_bad_aed_input_names_the_field_and_writes_nothing(branch_tree, officer, field, value):
    values = {
        "branch": branch_tree["city"], "place": "体育馆", "address": "中山路 1 号",
        "latitude": "30.26", "longitude": "120.16", field: value,
    }  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        aed_register(by=officer, **values)
    assert field in excinfo.value.message_dict
    assert not Aed.objects.exists()


def test_parse_coordinate_rounds_to_six_places():
    assert parse_coordinate(" 30.1234567 ", field="lat", limit=90) == Decimal("30.123457")
    assert parse_coordinate("-180", field="lng", limit=180) == Decimal("-180")


def test_an_update_keeps_the_check_record_and_is_audited(branch_tree, officer):
    aed = _aed(branch_tree["city"], officer, checked_days_ago=3)
    aed_update(aed=aed, opening_hours="Mo-Fr 08:00-18:00", indoor=False, by=officer)
    aed.refresh_from_db()
    assert (aed.opening_hours, aed.indoor, aed.last_checked_on) == ("Mo-Fr 08:00-18:00", False, _days(-3))
    assert aed.history.first().history_change_reason == "aed_update"


# --- workbench and admin --------------------------------------------------------------------------


def test_the_workbench_line_counts_what_the_admin_filter_shows(client, branch_tree, officer, east_staff):
    east = _aed(branch_tree["east"], officer, place="东区逾期", checked_days_ago=90)
    _aed(branch_tree["west"], officer, place="西区逾期", checked_days_ago=90)
    _aed(branch_tree["east"], officer, place="东区正常", checked_days_ago=2)
    city = {item.line.key: item for item in todo_items(officer)}
    assert city["training.aeds_needing_attention"].count == 2
    mine = {item.line.key: item for item in todo_items(east_staff)}
    assert mine["training.aeds_needing_attention"].count == 1
    client.force_login(east_staff)
    listing = client.get(mine["training.aeds_needing_attention"].url)
    assert list(listing.context["cl"].result_list) == [east]
    assert "检查逾期" in listing.content.decode()


def test_admin_registers_checks_and_lists_with_a_fixed_number_of_queries(
    client, branch_tree, officer, django_assert_max_num_queries
):
    client.force_login(officer)
    form = {
        "branch": branch_tree["city"].pk, "place": "市体育馆", "address": "中山路 5 号", "location_detail": "北门",
        "level": "", "latitude": "30.261", "longitude": "120.161", "indoor": "on", "access": "yes",
        "opening_hours": "24/7", "operator": "", "model_name": "", "serial_number": "", "batch": "",
        "installed_on": "", "battery_expires_on": "", "pads_expires_on": "", "note": "",
        "checks-TOTAL_FORMS": "0", "checks-INITIAL_FORMS": "0",
    }  # fmt: skip
    bad = client.post(reverse("admin:training_aed_add"), {**form, "latitude": "91"})
    assert bad.status_code == 200 and "latitude" in bad.context["adminform"].form.errors
    assert not Aed.objects.exists()
    assert client.post(reverse("admin:training_aed_add"), form).status_code == 302
    aed = Aed.objects.get()
    response = client.post(
        reverse("admin:training_aedcheck_add"),
        {"aed": aed.pk, "checked_on": _days(0).isoformat(), "result": "ready", "battery_expires_on": "",
         "pads_expires_on": _days(500).isoformat(), "note": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    aed.refresh_from_db()
    assert (aed.last_checked_by, aed.pads_expires_on) == (officer, _days(500))
    assert client.get(reverse("admin:training_aed_change", args=[aed.pk])).status_code == 200
    for n in range(12):
        _aed(branch_tree["east" if n % 2 else "west"], officer, place=f"场所{n}", checked_days_ago=n * 5)
    for url in (reverse("admin:training_aed_changelist"), reverse("admin:training_aedcheck_changelist")):
        client.get(url)
        # ~11 whatever the rows (filters, date hierarchy, session, user); one per row would pass 14
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200
    client.force_login(StaffFactory(branch=branch_tree["east"], roles=["district_staff"]))
    listing = client.get(reverse("admin:training_aed_changelist"))
    assert {a.branch_id for a in listing.context["cl"].result_list} == {branch_tree["east"].pk}


# --- public page and GeoJSON ----------------------------------------------------------------------


def _public_setup(branch_tree, officer):
    _aed(branch_tree["east"], officer, place="东区图书馆", north_km=1, location_detail="一楼服务台", level="1")
    _aed(branch_tree["west"], officer, place="西区公园", east_km=-2, indoor=False, opening_hours="Mo-Su 06:00-22:00")
    _aed(branch_tree["west"], officer, place="西区内部", access=AedAccess.PRIVATE)


def test_the_public_page_lists_the_nearest_and_shows_no_people(client, branch_tree, officer):
    _public_setup(branch_tree, officer)
    response = client.get(reverse("training:aeds"), {"lat": "30.26", "lng": "120.16"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("东区图书馆") < page.index("西区公园")
    assert "西区内部" not in page
    assert 'data-label="距离"' in page and "table" in page and "roll stack" in page
    for secret in ("检查员甲", "检查员", "SN-", "钥匙在保安室", officer.username):
        assert secret not in page, secret
    assert "no-store" in response["Cache-Control"] and response["X-Robots-Tag"] == "noindex"
    assert "js/aed-nearest.js" in page and 'id="aed-locate"' in page
    by_district = client.get(reverse("training:aeds"), {"district": branch_tree["east"].code}).content.decode()
    assert "东区图书馆" in by_district and "西区公园" not in by_district


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "91", "lng": "120"},
        {"lat": "30", "lng": "-181"},
        {"lat": "abc", "lng": "120"},
        {"lat": "30"},
        {"lat": "NaN", "lng": "Infinity"},
        {"lat": "1e999999", "lng": "1"},
        {"lat": "9" * 5000, "lng": "1"},
        {"lat": "<script>alert(1)</script>", "lng": "1"},
        {"district": "<script>alert(1)</script>"},
        {"district": "NOPE"},
        {"cursor": "<script>alert(1)</script>"},
    ],
)
def test_bad_public_input_gets_a_clear_400_without_markup(client, branch_tree, officer, params):
    _public_setup(branch_tree, officer)
    response = client.get(reverse("training:aeds"), params)
    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert 'role="alert"' in page
    assert any(word in page for word in ("坐标", "区县", "翻页"))


def test_the_geojson_export_uses_openstreetmaps_tags(client, branch_tree, officer):
    _public_setup(branch_tree, officer)
    response = client.get(reverse("training:aeds_geojson"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 2
    library = next(f for f in data["features"] if f["properties"]["description"] == "东区图书馆")
    aed = Aed.objects.get(place="东区图书馆")
    assert library["type"] == "Feature"
    # RFC 7946: [longitude, latitude]
    assert library["geometry"] == {"type": "Point", "coordinates": [float(aed.longitude), float(aed.latitude)]}
    props = library["properties"]
    assert props["emergency"] == "defibrillator"
    assert props["defibrillator:location"] == "一楼服务台"
    assert props["indoor"] == "yes" and props["level"] == "1"
    assert props["access"] == "yes" and props["opening_hours"] == "24/7"
    assert props["operator"] == aed.branch.name and props["emergency:phone"] == "120"
    assert props["check_date"] == aed.last_checked_on.isoformat()
    park = next(f for f in data["features"] if f["properties"]["description"] == "西区公园")["properties"]
    assert park["indoor"] == "no" and park["opening_hours"] == "Mo-Su 06:00-22:00"
    allowed = {
        "emergency", "description", "defibrillator:location", "indoor", "access", "opening_hours", "operator",
        "emergency:phone", "addr:full", "level", "check_date",
    }  # fmt: skip
    assert set().union(*(f["properties"] for f in data["features"])) <= allowed
    body = response.content.decode()
    assert "SN-" not in body and "钥匙在保安室" not in body and "检查员甲" not in body
    district = client.get(reverse("training:aeds_geojson"), {"district": branch_tree["east"].code})
    assert len(json.loads(district.content)["features"]) == 1
    assert aed_geojson(district=branch_tree["west"])["features"][0]["properties"]["description"] == "西区公园"
    assert client.get(reverse("training:aeds_geojson"), {"district": "<x>"}).status_code == 400


def test_the_section_is_in_the_public_navigation(client):
    page = client.get("/").content.decode()
    assert reverse("training:aeds") in page
    assert AedStatus.IN_SERVICE == "in_service"
