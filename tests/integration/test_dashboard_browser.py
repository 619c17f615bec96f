"""The dashboard in a real headless browser (Debian's chromium), driven over the DevTools
protocol with trio-websocket: it loads, shows printers, paper, queue, orders and restarts,
and a newly printed order appears live, without a reload. Screenshots of a phone-sized and
a desktop viewport are kept in ``test-artifacts/``.

A browser cannot run on virtual time, so this one test runs the service on the real clock
(fast probe and poll intervals keep it to a few seconds).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from tests.integration.harness import Rig, config_text, fixture_order, open_rig, tune, wait_for
from wixprint.app import ServiceOptions, create_service
from wixprint.config import load_config_text
from wixprint.supervisor import faults

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
LISTENING = "DevTools listening on "
ENGLISH = '\n[alerts]\nlanguage = "en"\n'
"""The dashboard speaks the owner's language (``[alerts] language``, German by default)."""

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (make test-deps)"
)


@asynccontextmanager
async def open_chromium(profile: Path) -> AsyncIterator[str]:
    """Start headless chromium with a fresh profile; yield its browser DevTools URL."""
    process = await trio.lowlevel.open_process(
        [CHROMIUM, *BROWSER_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr
    try:
        async with trio.open_nursery() as nursery:
            found: trio.MemorySendChannel[str]
            found, wait_url = trio.open_memory_channel[str](1)

            async def read_stderr() -> None:
                """Find the DevTools URL, then keep draining so chromium never blocks."""
                buffer = b""
                async for chunk in stderr:
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        text = line.decode(errors="replace")
                        if text.startswith(LISTENING):
                            found.send_nowait(text[len(LISTENING) :].strip())

            nursery.start_soon(read_stderr)
            with trio.fail_after(30):
                url = await wait_url.receive()
            yield url
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            process.terminate()
            with trio.move_on_after(10):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()


class DevTools:
    """One DevTools session, used sequentially: each call waits for its own reply and skips
    the protocol's events in between."""

    def __init__(self, ws: WebSocketConnection, session: str | None = None) -> None:
        self.ws = ws
        self.session = session
        self._id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        await self.ws.send_message(json.dumps(message))
        while True:
            reply = json.loads(await self.ws.get_message())
            if reply.get("id") == self._id and reply.get("sessionId") == self.session:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    async def js(self, expression: str) -> Any:
        """Evaluate in the page (awaiting a promise) and return the value."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise AssertionError(details.get("exception", {}).get("description", details))
        return result["result"].get("value")

    async def wait_text(self, selector: str, text: str, seconds: float = 20.0) -> None:
        """Until ``selector``'s text contains ``text``; the page polls, the test only waits."""
        await self.js(
            f"""new Promise((resolve, reject) => {{
                const until = Date.now() + {seconds * 1000};
                (function check() {{
                    const node = document.querySelector({json.dumps(selector)});
                    if (node && node.innerText.includes({json.dumps(text)})) return resolve(true);
                    if (Date.now() > until) return reject(new Error(
                        "no " + {json.dumps(text)} + " in " + {json.dumps(selector)} + ": " +
                        (node ? node.innerText : "(missing)")));
                    setTimeout(check, 50);
                }})();
            }})"""
        )

    async def text(self, selector: str) -> str:
        value = await self.js(f"document.querySelector({json.dumps(selector)}).innerText")
        return str(value)

    async def screenshot(self, viewport: dict[str, Any], path: Path) -> bytes:
        """The whole page at ``viewport``'s width, as PNG, saved at ``path``."""
        await self.call("Emulation.setDeviceMetricsOverride", **viewport)
        await self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        height = await self.js("Math.ceil(document.documentElement.scrollHeight)")
        shot = await self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": viewport["width"], "height": height, "scale": 1},
        )
        data = base64.b64decode(shot["data"])
        await trio.Path(path.parent).mkdir(parents=True, exist_ok=True)
        await trio.Path(path).write_bytes(data)
        return data


async def start_real_time_service(rig: Rig, text: str) -> None:
    """The whole service on the real clock and the real wall clock."""
    rig.config = load_config_text(text)
    rig.service = create_service(
        rig.config, ServiceOptions(with_monitor=False, with_watchdog=False)
    )
    await rig.nursery.start(rig.service.run)


@asynccontextmanager
async def open_page(browser_url: str) -> AsyncIterator[DevTools]:
    async with open_websocket_url(browser_url, max_message_size=64 * 1024 * 1024) as ws:
        browser = DevTools(ws)
        target = await browser.call("Target.createTarget", url="about:blank")
        attached = await browser.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        yield DevTools(ws, attached["sessionId"])


async def test_dashboard_shows_the_shop_and_a_printed_order_appears_live(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    async with open_rig(tmp_path) as rig:
        ports = {n: p.port for n, p in rig.printers.items()}
        text = config_text(tmp_path, rig.shop_url, ports, extra=ENGLISH)
        text = tune(text, "printers", probe_interval=1.0)
        text = tune(text, "connectivity", interval=1.0, interval_down=1.0)
        text = tune(text, "wix", poll_interval=0.5)
        rig.printers["bar"].paper_out = True  # the bar holds its drinks ticket
        rig.shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
        with faults.armed("fetcher.after_fetch", times=1):  # one restart to report
            await start_real_time_service(rig, text)
            await wait_for(lambda: len(rig.tickets("kitchen")) == 1, limit=20)
        url = rig.web_url

        with trio.fail_after(90):
            async with (
                open_chromium(tmp_path / "chromium") as browser_url,
                open_page(browser_url) as page,
            ):
                await page.call("Emulation.setDeviceMetricsOverride", **PHONE)
                await page.call("Page.navigate", url=f"{url}/")
                await page.wait_text("#live", "live")
                await page.wait_text("#orders", "#10231")
                await page.wait_text("#printers", "paper out")
                await page.wait_text("#events", "fetcher: InjectedFault")
                await page.wait_text("#overall", "degraded")
                printers = await page.text("#printers")
                for name in ("kitchen", "bar", "counter"):
                    assert name in printers
                await page.wait_text("#printers", "1 queued")
                bar = await page.js(
                    "[...document.querySelectorAll('#printers > li')]"
                    ".find(li => li.innerText.startsWith('bar')).innerText"
                )
                assert "paper out" in bar
                assert "offline" not in bar  # the paper, not the cable
                assert "oldest" in bar
                orders = await page.text("#orders")
                assert "kitchen @ kitchen: printed" in orders
                assert "kitchen @ bar: queued" in orders
                assert "Schönhauser" not in orders

                # A new order, printed while the page is open, appears without a reload.
                await page.js("window.sameDocument = 'yes'")
                rig.shop.add_order(fixture_order(fixtures_dir, "order-03-dine-in-pos.json"))
                await page.wait_text("#orders", "#10232")
                await wait_for(lambda: any("10232" in t for t in rig.tickets("kitchen")))
                await page.js(
                    """new Promise((resolve, reject) => {
                        const until = Date.now() + 20000;
                        (function check() {
                            const item = [...document.querySelectorAll("#orders > li")]
                                .find(li => li.innerText.includes("#10232"));
                            if (item && item.innerText.includes("kitchen @ kitchen: printed"))
                                return resolve(true);
                            if (Date.now() > until) return reject(new Error(
                                "10232 not printed: " + (item ? item.innerText : "-")));
                            setTimeout(check, 50);
                        })();
                    })"""
                )
                assert await page.js("window.sameDocument") == "yes"
                first = await page.js("document.querySelector('#orders > li').innerText")
                assert first.startswith("#10232")  # newest first

                # Readable on a phone: nothing wider than the screen, text not shrunk.
                assert await page.js("document.documentElement.scrollWidth <= window.innerWidth"), (
                    "the page scrolls sideways on a phone"
                )
                font = await page.js("parseFloat(getComputedStyle(document.body).fontSize)")
                assert font >= 14
                phone = await page.screenshot(PHONE, ARTIFACTS / "dashboard.png")
                desktop = await page.screenshot(DESKTOP, ARTIFACTS / "dashboard-desktop.png")
                assert await page.js("document.documentElement.scrollWidth <= window.innerWidth")
        for png in (phone, desktop):
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            assert len(png) > 10_000
