"""Every dashboard action in a real headless browser (Debian's chromium over DevTools), with
and without the admin token, on a phone (390×844, German: the default) and on a desktop
(English): test print, pause and resume, reprint of one kind on one printer, retry of a job
set aside, the preview; printer problems at the top in large type. Screenshots are kept in
``test-artifacts/`` (the README's come from there). Real clock, like the other browser tests.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.integration.harness import config_text, fixture_order, open_rig, tune, wait_for
from tests.integration.test_dashboard_alarm_browser import tap, until
from tests.integration.test_dashboard_browser import (
    ARTIFACTS,
    CHROMIUM,
    DESKTOP,
    PHONE,
    DevTools,
    open_chromium,
    open_page,
    start_real_time_service,
)
from wixprint.web.texts import dashboard_texts

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="Debian's chromium is not installed (make browser-deps)",
    ),
]

TOKEN = "test-admin"
ORDER = "10231"  # kitchen, a drinks ticket at the bar, driver slip and receipt at the counter
LATER = "10232"
ACTIONS = {
    "test-print": '[data-action="test-print"][data-printer="kitchen"]',
    "pause": '[data-action="pause"][data-printer="kitchen"]',
    "preview": f'[data-action="preview"][data-order="{ORDER}"]',
    "reprint": f'[data-action="reprint-go"][data-order="{ORDER}"]',
    "retry": '[data-action="retry"]',
}
ROUTES = [
    ("POST", "/printers/kitchen/test-print"),
    ("POST", "/printers/kitchen/pause"),
    ("POST", "/printers/kitchen/resume"),
    ("GET", f"/orders/{ORDER}/preview"),
    ("POST", f"/orders/{ORDER}/reprint"),
    ("POST", "/jobs/1/retry"),
]


async def press(page: DevTools, selector: str) -> None:
    """Scroll the element into view and tap it (a trusted click)."""
    await until(page, f"document.querySelector({json.dumps(selector)}) !== null")
    await page.js(
        f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})"
    )
    await tap(page, selector)


async def visible(page: DevTools, selector: str) -> bool:
    return bool(
        await page.js(
            f"(() => {{ const n = document.querySelector({json.dumps(selector)});"
            " return n !== null && !n.hidden && n.getClientRects().length > 0; })()"
        )
    )


async def sign_in(page: DevTools, token: str) -> None:
    await until(page, "!document.getElementById('login').hidden")
    await page.js(f"document.getElementById('token').value = {json.dumps(token)}")
    await press(page, "#token-save")


async def open_reprint(page: DevTools, receipt: str, printer: str) -> None:
    if not await visible(page, ACTIONS["reprint"]):  # the panel may be open still
        await press(page, f'[data-action="reprint"][data-order="{ORDER}"]')
    for field, value in (("receipt", receipt), ("printer", printer)):
        select = f'[data-field="{field}"]'
        await until(page, f"document.querySelector({json.dumps(select)}) !== null")
        await page.js(
            f"(() => {{ const s = document.querySelector({json.dumps(select)});"
            f" s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change')); }})()"
        )


async def viewport_shot(page: DevTools, path: Path) -> None:
    """What the screen shows now (the README's pictures are made from these)."""
    await page.js("document.getElementById('notice').hidden = true")
    shot = await page.call("Page.captureScreenshot", format="png")
    await trio.Path(path).write_bytes(base64.b64decode(shot["data"]))


async def no_sideways_scroll(page: DevTools) -> None:
    assert await page.js("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways"
    )


@pytest.mark.parametrize(
    ("viewport", "language"), [(PHONE, "de"), (DESKTOP, "en")], ids=["phone-de", "desktop-en"]
)
async def test_every_dashboard_action_with_and_without_the_token(
    tmp_path: Path, fixtures_dir: Path, viewport: dict[str, Any], language: str
) -> None:
    words = dashboard_texts(language)
    size = "phone" if viewport is PHONE else "desktop"
    async with open_rig(tmp_path) as rig:
        ports = {n: p.port for n, p in rig.printers.items()}
        text = config_text(
            tmp_path, rig.shop_url, ports, extra=f'\n[alerts]\nlanguage = "{language}"\n'
        )
        text = tune(text, "printers", probe_interval=1.0, reply_timeout=1.0, proof="process_id")
        text = tune(text, "connectivity", interval=1.0, interval_down=1.0)
        text = tune(text, "wix", poll_interval=0.5)
        bar, counter = rig.printers["bar"], rig.printers["counter"]
        bar.process_id = False  # never confirms: its drinks ticket is set aside
        rig.shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
        await start_real_time_service(rig, text)
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1, limit=30)
        url = rig.web_url

        with trio.fail_after(240):
            async with (
                open_chromium(tmp_path / "chromium") as browser_url,
                open_page(browser_url) as page,
            ):
                await page.call("Emulation.setDeviceMetricsOverride", **viewport)
                await page.call("Page.navigate", url=f"{url}/")
                await page.wait_text("#live", "live")
                await page.wait_text("#orders", f"#{ORDER}")
                assert await page.js("document.documentElement.lang") == language
                assert (
                    await page.js("document.querySelector('h2').textContent") == words["printers"]
                )
                # The drinks ticket, sent three times without proof, needs attention.
                await until(page, f"document.querySelector({json.dumps(ACTIONS['retry'])})", 60)

                # -- without the token: the routes refuse, and the page asks for it first --
                for method, path in ROUTES:
                    status = await page.js(
                        f"fetch({json.dumps(path)}, {{method: {json.dumps(method)}}})"
                        ".then(r => r.status)"
                    )
                    assert status == 401, path
                printed = len(rig.tickets("kitchen"))
                for action, selector in ACTIONS.items():
                    if action == "reprint":
                        await open_reprint(page, "kitchen", "kitchen")
                    await press(page, selector)
                    await until(page, "!document.getElementById('login').hidden")
                    await press(page, "#admin")  # not now: the action is dropped
                    await until(page, "document.getElementById('login').hidden")
                await page.js("new Promise(r => setTimeout(r, 1500))")
                assert len(rig.tickets("kitchen")) == printed
                assert not await visible(page, ".preview")
                status = await page.js("fetch('/connectivity/status').then(r => r.json())")
                assert status["printers"]["kitchen"]["paused"] is False

                # -- a wrong token is asked again; the right one does what was asked ------
                await press(page, ACTIONS["test-print"])
                await sign_in(page, "wrong")
                await page.wait_text("#login-error", words["token_wrong"])
                await sign_in(page, TOKEN)
                await wait_for(lambda: any("edge to edge" in t for t in rig.tickets("kitchen")))
                await page.wait_text("#notice", words["done_test"].format(printer="kitchen"))
                stored = await page.js(
                    "[sessionStorage.getItem('wixprint.adminToken'), localStorage.length]"
                )
                assert stored == [TOKEN, 0]  # this browser session only

                # -- pause: jobs wait, the top says so in large type; resume prints ---------
                await press(page, ACTIONS["pause"])
                paused = '#problems [data-printer="kitchen"][data-kind="paused"]'
                await until(page, f"document.querySelector({json.dumps(paused)}) !== null")
                await page.wait_text("#problems", words["paused_title"].format(printer="kitchen"))
                rig.shop.add_order(fixture_order(fixtures_dir, "order-03-dine-in-pos.json"))
                await page.wait_text("#orders", f"#{LATER}")
                await page.js("new Promise(r => setTimeout(r, 3000))")
                assert not any(LATER in t for t in rig.tickets("kitchen"))

                # -- a paper problem stands out at the top ---------------------------------
                counter.paper_out = True
                out = '#problems [data-printer="counter"][data-kind="paper_out"]'
                await until(page, f"document.querySelector({json.dumps(out)}) !== null", 30)
                problem = await page.js(
                    f"(() => {{ const n = document.querySelector({json.dumps(out)});"
                    " const r = n.getBoundingClientRect();"
                    " return [n.innerText, parseFloat(getComputedStyle(n).fontSize), r.top]; })()"
                )
                paper = {
                    "de": "Drucker counter: Papier leer",
                    "en": "Printer counter: out of paper",
                }
                assert problem[0] == paper[language]
                assert problem[1] >= 24  # large type, readable at arm's length
                await page.js("window.scrollTo(0, 0)")
                top = await page.js(
                    "document.getElementById('problems').getBoundingClientRect().top"
                )
                assert top < 120  # at the top, right under the header... or above it
                await no_sideways_scroll(page)
                await page.screenshot(viewport, ARTIFACTS / f"dashboard-problems-{size}.png")
                await page.js("window.scrollTo(0, 0)")
                await viewport_shot(page, ARTIFACTS / f"readme-dashboard-{size}.png")
                counter.paper_out = False

                await press(page, '[data-action="resume"][data-printer="kitchen"]')
                await wait_for(lambda: any(LATER in t for t in rig.tickets("kitchen")), limit=30)
                await until(page, f"document.querySelector({json.dumps(paused)}) === null")

                # -- retry the job set aside, once it can be confirmed ---------------------
                bar.process_id = True
                bar_tickets = len(rig.tickets("bar"))
                await press(page, ACTIONS["retry"])
                await wait_for(lambda: len(rig.tickets("bar")) > bar_tickets, limit=30)
                assert "REPRINT" in rig.tickets("bar")[-1]
                await page.wait_text("#notice", words["done_retry"])

                # -- reprint one kind on one printer ----------------------------------------
                counter_tickets = len(rig.tickets("counter"))
                kitchen_tickets = len(rig.tickets("kitchen"))
                await open_reprint(page, "kitchen", "kitchen")
                await no_sideways_scroll(page)
                await press(page, ACTIONS["reprint"])
                await wait_for(lambda: len(rig.tickets("kitchen")) > kitchen_tickets, limit=30)
                assert "REPRINT" in rig.tickets("kitchen")[-1]
                assert ORDER in rig.tickets("kitchen")[-1]
                await page.js("new Promise(r => setTimeout(r, 1500))")
                assert len(rig.tickets("counter")) == counter_tickets  # nowhere else

                # -- the preview: the tickets as they print, as a picture and as text -------
                await press(page, ACTIONS["preview"])
                await until(page, "document.querySelector('.preview img') !== null")
                await until(page, "document.querySelector('.preview img').complete")
                width = await page.js("document.querySelector('.preview img').naturalWidth")
                assert width == 576 + 32  # 80 mm paper, drawn from the printed bytes
                texts = await page.js(
                    "[...document.querySelectorAll('.preview pre')].map(p => p.textContent)"
                )
                heads = [t.split("\n", 1)[0] for t in texts]
                assert heads == [
                    "=== kitchen @ kitchen (48 columns) ===",
                    "=== kitchen @ bar (48 columns) ===",
                    "=== driver @ counter (48 columns) ===",
                    "=== customer @ counter (48 columns) ===",
                ]
                assert any("Schönhauser Allee 148" in t for t in texts)
                await no_sideways_scroll(page)
                await page.screenshot(viewport, ARTIFACTS / f"dashboard-preview-{size}.png")
                await page.js("document.querySelector('.preview').scrollIntoView()")
                await viewport_shot(page, ARTIFACTS / f"readme-preview-{size}.png")

                # The token never travelled in a URL.
                urls = await page.js("performance.getEntries().map(e => e.name)")
                assert not [u for u in urls if TOKEN in u]
                assert TOKEN not in await page.js("location.href")
