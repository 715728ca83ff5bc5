"""The donation trace's last step: a donation that funded a relief project shows the project and
how many it helped (counts only), through the trace-outcome registry of the donations app, which
imports no relief module."""

import pytest

from donations.models import AllocationSource
from donations.selectors import trace as trace_module
from donations.selectors.trace import TraceOutcome, donation_trace, register_trace_outcome
from relief.services.aid import aid_disburse
from tests.relief.conftest import approved, cn_id, register

pytestmark = pytest.mark.django_db


def _donation(project):
    allocation = project.fundings.get().allocation
    return AllocationSource.objects.filter(allocation=allocation).select_related("donation").get().donation


def test_a_donation_that_funded_a_project_ends_at_the_households_helped(
    client, funded_project, district_a, district_b, officer, east, django_assert_max_num_queries
):
    for index, name in enumerate(("欧阳秀梅", "司徒建国")):
        household = register(district_a, east, name=name, id_number=cn_id("19700101", 40 + index)).beneficiary
        application = approved(funded_project, household, registrar=district_a, reviewer=district_b,
                               decider=officer, amount="100")  # fmt: skip
        aid_disburse(by=district_a, application=application, method="bank", voucher_number=f"V{index}")
    donation = _donation(funded_project)
    with django_assert_max_num_queries(4):
        trace = donation_trace(donation)
    [step] = trace.steps
    assert step.outcome == f"救助项目 {funded_project.name}：已帮助 2 户"
    assert step.outcome_url == f"/relief/projects/{funded_project.pk}/"
    page = client.get(f"/donations/d/{donation.lookup_token}/").content.decode()
    assert "已帮助 2 户" in page and f'href="/relief/projects/{funded_project.pk}/"' in page
    assert "欧阳秀梅" not in page and "司徒建国" not in page


def test_a_person_project_counts_people_and_english_pages_translate_it(funded_project, settings):
    from django.utils import translation

    funded_project.unit = "person"
    funded_project.save(update_fields=["unit"])
    assert donation_trace(_donation(funded_project)).steps[0].outcome.endswith("已帮助 0 人")
    with translation.override("en"):
        assert donation_trace(_donation(funded_project)).steps[0].outcome.endswith("helped 0 people")


def test_the_registry_calls_every_provider_once_with_the_allocation_ids(funded_project, monkeypatch):
    monkeypatch.setattr(trace_module, "_OUTCOME_PROVIDERS", dict(trace_module._OUTCOME_PROVIDERS))
    calls = []

    def provider(ids):
        calls.append(set(ids))
        return {next(iter(ids)): TraceOutcome(text="另一个应用的去向")}

    register_trace_outcome("relief", provider)  # the same key replaces the relief provider
    [step] = donation_trace(_donation(funded_project)).steps
    assert calls == [{funded_project.fundings.get().allocation_id}]
    assert (step.outcome, step.outcome_url) == ("另一个应用的去向", "")


def test_a_donation_not_yet_allocated_asks_no_provider(monkeypatch, clerk, finance, funded_project, campaign):
    from tests.relief.conftest import directed_gift

    monkeypatch.setattr(trace_module, "_OUTCOME_PROVIDERS", {"x": lambda ids: pytest.fail("asked")})
    assert not donation_trace(directed_gift(clerk, finance, funded_project, campaign, "50.00"))


def test_the_donations_app_imports_no_relief_module():
    import pathlib

    for path in pathlib.Path("donations").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from relief" not in text and "import relief" not in text, path


def test_the_open_data_api_trace_ends_at_the_households_helped(
    client, funded_project, district_a, district_b, officer, east
):
    household = register(district_a, east, name="欧阳秀梅", id_number=cn_id("19700101", 40)).beneficiary
    application = approved(funded_project, household, registrar=district_a, reviewer=district_b,
                           decider=officer, amount="100")  # fmt: skip
    aid_disburse(by=district_a, application=application, method="bank", voucher_number="V1")
    donation = _donation(funded_project)
    response = client.get(f"/api/public/donations/{donation.serial}/")
    assert response.status_code == 200
    [step] = response.json()["trace"]
    assert step["outcome"] == f"救助项目 {funded_project.name}：已帮助 1 户"
    assert step["outcome_url"] == f"/relief/projects/{funded_project.pk}/"
    body = response.content.decode()
    assert "欧阳秀梅" not in body and household.id_number not in body
