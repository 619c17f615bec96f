"""The operator's commands against the whole running service: ``wixprint check`` (exit codes
for systemd timers and monitoring), ``status``, ``orders``, ``reprint`` and ``watch``.

The commands use synchronous httpx, so they run in a worker thread while the service answers
on the Trio thread, on the virtual clock.
"""

from __future__ import annotations

import json
import socket
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from tests.integration.harness import Rig, config_text, fixture_order, open_rig, tune, wait_for
from wixprint.cli import main
from wixprint.commands.watch import follow_events
from wixprint.supervisor import faults

ORDER_01 = "order-01-delivery.json"
ORDER_03 = "order-03-dine-in-pos.json"


async def wixprint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``wixprint ARGV`` in a worker thread: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = await trio.to_thread.run_sync(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def health_is(rig: Rig, status: str) -> None:
    async with httpx.AsyncClient(base_url=rig.web_url) as client:
        with trio.fail_after(60):
            while (await client.get("/health")).json()["status"] != status:  # noqa: ASYNC110
                await trio.sleep(0.5)


def kitchen_only(rig: Rig, tmp_path: Path) -> str:
    """One kitchen printer, probed every second: state changes show within a few seconds."""
    text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
    text = tune(text, "printers", probe_interval=1.0)
    return tune(text, "connectivity", interval=1.0, interval_down=1.0)


def unused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_check_exit_codes_follow_health_and_unreachable_is_2(
    tmp_path: Path,
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        service = await rig.start(kitchen_only(rig, tmp_path))
        url = rig.web_url
        await health_is(rig, "ok")
        code, out, _ = await wixprint(capsys, "check", "--url", url)
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == "status: ok"
        assert any(line.split() == ["spool", "ready"] for line in lines)
        assert any(line.split() == ["printer:kitchen", "ready"] for line in lines)

        rig.printers["kitchen"].paper_out = True
        await health_is(rig, "degraded")
        code, out, _ = await wixprint(capsys, "check", "--url", url)
        assert code == 1
        assert out.splitlines()[0] == "status: degraded"
        assert any(
            line.split() == ["printer:kitchen", "degraded", "paper", "out"]
            for line in out.splitlines()
        )
        code, out, _ = await wixprint(capsys, "check", "--json", "--url", url)
        assert code == 1
        body = json.loads(out)
        assert body["status"] == "degraded"
        assert body["checks"]["printer:kitchen"]["reason"] == "paper out"
        rig.printers["kitchen"].paper_out = False
        await health_is(rig, "ok")

        # A spool that cannot write: /health answers 503 and check says down.
        spool = service.ctx.spool.get()
        await spool._run(spool._db().execute, "PRAGMA query_only=ON")
        rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
        await health_is(rig, "down")
        code, out, _ = await wixprint(capsys, "check", "--url", url)
        await spool._run(spool._db().execute, "PRAGMA query_only=OFF")
        assert code == 2
        assert out.splitlines()[0] == "status: down"
        spool_line = next(line for line in out.splitlines() if line.split()[0] == "spool")
        assert "down" in spool_line
        assert "cannot write" in spool_line
        await health_is(rig, "ok")
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)

    nobody = f"http://127.0.0.1:{unused_port()}"
    code, out, _ = await wixprint(capsys, "check", "--url", nobody)
    assert code == 2
    assert out.startswith("status: down (cannot reach ")
    code, out, _ = await wixprint(capsys, "check", "--json", "--url", nobody)
    assert code == 2
    assert json.loads(out) == {"status": "down", "error": "unreachable: ConnectError"}


async def test_status_orders_and_reprint(
    tmp_path: Path,
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WIXPRINT_CONFIG", raising=False)
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
        with faults.armed("fetcher.after_fetch", times=1):
            await rig.start(kitchen_only(rig, tmp_path))
            await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        url = rig.web_url
        await trio.sleep(3)  # the spool actor refreshes its queue cache every 2 s

        code, out, _ = await wixprint(capsys, "status", "--url", url)
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == "root [rest_for_one] running"
        fetcher = next(line for line in lines if line.strip().startswith("- fetcher:"))
        assert fetcher.strip() == (
            "- fetcher: running, restarts 1"
            "  last error: InjectedFault: injected fault at fetcher.after_fetch"
        )
        assert "  - printer:kitchen: running, restarts 0" in out
        assert "queue kitchen: 0 waiting, 1 printed" in lines
        recent = [line for line in lines if line.startswith("recent: ")]
        assert len(recent) == 1
        assert "actor_restarted" in recent[0]
        assert "actor=fetcher" in recent[0]
        code, out, _ = await wixprint(capsys, "status", "--json", "--url", url)
        assert code == 0
        assert json.loads(out)["queues"]["kitchen"]["printed"] == 1

        code, out, _ = await wixprint(capsys, "orders", "--url", url)
        assert code == 0
        assert out.splitlines() == ["#   10231  APPROVED    kitchen@kitchen:printed"]
        code, out, _ = await wixprint(capsys, "orders", "--json", "--url", url)
        assert json.loads(out)["orders"][0]["number"] == "10231"

        no_config = str(tmp_path / "missing.toml")
        monkeypatch.delenv("WIXPRINT_ADMIN_TOKEN", raising=False)
        code, _, err = await wixprint(
            capsys, "reprint", "10231", "--url", url, "--config", no_config
        )
        assert code == 2
        assert "no admin token" in err
        monkeypatch.setenv("WIXPRINT_ADMIN_TOKEN", "wrong")
        code, _, err = await wixprint(capsys, "reprint", "10231", "--url", url)
        assert code == 1
        assert "reprint refused (401)" in err
        assert "wrong" not in err
        monkeypatch.setenv("WIXPRINT_ADMIN_TOKEN", "test-admin")
        code, _, err = await wixprint(capsys, "reprint", "99999", "--url", url)
        assert (code, "reprint refused (404)" in err) == (1, True)
        assert len(rig.tickets("kitchen")) == 1

        code, out, _ = await wixprint(
            capsys, "reprint", "10231", "--receipt", "kitchen", "--url", url
        )
        assert code == 0
        assert out.startswith("reprint queued: ")
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)
        again = rig.tickets("kitchen")[1]
        assert "10231" in again
        assert "REPRINT" in again
        await trio.sleep(3)
        code, out, _ = await wixprint(capsys, "orders", "--url", url)
        assert "kitchen@kitchen:printed (reprint)" in out.splitlines()[0]


async def test_watch_prints_events_and_reconnects_after_a_service_restart(
    tmp_path: Path,
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = kitchen_only(rig, tmp_path)
        await rig.start(text)
        url = rig.web_url
        port = int(url.rsplit(":", 1)[1])
        lines: list[str] = []

        def connects() -> int:
            return sum(line.startswith("connected to ws://") for line in lines)

        def printed_since(index: int, number: str) -> bool:
            return any("ticket_printed" in line and number in line for line in lines[index:])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(partial(follow_events, url, out=lines.append))
            await wait_for(lambda: connects() == 1)
            rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
            await wait_for(lambda: printed_since(0, "order_number=10231"))

            await rig.stop()  # the socket closes with 1001; watch keeps trying
            await trio.sleep(5)
            assert connects() == 1
            # The next process listens on the same port, as systemd would restart it.
            http_block = '[http]\nhost = "127.0.0.1"\nport = 0\n'
            assert http_block in text
            await rig.start(
                text.replace(http_block, http_block.replace("port = 0", f"port = {port}"))
            )
            assert rig.web_url == url
            await wait_for(lambda: connects() == 2)
            second = len(lines)
            rig.shop.add_order(fixture_order(fixtures_dir, ORDER_03))
            await wait_for(lambda: printed_since(second, "order_number=10232"))
            nursery.cancel_scope.cancel()

    err = capsys.readouterr().err
    assert "disconnected (ConnectionClosed); retrying in 0.5 s" in err
    assert "disconnected (OSError); retrying in 1.0 s" in err  # refused while it restarts
    received = next(line for line in lines if " order_received " in line)
    assert received.split()[1] == "order_received"
    assert "number=10231" in received
    events = [line for line in lines if not line.startswith("connected to ")]
    assert all(len(line.split()[0]) == 8 and line.split()[0][2] == ":" for line in events)
    assert not any("Schönhauser" in line or "1234567" in line for line in lines)


async def test_watch_stops_after_max_events(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        await rig.start(kitchen_only(rig, tmp_path))
        lines: list[str] = []
        async with trio.open_nursery() as nursery:

            async def follow() -> None:
                count = await follow_events(rig.web_url, out=lines.append, max_events=2)
                assert count == 2

            nursery.start_soon(follow)
            await wait_for(lambda: len(lines) == 1)
            rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
        assert len(lines) == 3  # the connect line and two events
        assert lines[0] == f"connected to {rig.web_url.replace('http://', 'ws://')}/ws/events"
