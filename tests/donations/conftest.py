import pytest

from tests.factories import StaffFactory


@pytest.fixture
def city(branch_tree):
    return branch_tree["city"]


@pytest.fixture
def clerk(city):
    return StaffFactory(branch=city, roles=["donation_clerk"], last_name="林", first_name="晓雨")


@pytest.fixture
def reviewer(city):
    return StaffFactory(branch=city, roles=["finance_reviewer"], last_name="周", first_name="明远")


@pytest.fixture
def campaign(city):
    from tests.donations.factories import CampaignFactory

    return CampaignFactory(branch=city, name="测试抗疫专项募捐", slug="test-covid", is_emergency=True)
