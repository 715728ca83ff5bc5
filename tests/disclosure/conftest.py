import pytest


@pytest.fixture
def city(branch_tree):
    return branch_tree["city"]
