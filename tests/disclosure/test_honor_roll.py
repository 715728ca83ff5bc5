"""The honor roll (爱心榜单), the public donation page and campaign pages."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django.utils import timezone

from donations.models import DonationStatus, PublicDisplay
from donations.selectors.honor_roll import HonorRollFilters, encode_cursor
from donations.services.allocations import cash_pool_rebuild
from tests.donations.factories import (
    CampaignFactory,
    DonationFactory,
    DonationItemFactory,
    InKindDonationFactory,
    OrganisationDonorFactory,
    PersonDonorFactory,
    RecipientFactory,
)

pytestmark = pytest.mark.django_db

ROLL = "/disclosure/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def confirmed(**fields):
    return DonationFactory(status=DonationStatus.CONFIRMED, **fields)


@pytest.fixture
def gifts(city):
    """Three donors: a masked person, a consenting person, an organisation; one anonymous."""
    now = timezone.now()
    masked = PersonDonorFactory(branch=city, name="欧阳明轩", phone="13900001111")
    consenting = PersonDonorFactory(
        branch=city, name="张思远", public_display=PublicDisplay.FULL, full_name_consent_text="书面同意",
        full_name_consent_at=now,
    )  # fmt: skip
    company = OrganisationDonorFactory(branch=city, name="澜州明德科技有限公司")
    anonymous_company = OrganisationDonorFactory(
        branch=city, name="澜州隐名实业有限公司", public_display=PublicDisplay.ANONYMOUS
    )
    campaign = CampaignFactory(branch=city, name="抗疫专项募捐", slug="anti-epidemic")
    rows = {
        "masked": confirmed(branch=city, donor=masked, campaign=campaign, amount="50.00",
                            received_at=now - timedelta(hours=4)),
        "consenting": confirmed(branch=city, donor=consenting, campaign=campaign, amount="200.00",
                                received_at=now - timedelta(hours=3)),
        "company": confirmed(branch=city, donor=company, campaign=campaign, amount="100000.00",
                             received_at=now - timedelta(hours=2)),
        "anonymous": confirmed(branch=city, donor=anonymous_company, campaign=campaign, amount="8888.00",
                               received_at=now - timedelta(hours=1)),
    }  # fmt: skip
    DonationFactory(branch=city, donor=company, campaign=campaign, amount="1.00")  # registered, not public
    cash_pool_rebuild()  # factory rows bypass donation_confirm, which fills the undirected cash pool
    return rows


def test_roll_shows_confirmed_gifts_newest_first_with_public_names(client, gifts):
    response = client.get(ROLL)
    assert response.status_code == 200
    text = response.content.decode()
    order = [text.index(gifts[key].serial) for key in ("anonymous", "company", "consenting", "masked")]
    assert order == sorted(order)
    assert "欧阳**" in text and "欧阳明轩" not in text
    assert "张思远" in text and "澜州明德科技有限公司" in text
    assert "爱心人士" in text and "澜州隐名实业有限公司" not in text
    assert "13900001111" not in text and "1111" not in text.split("欧阳**")[0][-50:]
    assert "1.00 元" not in text  # the unconfirmed gift


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("澜州明德", {"company"}),  # organisations by name (3+ characters)
        ("澜州", {"company"}),  # ... and by 1-2 characters (prefix)
        ("张思远", {"consenting"}),  # persons who consented to full publication
        ("欧阳明轩", set()),  # a masked person cannot be confirmed by their full name
        ("欧阳", set()),
        ("隐名实业", set()),  # nor an anonymous organisation
    ],
)
def test_name_search_matches_only_what_the_page_displays(client, gifts, query, found):
    text = client.get(ROLL, {"q": query}).content.decode()
    shown = {key for key, donation in gifts.items() if donation.serial in text}
    assert shown == found


def test_name_search_follows_renames_withdrawn_consent_and_moved_gifts(client, city, gifts):
    """On PostgreSQL each gift carries its donor's public name, kept by triggers (migration 0005):
    whatever changes on the donor or the gift must change what a search finds, at once."""
    from donations.models import Donation

    def found(query: str) -> set[str]:
        text = client.get(ROLL, {"q": query}).content.decode()
        return {key for key, donation in gifts.items() if donation.serial in text}

    company, consenting = gifts["company"].donor, gifts["consenting"].donor
    company.name = "澜州新名称科技有限公司"
    company.save()
    assert found("明德科技") == set() and found("新名称科技") == {"company"}
    consenting.public_display = PublicDisplay.MASKED  # consent withdrawn
    consenting.save()
    assert found("张思远") == set()
    consenting.public_display = PublicDisplay.FULL
    consenting.save()
    assert found("张思远") == {"consenting"}
    company.public_display = PublicDisplay.ANONYMOUS
    company.save()
    assert found("新名称科技") == set()
    # a gift moved to another donor (a correction) is found under its new donor only
    Donation.objects.filter(pk=gifts["masked"].pk).update(donor=consenting)
    assert found("张思远") == {"consenting", "masked"}
    # a new gift is found as soon as it is confirmed
    later = confirmed(branch=city, donor=consenting, amount="3.00")
    assert later.serial in client.get(ROLL, {"q": "张思远"}).content.decode()


def test_search_by_serial(client, gifts):
    text = client.get(ROLL, {"q": gifts["masked"].serial.lower()}).content.decode()
    assert gifts["masked"].serial in text and gifts["company"].serial not in text


def test_filters_campaign_kind_dates_and_branch_subtree(client, branch_tree, gifts):
    east = branch_tree["east"]
    other = CampaignFactory(branch=branch_tree["city"], slug="regular-lz", name="日常捐赠")
    district_gift = confirmed(branch=east, campaign=other, amount="77.00")
    goods = InKindDonationFactory(branch=east, campaign=other, status=DonationStatus.CONFIRMED)
    DonationItemFactory(donation=goods, name="N95口罩", quantity="500", unit="只", unit_value="3.50")

    by_campaign = client.get(ROLL, {"campaign": "regular-lz"}).content.decode()
    assert district_gift.serial in by_campaign and gifts["company"].serial not in by_campaign
    in_kind = client.get(ROLL, {"kind": "in_kind"}).content.decode()
    assert goods.serial in in_kind and "N95口罩500只" in in_kind and "1,750.00" in in_kind
    assert district_gift.serial not in in_kind
    subtree = client.get(ROLL, {"branch": branch_tree["city"].code}).content.decode()
    assert district_gift.serial in subtree and gifts["company"].serial in subtree
    only_east = client.get(ROLL, {"branch": east.code}).content.decode()
    assert district_gift.serial in only_east and gifts["company"].serial not in only_east
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert "没有符合条件的捐赠" in client.get(ROLL, {"from": future}).content.decode()


def test_keyset_pages_cover_every_gift_once(client, city):
    from donations.selectors import honor_roll

    start = timezone.now() - timedelta(days=1)
    same_time = start + timedelta(hours=1)
    serials = {confirmed(branch=city, received_at=same_time if n % 2 else start + timedelta(minutes=n)).serial
               for n in range(8)}  # fmt: skip
    seen, params = [], {}
    for _ in range(10):
        page = honor_roll.honor_roll_page(
            honor_roll.honor_roll_filters(params), cursor=params.get("cursor", ""), size=3
        )
        seen += [row.serial for row in page.rows]
        if not page.next_cursor:
            break
        params = {"cursor": page.next_cursor}
    assert sorted(seen) == sorted(serials) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "forged"},
        {"cursor": "W1siMjAyMC0wMS0wMSIsIDFdXQ:1abc:xyz"},
        {"cursor": "x" * 10_000},
        {"from": "2020-13-45"},
        {"to": "'; DROP TABLE donations_donation; --"},
        {"kind": "<script>alert(1)</script>"},
        {"campaign": "no-such-campaign"},
        {"branch": "' OR 1=1 --"},
        {"q": "x" * 10_000},
    ],
)
def test_hostile_input_gets_400_never_500_nor_an_injected_tag(client, gifts, params):
    response = client.get(ROLL, params)
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", "' OR '1'='1", "%", "_", "\\", "漢" * 60])
def test_hostile_search_text_is_an_empty_result(client, gifts, query):
    response = client.get(ROLL, {"q": query})
    assert response.status_code == 200
    text = response.content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "没有符合条件的捐赠" in text


def test_a_cursor_past_the_end_is_an_empty_page(client, gifts):
    oldest = gifts["masked"]
    response = client.get(ROLL, {"cursor": encode_cursor(oldest.received_at - timedelta(days=1), 1)})
    assert response.status_code == 200 and "没有符合条件的捐赠" in response.content.decode()


def test_page_reads_at_most_three_queries(client, city, django_assert_max_num_queries):
    campaign = CampaignFactory(branch=city, slug="many")
    hospital = RecipientFactory(branch=city)
    for n in range(60):
        if n % 3:
            confirmed(branch=city, campaign=campaign, donor=OrganisationDonorFactory(branch=city),
                      designated_recipient=hospital if n % 5 == 0 else None)  # fmt: skip
        else:
            goods = InKindDonationFactory(branch=city, campaign=campaign, status=DonationStatus.CONFIRMED)
            DonationItemFactory(donation=goods)
            DonationItemFactory(donation=goods, name="棉被")
    client.get(ROLL, {"kind": "cash"})  # warm the cached filter choices
    for params in ({"kind": "in_kind"}, {"campaign": "many"}, {"branch": city.code}, {"q": "测试爱心企业"}):
        with django_assert_max_num_queries(3):
            assert client.get(ROLL, params).status_code == 200
    cache.clear()
    caches["fragments"].clear()  # with the names of campaigns and recipients the unfiltered roll reads
    client.get(ROLL, {"kind": "cash"})  # the portal's facts and the filter choices are cached for minutes
    with django_assert_max_num_queries(3):  # filling the page cache: rows, goods lines, names
        first = client.get(ROLL).content
    with django_assert_max_num_queries(0):  # the unfiltered first page from the cache
        again = client.get(ROLL).content

    def table(body: bytes) -> bytes:
        return body[body.index(b'<table class="roll') : body.index(b"</table>")]

    assert table(again) == table(first) and b"FX2026-" in table(first)


def test_csv_is_the_public_view_and_formula_safe(client, city):
    company = OrganisationDonorFactory(branch=city, name="=cmd|' /C calc'!A0 有限公司")
    masked = PersonDonorFactory(branch=city, name="李堃", phone="13712345678")
    confirmed(branch=city, donor=company, amount="10.00")
    confirmed(branch=city, donor=masked, amount="20.00")
    response = client.get(reverse("disclosure:honor_roll_csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["流水号", "日期", "捐赠人"]
    names = {row[2] for row in rows[1:]}
    assert names == {"'=cmd|' /C calc'!A0 有限公司", "李*"}
    assert "13712345678" not in body and "李堃" not in body


def test_public_donation_page_and_trace(client, city, gifts):
    page = client.get(reverse("disclosure:donation", args=[gifts["masked"].serial]))
    text = page.content.decode()
    assert page.status_code == 200 and "欧阳**" in text and "尚未拨付" in text and "13900001111" not in text
    unconfirmed = DonationFactory(branch=city)
    assert client.get(reverse("disclosure:donation", args=[unconfirmed.serial])).status_code == 404
    assert client.get(reverse("disclosure:donation", args=["X" * 40])).status_code == 404


def test_campaign_pages(client, city, gifts):
    from donations.services.figures import rebuild_kept_figures

    rebuild_kept_figures()  # the gifts were made by factories, behind the services that keep the figures
    listing = client.get(reverse("disclosure:campaigns")).content.decode()
    assert "抗疫专项募捐" in listing
    page = client.get(reverse("disclosure:campaign", args=["anti-epidemic"]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "109,138.00" in text  # 50 + 200 + 100000 + 8888 received, nothing allocated
    assert "账目平衡" in text and 'id="campaign-chart-data"' in text
    assert "echarts.min.js" in text
    assert client.get(reverse("disclosure:campaign", args=["nope"])).status_code == 404


def test_directed_recipient_is_shown(client, city):
    hospital = RecipientFactory(branch=city, name="澜州市第一人民医院")
    gift = confirmed(branch=city, designated_recipient=hospital, amount="500.00")
    text = client.get(ROLL).content.decode()
    assert gift.serial in text and "定向：澜州市第一人民医院" in text


def test_the_cached_page_frame_never_mixes_languages_paths_or_filters(client, gifts):
    # the header, navigation, footer and filter form come from each process's fragment cache;
    # what differs between visitors (language, the path the language switch returns to, the
    # chosen filters) must never leak from one request into another
    chinese = client.get(ROLL, {"q": "澜州"}).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(ROLL, {"q": "张思远"}).content.decode()
    assert 'lang="zh-hans"' in chinese and "爱心榜单" in chinese and "Honour roll" not in chinese
    # the filter form's option lists are read only when its fragment is rendered
    assert '<option value="anti-epidemic">抗疫专项募捐</option>' in chinese
    assert 'lang="en"' in english and "Honour roll" in english and ">爱心榜单<" not in english
    assert 'name="next" type="hidden" value="/disclosure/?q=%E5%BC%A0%E6%80%9D%E8%BF%9C"' in english
    assert 'id="q" name="q" type="search" maxlength="60" value="张思远"' in english
    client.cookies["django_language"] = "zh-hans"
    again = client.get(ROLL, {"q": "澜州", "kind": "cash"}).content.decode()
    assert 'value="澜州"' in again and '<option value="cash" selected>' in again
    assert 'value="/disclosure/?q=%E6%BE%9C%E5%B7%9E&amp;kind=cash"' in again
    assert "张思远" not in again.split("<main", 1)[1].split("<table", 1)[0]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_dates_at_the_ends_of_the_calendar_are_refused_not_overflowed(client, gifts, name, day):
    # 9999-12-31 + 1 day and 0001-01-01 00:00 +08:00 in UTC overflow Python's dates (found by schemathesis)
    assert client.get(ROLL, {name: day}).status_code == 400
    response = client.get("/api/public/donations/", {name: day})
    assert response.status_code == 400 and name in response.json()
    assert client.get(ROLL, {name: "2999-12-31"}).status_code == 200


def test_the_surge_roll_gives_the_filtered_path_rows_page_by_page(city):
    """The unfiltered roll joins only the donor and takes campaign and recipient names from each
    process's memory; every page of it, goods, directed gifts and masked names included, must
    equal what the general path (``honor_roll_rows``, every name joined) reads."""
    from donations.selectors.honor_roll import _filtered, before, honor_roll_page, honor_roll_rows

    start = timezone.now() - timedelta(days=2)
    recipient = RecipientFactory(branch=city, name="澜州市第一人民医院")
    for n in range(11):
        at = start + timedelta(minutes=n // 2)  # pairs at the same moment: the id breaks the tie
        if n % 3 == 0:
            goods = InKindDonationFactory(branch=city, status=DonationStatus.CONFIRMED, received_at=at)
            DonationItemFactory(donation=goods, name="口罩", unit_value="1.50", value_basis="invoice")
            DonationItemFactory(donation=goods, name="防护服")
        else:
            confirmed(branch=city, received_at=at, amount=f"{n}.25",
                      designated_recipient=recipient if n == 4 else None,
                      donor=PersonDonorFactory(branch=city, name="欧阳明轩"))  # fmt: skip
    cursor, pages, last = "", 0, None
    everything = HonorRollFilters()
    while True:
        page = honor_roll_page(everything, cursor=cursor, size=4)
        orm = _filtered(everything)
        if last is not None:
            orm = orm.filter(before(last.received_at, last.pk))
        expected = honor_roll_rows(orm.order_by("-received_at", "-id")[:5])[:4]
        assert page.rows == expected and page.rows, pages
        pages += 1
        if not page.next_cursor:
            break
        cursor, last = page.next_cursor, page.rows[-1]
    assert pages == 3
    shown = honor_roll_page(everything).rows
    assert sum("口罩" in row.goods_summary and "防护服" in row.goods_summary for row in shown) == 4
    assert {row.donor_name for row in shown if row.amount is not None} == {"欧阳**"}
    assert any(row.designated_recipient == "澜州市第一人民医院" for row in shown)
    assert all(isinstance(row.received_at, datetime) and row.received_at.tzinfo for row in shown)


def test_surge_roll_reads_names_from_each_process_and_follows_a_rename(city, django_assert_num_queries):
    """The unfiltered roll reads campaigns and recipients as ids and their names from the fragments
    cache (no four-table join to plan); a rename shows once that cache's minute has passed."""
    from django.core.cache import caches

    from donations.selectors.honor_roll import honor_roll_page

    campaign = CampaignFactory(branch=city, name="旧活动名", slug="renamed")
    hospital = RecipientFactory(branch=city, name="旧医院名")
    confirmed(branch=city, campaign=campaign, designated_recipient=hospital, amount="5.00")
    confirmed(branch=city, campaign=campaign, amount="6.00")
    caches["fragments"].clear()
    with django_assert_num_queries(2):  # the rows, then both names in one query
        rows = honor_roll_page(HonorRollFilters()).rows
    assert {(row.campaign, row.campaign_slug, row.designated_recipient) for row in rows} == {
        ("旧活动名", "renamed", "旧医院名"),
        ("旧活动名", "renamed", ""),
    }
    with django_assert_num_queries(1):  # the names are known now
        honor_roll_page(HonorRollFilters())
    campaign.name, hospital.name = "新活动名", "新医院名"
    campaign.save()
    hospital.save()
    assert honor_roll_page(HonorRollFilters()).rows[0].campaign == "旧活动名"  # within the minute
    caches["fragments"].clear()  # FRAGMENT_CACHE_SECONDS later
    rows = honor_roll_page(HonorRollFilters()).rows
    assert {(row.campaign, row.designated_recipient) for row in rows} == {("新活动名", "新医院名"), ("新活动名", "")}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_of_the_unfiltered_roll_is_rendered_for_its_request(client, city, settings, language):
    """The unfiltered roll is rendered by the template for every request: the rows, the next
    page's link and the path the language switch returns to are this request's own."""
    settings.HONOR_ROLL_CACHE_SECONDS = 0
    hospital = RecipientFactory(branch=city, name="澜州市第一人民医院")
    for n in range(53):
        if n % 7 == 0:
            goods = InKindDonationFactory(branch=city, status=DonationStatus.CONFIRMED)
            DonationItemFactory(donation=goods, name="口罩")
        else:
            confirmed(branch=city, amount=f"{n}.50", designated_recipient=hospital if n % 5 == 0 else None)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    first = client.get(ROLL)
    assert first.status_code == 200
    earlier_link = first.content.decode().split('rel="next" href="?cursor=', 1)[1].split('"', 1)[0]
    cursor = unquote(earlier_link)
    last = client.get(ROLL, {"cursor": cursor}).content.decode()
    assert last.count('<tr><td class="c-date"') == 3 and ("回到最新" in last or "Back to the latest" in last)
    assert "shellslot" not in last and 'value="/disclosure/?cursor=' in last
    tagged = client.get(f"{ROLL}?utm_source=<b>x</b>&cursor={earlier_link}").content.decode()
    assert 'value="/disclosure/?utm_source=%3Cb%3Ex%3C/b%3E&amp;cursor=' in tagged


def test_markup_in_names_is_shown_as_text_on_the_roll(client, city):
    # the rows are built in Python (honor_roll_rows_html), not by the autoescaping template
    evil = '<img src=x onerror=alert(1)>"&'
    campaign = CampaignFactory(branch=city, name=f"活动{evil}", slug="evil-campaign")
    recipient = RecipientFactory(branch=city, name=f"医院{evil}")
    confirmed(branch=city, campaign=campaign, designated_recipient=recipient,
              donor=OrganisationDonorFactory(branch=city, name=f"公司{evil}"))  # fmt: skip
    goods = InKindDonationFactory(branch=city, campaign=campaign, status=DonationStatus.CONFIRMED)
    DonationItemFactory(donation=goods, name=f"物资{evil}")
    page = client.get(ROLL).content.decode()
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    escaped = "&lt;img src=x onerror=alert(1)&gt;&quot;&amp;"
    for shown in (f"公司{escaped}", f"活动{escaped}", f"医院{escaped}", f"物资{escaped}"):
        assert shown in page, shown
