import pytest
from django.core.cache import cache, caches

from tests.factories import CityBranchFactory, CountyBranchFactory, GrassrootsBranchFactory, StaffFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    # the portal caches its name and facts; tests must not see each other's
    cache.clear()
    caches["fragments"].clear()
    yield
    cache.clear()
    caches["fragments"].clear()


@pytest.fixture(autouse=True)
def _default_language():
    # a request in English leaves English active in the thread (LocaleMiddleware activates, nothing
    # deactivates): the next test starts in the portal's default language, as a new process would
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def branch_tree(db):
    """city ─┬─ east ── east_school
    └─ west ── west_school"""
    city = CityBranchFactory()
    east = CountyBranchFactory(parent=city, name="测试市东区红十字会", code="CSE")
    west = CountyBranchFactory(parent=city, name="测试市西区红十字会", code="CSW")
    return {
        "city": city,
        "east": east,
        "west": west,
        "east_school": GrassrootsBranchFactory(parent=east, name="东区一中红十字会", code="CSES"),
        "west_school": GrassrootsBranchFactory(parent=west, name="西区一中红十字会", code="CSWS"),
    }


@pytest.fixture
def city_staff(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["district_staff"])


@pytest.fixture
def east_staff(branch_tree):
    return StaffFactory(branch=branch_tree["east"], roles=["district_staff"])


@pytest.fixture
def is_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"
