"""The panel's banner when the kernel's client gave up reconnecting: a Retry button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jupyter_opencode.testing import chromium

from .lab import shot
from .test_xss import harness  # noqa: F401  (the harness page fixture)

pytestmark = pytest.mark.browser


def test_disconnected_banner_offers_retry(harness: str) -> None:  # noqa: F811
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 820, "height": 400})
        page.goto(f"{harness}/js/test/harness.html")
        page.wait_for_function("window.__ready === true")
        page.evaluate(
            "() => { window.__model.set('connection_error', 'HTTP 503 (gave up after 5 tries)');"
            " window.__model.set('connection', 'disconnected'); }"
        )
        banner = page.locator(".jo-banner")
        expect(banner).to_contain_text("Disconnected.")
        expect(banner).to_contain_text("gave up after 5 tries")
        shot(page, "disconnected-banner")
        banner.get_by_role("button", name="Retry").click()
        assert page.evaluate("window.__model.sent").count({"type": "retry"}) == 1
        page.evaluate("() => window.__model.set('connection', 'connected')")
        expect(banner).to_be_hidden()
