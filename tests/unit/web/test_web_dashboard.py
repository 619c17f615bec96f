"""``GET /``: the dashboard page is self-contained, escapes data and ships a strict CSP."""

from __future__ import annotations

import dataclasses
import json
import re

from wixprint.web.app import create_app
from wixprint.web.dashboard import embed_json, load_dashboard
from wixprint.web.texts import DASHBOARD_TEXTS

from .fakes_web import FakeWorld

HOSTILE = "</script><img src=x onerror=alert(1)>&amp;\u2028"


async def test_dashboard_is_html_without_external_urls() -> None:
    response = await create_app(FakeWorld().deps()).test_client().get("/")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    html = await response.get_data(as_text=True)
    assert "<title>" in html
    assert re.search(r"[a-z][a-z0-9+.-]*://|[\"'(=]\s*//[a-z0-9]", html, re.IGNORECASE) is None
    # The one resource it loads is its own alarm sound, from its own origin; the preview's
    # picture comes inside the preview's JSON (a data: URL).
    assert re.findall(r"\b(?:src|href)\s*=[^;]*", html) == [
        'src = "data:image/png',  # ;base64, + the preview's picture
        'src = "/alarm.wav"',
    ]
    assert "innerHTML" not in html
    for path in ("/ws/events", "/health", "/orders", "/recovery/status", "/connectivity/status"):
        assert path in html


async def test_dashboard_csp_allows_only_its_own_inline_code() -> None:
    response = await create_app(FakeWorld().deps()).test_client().get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/]+=*'$", csp.split(";")[1].strip())
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_initial_events_are_embedded_and_cannot_break_out() -> None:
    world = FakeWorld(
        recent=[
            {"event": "alert_event", "at": 1.0, "level": "warning", "subject": HOSTILE},
        ]
    )
    response = await create_app(world.deps()).test_client().get("/")
    html = await response.get_data(as_text=True)
    assert "<img" not in html
    assert html.count("</script>") == 3  # the data blocks' and the code's, nothing injected
    block = re.search(
        r'<script id="initial-state" type="application/json">(.*?)</script>', html, re.DOTALL
    )
    assert block is not None
    assert json.loads(block.group(1)) == world.recent


def test_embed_json_escapes_markup_and_line_separators() -> None:
    text = embed_json({"s": HOSTILE})
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == {"s": HOSTILE}


def test_template_has_exactly_one_placeholder() -> None:
    dashboard = load_dashboard()
    assert dashboard.template.count("{{INITIAL_STATE}}") == 1


async def test_the_page_speaks_the_configured_language() -> None:
    world = FakeWorld()
    for language, word in (("de", "Drucker"), ("en", "Printers")):
        deps = dataclasses.replace(world.deps(), language=language)
        html = await (await create_app(deps).test_client().get("/")).get_data(as_text=True)
        assert f'<html lang="{language}">' in html
        block = re.search(r'<script id="texts" type="application/json">(.*?)</script>', html)
        assert block is not None
        assert json.loads(block.group(1))["printers"] == word


def test_both_languages_have_every_word() -> None:
    assert DASHBOARD_TEXTS["de"].keys() == DASHBOARD_TEXTS["en"].keys()
    template = load_dashboard().template
    for key in re.findall(r'data-t="([a-z_]+)"', template):
        assert key in DASHBOARD_TEXTS["en"]
    for key in re.findall(r'\bt\("([a-z_]+)"[,)]', template):
        assert key in DASHBOARD_TEXTS["en"], key
