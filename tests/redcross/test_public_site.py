import re

import pytest
from django.urls import reverse

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

NAV = ["信息公开", "捐赠查询"]
# apps not built yet register no section: the navigation never leads to a page that does not exist
NOT_YET_BUILT = ["三献", "应急救护", "志愿服务", "新闻动态"]


def test_home_page_in_chinese_with_branch_name_navigation_and_footer(client, branch_tree):
    city = branch_tree["city"]
    city.public_fundraising_certificate = "测民公募〔2020〕001 号"
    city.phone = "0571-86001234"
    city.save()
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "<title>测试市红十字会</title>" in page
    nav = page[page.index('<nav class="main-nav"') : page.index("</nav>")]
    for item in NAV:
        assert item in nav
    for item in NOT_YET_BUILT:
        assert item not in nav
    assert "测民公募〔2020〕001 号" in page
    assert "0571-86001234" in page
    # the branch directory lists districts with their contacts
    assert "测试市东区红十字会" in page


def test_home_page_is_accessible_shell(client, branch_tree):
    page = client.get("/").content.decode()
    for landmark in ('role="banner"', "<main", 'role="contentinfo"', '<nav class="main-nav" aria-label='):
        assert landmark in page
    assert 'class="skip-link" href="#main"' in page
    # every form control has a label
    for control_id in re.findall(r'<select id="([^"]+)"', page):
        assert f'<label for="{control_id}">' in page
    assert 'name="viewport"' in page


def test_home_page_before_setup_uses_default_name(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "红十字会信息平台" in response.content.decode()


def test_home_page_query_count(client, branch_tree, django_assert_max_num_queries):
    client.get("/")  # the live totals and latest gifts are cached for 30 seconds, the portal's facts for a minute
    with django_assert_max_num_queries(4):
        client.get("/")


def test_language_switch_to_english(client, branch_tree):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Information disclosure" in page
    assert "Donation lookup" in page
    assert "信息公开" not in page
    # the branch's own name is data, not translated
    assert "测试市红十字会" in page


def test_admin_is_chinese_and_titled_with_the_branch_name(client, branch_tree):
    page = client.get(reverse("admin:login")).content.decode()
    assert "测试市红十字会 管理系统" in page
    assert "用户名" in page  # Django's own Chinese admin strings


def test_admin_index_shows_worker_status(client, branch_tree):
    client.force_login(StaffFactory(branch=branch_tree["city"], is_superuser=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert "后台任务" in page
    assert "尚未收到后台任务心跳" in page


def test_security_headers(client, branch_tree):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}


def test_openapi_schema_lists_the_staff_api(client, branch_tree):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert "/api/branches/" in response.content.decode()


def test_admin_login_is_rate_limited(client, branch_tree):
    StaffFactory(username="target", branch=branch_tree["city"])
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "target", "password": "wrong-password"})
    response = client.post(reverse("admin:login"), {"username": "target", "password": "correct-horse-battery"})
    assert response.status_code == 429  # locked out even with the right password


def test_chinese_first_even_for_an_english_browser(client, branch_tree):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "信息公开" in page


def test_admin_offers_the_language_switch(client, branch_tree):
    client.force_login(StaffFactory(branch=branch_tree["city"], is_superuser=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert 'name="language" value="en"' in page


def test_a_missing_page_is_the_sites_404_and_a_missing_api_address_answers_json(client):
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert "页面不存在" in page.content.decode() and 'class="site-header"' in page.content.decode()
    # routes whose id cannot match (too long, wrong characters) and unknown paths under /api/
    for url in ("/api/public/bulletins/99999999999999999999999/", "/api/public/nothing/", "/api/nothing/"):
        response = client.get(url)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", url
        assert "detail" in response.json()


def test_every_navigation_link_answers(client, branch_tree):
    """Each section in the navigation and on the home page's cards leads to a page that exists."""
    from redcross.navigation import public_sections

    page = client.get("/").content.decode()
    nav = page[page.index('<nav class="main-nav"') : page.index("</nav>")]
    hrefs = re.findall(r'href="([^"#]+)"', nav)
    assert len(hrefs) == len(public_sections()) + 1  # the home page, then each section
    for section in public_sections():
        assert section.url in hrefs
        assert f'<a href="{section.url}">{section.title}</a>' in page
    for href in hrefs:
        assert client.get(href).status_code == 200, href
