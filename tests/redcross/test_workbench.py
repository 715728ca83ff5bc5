"""The staff workbench (工作台): the registry, per-role lines, district scoping, links to what is counted."""

import re

import pytest
from django.utils.translation import gettext_lazy as _

from donations.models import DonationStatus
from redcross.workbench import TodoLine, register_todo, todo_items, todo_lines
from tests.donations.factories import DonationFactory, OrganisationDonorFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _items(user) -> dict[str, int]:
    return {item.line.key: item.count for item in todo_items(user)}


def test_apps_register_their_lines():
    keys = {line.key for line in todo_lines()}
    assert {
        "donations.awaiting_confirmation",
        "donations.awaiting_receipt",
        "donations.movements_awaiting_second_keeper",
        "donations.allocations_awaiting_signoff",
        "donations.bulletin_drafts",
        "donations.disclosure_due",
        "reports.failed_exports",
    } <= keys


def test_a_line_shows_only_to_the_role_it_is_for(branch_tree):
    city = branch_tree["city"]
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
    keeper = StaffFactory(branch=city, roles=["warehouse_keeper"])
    assert "donations.awaiting_confirmation" in _items(reviewer)
    assert "donations.awaiting_confirmation" not in _items(keeper)
    assert "donations.movements_awaiting_second_keeper" in _items(keeper)


def test_counts_are_scoped_to_the_users_subtree(branch_tree):
    east, west = branch_tree["east"], branch_tree["west"]
    for branch, n in ((east, 2), (west, 3)):
        for _i in range(n):
            DonationFactory(branch=branch)
    DonationFactory(branch=east, status=DonationStatus.CONFIRMED)  # confirmed: waits for nobody's 复核
    east_staff = StaffFactory(branch=east, roles=["district_staff", "finance_reviewer"])
    city_reviewer = StaffFactory(branch=branch_tree["city"], roles=["finance_reviewer"])
    assert _items(east_staff)["donations.awaiting_confirmation"] == 2
    assert _items(city_reviewer)["donations.awaiting_confirmation"] == 5


def test_receipt_line_counts_confirmed_gifts_without_a_valid_receipt(branch_tree):
    city = branch_tree["city"]
    wants = OrganisationDonorFactory(branch=city, wants_receipt=True)
    DonationFactory(branch=city, donor=wants, status=DonationStatus.CONFIRMED)
    DonationFactory(branch=city, donor=wants)  # not confirmed yet: no receipt is due
    DonationFactory(branch=city, donor=OrganisationDonorFactory(branch=city, wants_receipt=False), status="confirmed")
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
    assert _items(reviewer)["donations.awaiting_receipt"] == 1


def test_front_page_links_each_line_to_the_rows_it_counts(client, branch_tree):
    city = branch_tree["city"]
    wants = OrganisationDonorFactory(branch=city, wants_receipt=True, name="澜州示范科技有限公司")
    waiting = DonationFactory(branch=city, donor=wants, status=DonationStatus.CONFIRMED)
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"], is_superuser=False)
    client.force_login(reviewer)
    page = client.get("/admin/").content.decode()
    assert "待办事项" in page
    links = dict(re.findall(r'<a href="([^"]+)">\s*<span class="workbench-count"[^>]*>(\d+)</span>', page))
    receipt_link = next(url for url in links if "receipt=to_issue" in url)
    assert links[receipt_link] == "1"
    listed = client.get(receipt_link.replace("&amp;", "&")).content.decode()
    assert waiting.serial in listed


def test_front_page_queries_stay_bounded(client, branch_tree, django_assert_max_num_queries):
    client.force_login(StaffFactory(branch=branch_tree["city"], is_superuser=True))
    client.get("/admin/")
    with django_assert_max_num_queries(30):
        client.get("/admin/")


def test_a_registered_line_appears_for_its_permission(branch_tree):
    register_todo(
        TodoLine(
            key="tests.example",
            title=_("示例"),
            permission="donations.view_donation",
            count=lambda *, branch_ids, user: 7,
            url=lambda: "/admin/",
            group=_("测试"),
            order=999,
        )
    )
    try:
        clerk = StaffFactory(branch=branch_tree["city"], roles=["donation_clerk"])
        assert _items(clerk)["tests.example"] == 7
        outsider = StaffFactory(branch=branch_tree["city"], roles=[])
        assert "tests.example" not in _items(outsider)
    finally:
        from redcross import workbench

        workbench._LINES.pop("tests.example")
