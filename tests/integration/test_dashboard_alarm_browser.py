"""The dashboard rings, in a real headless browser (Debian's chromium over DevTools): a raised
critical problem shows a full-width banner and plays the app's own alarm sound after one tap
allowed audio; acknowledging silences it in this browser only (another one still rings); and
the strict CSP blocks nothing on the way. Real clock, like the other browser test."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
from trio_websocket import open_websocket_url

from tests.integration.harness import config_text, open_rig, tune
from tests.integration.test_dashboard_browser import (
    ARTIFACTS,
    CHROMIUM,
    PHONE,
    DevTools,
    open_chromium,
    start_real_time_service,
)

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make browser-deps)"
)

WATCH_CSP = (
    "window.cspViolations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
)
RINGING = """(() => {
    const audio = document.querySelector('#alarm audio');
    return !document.getElementById('alarm').hidden && audio !== null && !audio.paused
        && audio.currentSrc.endsWith('/alarm.wav') && audio.error === null;
})()"""
SILENT = """(() => document.getElementById('alarm').hidden
    && document.querySelector('audio') === null)()"""


@asynccontextmanager
async def open_pages(browser_url: str) -> AsyncIterator[tuple[DevTools, DevTools]]:
    """Two pages: one in the default profile, one in a separate browser context (its own
    storage, as another tablet would have)."""
    async with open_websocket_url(browser_url, max_message_size=64 * 1024 * 1024) as ws:
        browser = DevTools(ws)
        pages = []
        other = await browser.call("Target.createBrowserContext")
        for context in (None, other["browserContextId"]):
            extra = {"browserContextId": context} if context else {}
            target = await browser.call("Target.createTarget", url="about:blank", **extra)
            attached = await browser.call(
                "Target.attachToTarget", targetId=target["targetId"], flatten=True
            )
            page = DevTools(ws, attached["sessionId"])
            await page.call("Page.enable")
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_CSP)
            await page.call("Emulation.setDeviceMetricsOverride", **PHONE)
            pages.append(page)
        yield pages[0], pages[1]


async def tap(page: DevTools, selector: str) -> None:
    """A real (trusted) touch on the element: what the browser counts as a user gesture."""
    x, y = await page.js(
        f"""(() => {{
            const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2];
        }})()"""
    )
    for kind in ("mousePressed", "mouseReleased"):
        await page.call(
            "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
        )


async def until(page: DevTools, expression: str, seconds: float = 30.0) -> None:
    failed = json.dumps(f"timed out: {expression}")
    await page.js(
        f"""new Promise((resolve, reject) => {{
            const until = Date.now() + {seconds * 1000};
            (function check() {{
                if ({expression}) return resolve(true);
                if (Date.now() > until) return reject(new Error({failed}));
                setTimeout(check, 50);
            }})();
        }})"""
    )


async def allow_sound(page: DevTools) -> None:
    """The one tap that allows audio, again if the browser could not play yet: the page
    says "Ton an" only once a play succeeded, and the next tap tries again (a busy machine
    may not have the alarm sound loaded in time; a person taps twice)."""
    for _ in range(3):
        await tap(page, "#sound")
        try:
            await until(page, "document.getElementById('sound').innerText.includes('Ton an')", 10)
        except AssertionError:
            continue
        return
    raise AssertionError("three taps did not allow sound")


async def test_a_critical_problem_rings_until_acknowledged_in_this_browser(
    tmp_path: Path,
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port})
        text = tune(text, "printers", probe_interval=1.0)
        text = tune(text, "connectivity", interval=1.0, interval_down=1.0)
        await start_real_time_service(rig, text + "\n[alerts]\nprinter_offline_after = 2.0\n")
        url = f"{rig.web_url}/"

        with trio.fail_after(120):
            async with (
                open_chromium(tmp_path / "chromium") as browser_url,
                open_pages(browser_url) as (tablet, other),
            ):
                await tablet.call("Page.navigate", url=url)
                await tablet.wait_text("#live", "live")
                assert await tablet.js(SILENT)
                assert await tablet.text("#sound") == "Ton aus"  # German: the default language
                await allow_sound(tablet)
                assert await tablet.js(SILENT)  # allowed, but nothing to ring about

                printer.cover_open = True
                await until(tablet, RINGING)
                assert "Deckel offen" in await tablet.text("#alarm")
                width = await tablet.js(
                    "document.getElementById('alarm').getBoundingClientRect().width"
                )
                assert width == await tablet.js("document.documentElement.clientWidth")
                await tablet.screenshot(PHONE, ARTIFACTS / "dashboard-alarm.png")

                await tap(tablet, "#alarm-ack")
                await until(tablet, SILENT, seconds=5)
                # Acknowledged in this browser: a reload and the next polls stay quiet...
                await tablet.call("Page.reload")
                await tablet.wait_text("#live", "live")
                await tablet.js("new Promise(r => setTimeout(r, 6000))")
                assert await tablet.js(SILENT)
                # ...while another tablet, with its own storage, still rings.
                await other.call("Page.navigate", url=url)
                await other.wait_text("#live", "live")
                await allow_sound(other)
                await until(other, RINGING)

                # The cover closes: the other tablet falls silent by itself.
                printer.cover_open = False
                await until(other, SILENT)
                for page in (tablet, other):
                    assert await page.js("window.cspViolations") == []
