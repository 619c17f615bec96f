"""A Raspberry Pi that starts 30 days behind, as the real process sees it: ``wixprint run``
under libfaketime (Debian's faketime package, ``make faketime-deps``), while the simulated
shop, in this test process, keeps the true time and dates its answers with it.

At the first start nobody vouches for the Pi's clock except Wix, and Wix says it is 30 days
behind: the first start (the ``not_before`` gate) is Wix's time, so orders approved before
the install never print. Then NTP corrects the clock (the offset file changes under the
running process): nothing prints twice, nothing is dropped, no restart.
"""

from __future__ import annotations

import glob
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import trio

from tests.fakes.fake_printer import FakePrinter
from tests.integration.harness import API_KEY, SITE_ID, config_text, wait_for
from tests.integration.test_process_disk import health_until, printed
from tests.integration.test_process_root import (
    START_LIMIT,
    child_env,
    open_notify_socket,
    open_shop,
    spawn,
)
from wixprint.sim.shop import FakeWixShop

LIMIT = 90.0


def libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        pytest.fail("libfaketime is missing: make faketime-deps (Debian package faketime)")
    return found[0]


async def test_thirty_days_behind_at_the_first_start_then_corrected(tmp_path: Path) -> None:
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID)
    before_install = datetime.now(UTC) - timedelta(days=2)
    history = [str(shop.new_demo_order(before_install)["number"]) for _ in range(3)]
    printer = FakePrinter(print_delay=0.05)
    offset = tmp_path / "faketime"
    offset.write_text("-30d\n")
    async with (
        open_shop(shop) as url,
        open_notify_socket() as (address, notes),
        trio.open_nursery() as nursery,
    ):
        port = await nursery.start(printer.serve)
        path = tmp_path / "config.toml"
        text = config_text(tmp_path, url, {"kitchen": port})
        path.write_text(text.replace('not_before = "2025-01-01T00:00:00Z"', ""))
        path.chmod(0o600)
        env = child_env(
            NOTIFY_SOCKET=address,
            LD_PRELOAD=libfaketime(),
            FAKETIME_TIMESTAMP_FILE=str(offset),
            FAKETIME_CACHE_DURATION="1",
            FAKETIME_DONT_FAKE_MONOTONIC="1",  # Trio's timers run on the monotonic clock
        )
        async with spawn(["run", "--config", str(path)], env) as child:
            await notes.wait_for("READY=1", START_LIMIT)
            web = await child.wait_event("web_listening", START_LIMIT)
            recorded = await child.wait_event("first_start_recorded", LIMIT)
            assert recorded["source"] == "Wix's time"
            first = datetime.fromisoformat(recorded["first_start"])
            assert abs(first - datetime.now(UTC)) < timedelta(minutes=2)
            # The process really lives 30 days ago (its own log lines say so).
            logged = datetime.fromisoformat(recorded["ts"])
            assert timedelta(days=29) < datetime.now(UTC) - logged < timedelta(days=31)

            async with httpx.AsyncClient(base_url=web["url"]) as client:
                _, health = await health_until(client, lambda s, b: "clock" in b["checks"])
                clock = health["checks"]["clock"]
                assert clock["status"] == "degraded"
                assert clock["reason"] == "the clock is 30 d behind Wix's time"

                new = [str(shop.new_demo_order(datetime.now(UTC))["number"]) for _ in range(2)]
                await wait_for(lambda: sorted(printed(printer)) == sorted(new), LIMIT)

                # NTP corrects the clock: 30 days forward under the running process.
                offset.write_text("+0d\n")
                await health_until(
                    client, lambda s, b: b["checks"]["clock"]["status"] == "ready", LIMIT
                )
                new.append(str(shop.new_demo_order(datetime.now(UTC))["number"]))
                await wait_for(lambda: sorted(printed(printer)) == sorted(new), LIMIT)
                await trio.sleep(5)  # more polls: nothing again
            assert sorted(printed(printer)) == sorted(new)
            assert not set(history) & set(printed(printer))
            assert not any("REPRINT" in t.text for t in printer.tickets)
            assert notes.lines().count("READY=1") == 1
            child.process.send_signal(signal.SIGTERM)
            assert await child.wait_exit(START_LIMIT) == 0
        nursery.cancel_scope.cancel()
