"""/api/docs/ shows the API under the site's Content-Security-Policy (issue 13)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_loads_under_the_csp(page, live_server, screenshot_dir):
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    response = page.goto(live_server.url + "/api/docs/")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "script-src 'self'" in csp
    # the operations are drawn: the page is not blank
    expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
    expect(page.get_by_text("/api/public/donations/").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    page.screenshot(path=screenshot_dir / "api-docs.png")
    assert violations == []
