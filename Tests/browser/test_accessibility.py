"""Accessibility basics checked by axe-core on the main pages: every control labelled, contrast
of at least 4.5:1 (WCAG 2 AA), landmarks and a sensible order."""
import pytest
from axe_playwright_python.sync_playwright import Axe

AXE = Axe()
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page):
    results = AXE.run(page, options=OPTIONS)
    # axe ran on the page (labels, contrast and the rest were checked), not on nothing.
    checked = {rule["id"] for rule in results.response["passes"]}
    assert {"label", "color-contrast"} & checked or any(v["id"] in ("label", "color-contrast") for v in results.response["violations"])
    return [
        f"{rule['id']}: {rule['help']} — " + "; ".join(node["html"][:120] for node in rule["nodes"][:3])
        for rule in results.response["violations"]
    ]


@pytest.mark.parametrize("login,path", [
    (None, "/app/login"),
    ("lianhe_secretary", "/app"),
    ("lianhe_secretary", "/app/inbox"),
    ("gw02", "/app/vehicles"),
    ("gw02", "/app/vehicles/new"),
    ("gw02", "/app/returnees/new"),
])
def test_pages_pass_axe(server, phone, login, path):
    page = phone(login)
    page.goto(server.url(path))
    assert violations(page) == []


def test_the_pass_timeline_passes_axe(server, phone):
    filed = server.ready_passes("gw02", 1)[0]
    page = phone("gw02")
    page.goto(server.url(f"/app/passes/{filed['id']}"))
    assert violations(page) == []
