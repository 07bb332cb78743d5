"""Accessibility: every page of the real app checked by axe-core in Debian's Chromium.

Each page declared in ``dashboard/app.py`` is opened in a 1400×900 page of ``streamlit run``
on a free localhost port; once its script run has finished, axe-core runs with the WCAG 2.0,
2.1 and 2.2 A/AA rules and no violation of impact *serious* or *critical* may remain.
axe-core comes from npm (``bash scripts/install-axe``, into the git-ignored ``.cache/axe``).
Skipped where Chromium or axe-core is absent, except in CI (``CI=true``), where either
missing is a failure. Screenshots of failures go to ``test-artifacts/``.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO
from tests.dashboard.browser_support import (
    CI,
    require_chromium,
    streamlit_server,
    wait_for_script_run,
)

AXE_VERSION = "4.14.1"  # the version scripts/install-axe pins
AXE_JS = REPO / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# url_path of every page in dashboard/app.py's menu → the start of its title (h1)
PAGES = {
    "overview": "NHS Greater Manchester Integrated Care Board",
    "map": "Map: NHS Greater Manchester",
    "inverse-care": "Inverse care law: NHS Greater Manchester",
    "trends": "Trends: NHS Greater Manchester",
    "gp-funding": "GP funding by practice deprivation",
    "profile": "Area profile: NHS Greater Manchester",
    "equity-audit": "Equity audit of a service's own records",
    "allocation": "Allocation modeller",
    "add-data": "Add data",
    "learning": "Learning log: NHS Greater Manchester",
}
ENTRANCE = "start"  # app.py's default page: "/" opens the Overview through it

# Violations in markup that Streamlit itself generates, which the app cannot change: rule id
# → CSS selector of the Streamlit element. A node is let through only for that rule and only
# inside that element; everything else on the page, that element included, is still checked.
STREAMLIT_INTERNAL = {
    # st.date_input draws each part of a date (day, month, year) as a text-sized
    # react-aria spinbutton (18×20 px). The widget's own calendar button beside them is the
    # equivalent control of full size, which WCAG 2.5.8 allows ("Equivalent" exception).
    "target-size": "[data-testid='stDateInputField'] [role='spinbutton']",
}

require_chromium()
if not AXE_JS.exists():
    if CI:
        pytest.fail(f"{AXE_JS} is missing in CI: .ci/run must run bash scripts/install-axe",
                    pytrace=False)
    pytest.skip(f"axe-core not installed: run `bash scripts/install-axe` (npm install "
                f"--no-save --prefix .cache/axe axe-core@{AXE_VERSION})",
                allow_module_level=True)

# runs axe, then drops the nodes STREAMLIT_INTERNAL lets through; returns plain data
RUN_AXE = """async ([tags, internal]) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          elementRef: true});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes
      .filter(n => !(internal[v.id] && n.element && n.element.closest(internal[v.id])))
      .map(n => n.target.join(' ')),
  })).filter(v => v.targets.length > 0);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # the learning log and session uploads go to a temporary folder, not the user's cache
    with streamlit_server({"FAIRSHARE_STATE_DIR": str(tmp_path_factory.mktemp("a11y"))}) as url:
        yield url


def describe(page_path: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} serious/critical axe-core violation(s) on /{page_path}:"]
    for v in violations:
        targets = ", ".join(v["targets"][:3])
        more = f" (+{len(v['targets']) - 3} more)" if len(v["targets"]) > 3 else ""
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} — {targets}{more}")
    return "\n".join(lines)


def declared_pages() -> tuple[str, list[str]]:
    """(the entrance's URL path, the menu's URL paths) as dashboard/app.py declares them,
    read from its source: importing it would run it."""
    tree = ast.parse((REPO / "dashboard" / "app.py").read_text(encoding="utf-8"))
    menu = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and any(getattr(t, "id", None) == "MENU_PAGES" for t in node.targets))
    entrance = next(keyword.value.value for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"
                    for keyword in node.keywords if keyword.arg == "url_path"
                    and isinstance(keyword.value, ast.Constant))
    return entrance, [row[3] for row in ast.literal_eval(menu)]


def test_every_declared_page_is_checked():
    entrance, menu = declared_pages()
    assert entrance == ENTRANCE
    assert menu == list(PAGES)
    assert len(PAGES) == 10


@pytest.mark.parametrize("page_path", list(PAGES))
def test_page_has_no_serious_accessibility_violations(server, page, page_path):
    page.goto(f"{server}/{page_path}")
    wait_for_script_run(page)
    heading = page.locator("[data-testid='stMain'] h1").first
    heading.wait_for()
    assert heading.inner_text().startswith(PAGES[page_path])
    assert page.get_by_text("Page not found").count() == 0
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.first.inner_text()

    page.add_script_tag(path=str(AXE_JS))
    assert page.evaluate("axe.version") == AXE_VERSION
    violations = page.evaluate(RUN_AXE, [WCAG_TAGS, STREAMLIT_INTERNAL])
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, describe(page_path, blocking)
