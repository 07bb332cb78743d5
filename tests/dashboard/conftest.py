"""Fixtures of the Chromium tests: one headless browser per test module and a fresh page per
test (each module starts its own server, as its data and state differ)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def browser():
    from tests.dashboard.browser_support import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, request):
    from tests.dashboard.browser_support import open_page

    with open_page(browser, request) as page:
        yield page
