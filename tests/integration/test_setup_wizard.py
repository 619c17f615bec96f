"""``wixprint setup`` driven in tmux as an owner would: against the simulated shop, fake
printers on 127.0.0.2 and 127.0.0.3 port 9100 and a mail server on loopback. The config it
writes passes ``config check``, keeps the keys it did not ask about, and the service started
with it prints an order on both printers. Ctrl-C leaves nothing written."""

from __future__ import annotations

import io
import stat
import sys
import tomllib
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing

from tests.fakes.lan_printer import ON_FIXED_ADDRESSES, LanPrinter
from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import API_KEY, SITE_ID, VirtualWall, fixture_order, wait_for
from tests.integration.tmux import Tmux
from wixprint.app import ServiceOptions, create_service
from wixprint.commands.configcheck import run_config_check
from wixprint.config import load_config
from wixprint.receipts.testticket import ruler
from wixprint.sim.shop import FakeWixShop, serve_shop

pytestmark = [pytest.mark.slow, ON_FIXED_ADDRESSES]
WIZARD = [sys.executable, "-m", "wixprint.cli", "setup", "--config"]
ENV = {"TZ": "Europe/Berlin", "HOME": "/nonexistent", "LANG": "C.UTF-8", "TERM": "screen"}


def seed(path: Path, shop_url: str) -> str:
    """What an operator had before: the wizard must keep all of it that it does not ask."""
    text = f"""# our Pi in the restaurant
[service]
state_dir = "{path.parent / "state"}"   # spool here
restaurant_name = "Alter Name"
stop_timeout = 5.0

[http]
host = "127.0.0.1"
port = 0

[wix]
base_url = "{shop_url}"
poll_interval = 2.0                 # fast for the test
not_before = "2025-01-01T00:00:00Z"

[connectivity]
internet_target = "{shop_url.removeprefix("http://")}"
"""
    path.write_text(text)
    return text


async def test_ctrl_c_leaves_nothing_written(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    fresh, existing = tmp_path / "fresh.toml", tmp_path / "existing.toml"
    before = seed(existing, "http://127.0.0.1:9")
    for path in (fresh, existing):
        tmux = Tmux(tmp_path, path.stem)
        try:
            await tmux.start([*WIZARD, str(path)], ENV, str(tmp_path))
            await tmux.answer("Language (de, en) [de]", "en")
            await tmux.answer("Restaurant name", "Halb fertig")
            await tmux.wait_for("Time zone")
            await tmux.interrupt()
            screen = await tmux.wait_for("EXIT=130")
        finally:
            await tmux.kill()
        assert "Stopped. Nothing was written." in screen
    assert not fresh.exists()
    assert existing.read_text() == before
    left = sorted(p.name for p in await trio.Path(tmp_path).iterdir())
    assert [n for n in left if not n.startswith("tmux-")] == ["existing.toml"]


async def test_the_wizard_end_to_end(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    config_path, credstore = tmp_path / "config.toml", tmp_path / "credstore"
    shop = FakeWixShop(api_key=API_KEY, site_id=SITE_ID)
    shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
    kitchen = LanPrinter("127.0.0.2", model="TM-m30III")
    counter = LanPrinter("127.0.0.3", model="TM-T88VI")
    tmux = Tmux(tmp_path, "e2e")
    with FakeSmtpServer() as smtp:
        async with trio.open_nursery() as nursery:
            shop_url = await nursery.start(partial(serve_shop, shop))
            for printer in (kitchen, counter):
                await nursery.start(printer.serve)
            seed(config_path, shop_url)
            try:
                # As root would, but into the test's own credential store.
                argv = [*WIZARD, str(config_path), "--credstore", str(credstore)]
                await tmux.start(argv, ENV, str(tmp_path))
                await tmux.answer("Language (de, en) [de]", "en")
                await tmux.answer("Restaurant name [Alter Name]", "Gasthaus Tmux")
                await tmux.answer("Time zone [", "")
                await tmux.answer("Wix site ID", SITE_ID)
                await tmux.answer("Wix API key", "wrong-key")
                screen = await tmux.wait_for("Enter again?")
                assert "Wix refuses (401). Likely:" in screen
                assert "the key is mistyped, incomplete or revoked" in screen
                await tmux.send("y")
                await tmux.answer("Wix site ID", "")
                await tmux.answer("Wix API key", API_KEY)
                await tmux.wait_for("Wix answers. Newest order: #10231")
                await tmux.answer("Networks to scan", "127.0.0.0/29")
                screen = await tmux.wait_for(
                    "Name for 127.0.0.2 (EPSON TM-m30III); - skips [kitchen]"
                )
                listed = [line.split() for line in screen.splitlines() if line.startswith("127.")]
                assert listed == [
                    ["127.0.0.2", "EPSON", "TM-m30III", "ready", "TM-m30III", "(48", "columns)"],
                    ["127.0.0.3", "EPSON", "TM-T88VI", "ready", "TM-T88VI", "(42", "columns)"],
                ]
                await tmux.answer("[kitchen]:", "")
                await tmux.answer("What does kitchen print?", "")
                await tmux.answer("Only these menu sections", "")
                await tmux.answer("Name for 127.0.0.3 (EPSON TM-T88VI); - skips [bar]", "counter")
                await tmux.answer("What does counter print?", "")
                await tmux.answer("Add a printer by address", "")
                await tmux.answer("Print a test page on kitchen?", "")
                await tmux.answer('up to its mark "48"?', "y")
                await tmux.answer("Print a test page on counter?", "")
                await tmux.answer('up to its mark "42"?', "y")
                await tmux.answer("Mail provider", "other")
                await tmux.answer("SMTP server", "127.0.0.1")
                await tmux.answer("Port [587]", str(smtp.port))
                await tmux.answer("Security (starttls, ssl, none)", "none")
                await tmux.answer("User name", "")
                await tmux.answer("Sender address", "pi@example.com")
                await tmux.answer("Recipients", "owner@example.com")
                await tmux.answer("Send a test mail now?", "")
                screen = await tmux.wait_for("EXIT=0", polls=1200)
            finally:
                await tmux.kill()
            assert "Test mail sent to owner@example.com." in screen
            key_file = credstore / "wixprint.wix_api_key"
            assert f"Secret stored: {key_file}" in screen
            assert key_file.read_text() == API_KEY + "\n"
            assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
            assert stat.S_IMODE(credstore.stat().st_mode) == 0o700
            assert not (credstore / "wixprint.smtp_password").exists()  # no login: none
            assert "\nok\n" in screen  # config check
            assert "Done. Next:" in screen
            assert len(smtp.messages) == 1
            # The test pages: a ruler as wide as each printer's profile.
            assert ruler(48)[0] + "\n" in kitchen.tickets[0].text
            assert ruler(42)[0] + "\n" in counter.tickets[0].text

            assert stat.S_IMODE(config_path.stat().st_mode) == 0o640
            text = config_path.read_text()
            data = tomllib.loads(text)
            assert "# our Pi in the restaurant" in text
            assert "poll_interval = 2.0                 # fast for the test" in text
            assert data["service"]["restaurant_name"] == "Gasthaus Tmux"
            assert data["service"]["stop_timeout"] == 5.0
            assert data["wix"]["base_url"] == shop_url
            assert data["wix"]["site_id"] == SITE_ID
            assert data["wix"]["api_key"] == ""  # in the credential store instead
            assert API_KEY not in text
            assert [
                (p["name"], p["host"], p["receipts"], p["columns"]) for p in data["printers"]
            ] == [
                ("kitchen", "127.0.0.2", ["kitchen"], 48),
                ("counter", "127.0.0.3", ["driver", "customer"], 42),
            ]
            assert data["layout"]["language"] == "en"

            env = {"WIXPRINT_WIX_API_KEY": API_KEY}
            out, err = io.StringIO(), io.StringIO()
            assert run_config_check(str(config_path), environ=env, out=out, err=err) == 0, (
                err.getvalue()
            )

            config = load_config(config_path, env)
            service = create_service(
                config, ServiceOptions(wall=VirtualWall(), with_monitor=False, with_watchdog=False)
            )
            await nursery.start(service.run)
            await wait_for(
                lambda: (
                    any("10231" in t.text for t in kitchen.tickets)
                    and sum("10231" in t.text for t in counter.tickets) >= 2
                )
            )
            await service.stop()
            nursery.cancel_scope.cancel()
    assert sum("10231" in t.text for t in kitchen.tickets) == 1
    assert sum("10231" in t.text for t in counter.tickets) == 2
