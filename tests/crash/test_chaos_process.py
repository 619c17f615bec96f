"""Process-level chaos: the real ``wixprint run`` against the fakes, killed with SIGKILL at
random moments (mid-fetch, mid-commit, mid-print, any time) and started again, repeatedly.

After every kill the spool passes ``PRAGMA integrity_check``; at the end the service drains,
stops cleanly on SIGTERM, and the ledger is clean: no ticket lost to a kill, every possible
duplicate marked REPRINT. The kills show in the persisted restart history.

Both profiles arm every fault point at 5 % per hit in the child as well: crashes inside the
process on top of the kills. Real time: the child has its own clock. The quick profile is
small (30 orders, 3 kills).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import trio

from tests.crash.chaos import chaos_config, feed_orders, raw_orders
from tests.crash.conftest import chaos_kills, chaos_orders
from tests.crash.ledger import MAX_COPIES, compare, expected_orders, printed_tickets
from tests.crash.process import (
    ServiceProcess,
    child_env,
    free_port,
    integrity_check,
    job_states,
)
from tests.fakes.fake_printer import FakePrinter, line_delay
from tests.integration.harness import open_rig
from wixprint.config import load_config_text
from wixprint.runner import HISTORY_FILE
from wixprint.sim.shop import FakeWixShop
from wixprint.supervisor import faults

MOMENTS = ("fetch", "commit", "print", "anytime")
EVERY_FAULT = ",".join(f"{point}=0.05" for point in faults.KNOWN_POINTS)
"""In-process faults on top of the kills, in both profiles (``WIXPRINT_FAULTS``): every
fault point fires on 5 % of its hits."""


def real_now() -> datetime:
    return datetime.now(UTC)


async def wait_until_changed(probe: object, limit: float) -> None:
    """Poll ``probe()`` (a counter) until it moves, at most ``limit`` seconds."""
    assert callable(probe)
    start = probe()
    with trio.move_on_after(limit):
        while probe() == start:  # noqa: ASYNC110 - the fakes' counters have no event
            await trio.sleep(0.002)


async def kill_at(
    moment: str,
    service: ServiceProcess,
    shop: FakeWixShop,
    printers: dict[str, FakePrinter],
    rng: random.Random,
) -> None:
    """Wait for the moment, then SIGKILL."""

    def searches() -> int:
        return shop.statistics().searches

    def job_bytes() -> int:
        return sum(p.job_bytes for p in printers.values())

    if moment == "fetch":  # a search is in flight: the answer is held back
        shop.delay_responses(rng.uniform(0.2, 0.5))
        await wait_until_changed(searches, 10.0)
        await trio.sleep(rng.uniform(0.0, 0.15))
    elif moment == "commit":  # the answer with a new order just went out
        shop.new_demo_order(real_now())
        await wait_until_changed(searches, 10.0)
        await trio.sleep(rng.uniform(0.0, 0.05))
    elif moment == "print":  # bytes reach a printer, proof not yet back
        await wait_until_changed(job_bytes, 10.0)
        await trio.sleep(rng.uniform(0.0, 0.15))
    else:
        await trio.sleep(rng.uniform(0.1, 3.0))
    await service.kill()
    shop.delay_responses(0.0)


async def run_process_chaos(
    tmp_path: Path, seed: int, orders: int, kills: int, *, faults: str = ""
) -> None:
    rng = random.Random(seed)
    rig_cm = open_rig(tmp_path, shop_clock=real_now)  # the service runs on the real clock
    async with rig_cm as rig, httpx.AsyncClient(timeout=2.0) as client:
        for printer in rig.printers.values():
            # a wide mid-print window; a long stream must still drain in minutes
            printer.print_delay = line_delay(0.2 if orders <= 100 else 0.05)
        rig.shop.load_fixture_orders()
        ports = {name: p.port for name, p in rig.printers.items()}
        text = chaos_config(tmp_path, rig.shop_url, ports, http_port=free_port(), poll_interval=1.0)
        config_path = tmp_path / "config.toml"
        config_path.write_text(text)
        config = load_config_text(text)
        spool_path = tmp_path / "state" / "spool.sqlite3"
        history_file = spool_path.parent / HISTORY_FILE
        env = child_env(faults, seed)
        service = ServiceProcess(config_path, tmp_path, config.http.port, env, history=history_file)
        checks: list[str] = []
        moments: list[str] = []
        try:
            await service.start(client)
            async with trio.open_nursery() as nursery:
                stream_rng = random.Random(f"{seed}:stream")
                mean_gap = max(0.05, (kills + 1) * 2.5 / orders)
                nursery.start_soon(
                    lambda: feed_orders(
                        rig.shop, orders, stream_rng, mean_gap=mean_gap, now=real_now
                    )
                )
                for _ in range(kills):
                    await service.restart_if_exited(client)
                    moment = rng.choice(MOMENTS)
                    moments.append(moment)
                    await kill_at(moment, service, rig.shop, rig.printers, rng)
                    result = await trio.to_thread.run_sync(integrity_check, spool_path)
                    checks.append(result)
                    assert result == "ok", f"seed={seed}: spool corrupt after kill: {result}"
                    await service.start(client)
            # Drain: every ticket out and nothing queued.
            expected = expected_orders(raw_orders(rig.shop), config)
            with trio.move_on_after(60.0 + orders * 0.5):
                while True:
                    await service.restart_if_exited(client)
                    report = compare(expected, printed_tickets(rig.printers), seed=seed)
                    if not report.missing and await service.queue_depth(client) == 0:
                        break
                    await trio.sleep(0.5)
            status = await service.recovery_status(client)
            code = await service.terminate()
        finally:
            await service.cleanup()
        # A kill re-sends what each printer held: one more copy per kill at most.
        report = compare(
            expected, printed_tickets(rig.printers), seed=seed, max_copies=MAX_COPIES + kills
        )
        states = await trio.to_thread.run_sync(job_states, spool_path)
        final_check = await trio.to_thread.run_sync(integrity_check, spool_path)
        report.notes.append(
            f"kill moments: {moments}; starts={service.starts} kills={service.kills} "
            f"unexpected exits={service.unexpected_exits}; job states: {states}"
        )
        print(report.summary(), report.notes[-1])
        why = report.describe() + f"\nlast log lines:\n{service.log_tail()}"
        assert report.ok, why
        assert code == 0, why
        assert final_check == "ok", why
        assert states.get("queued", 0) == states.get("printing", 0) == 0, why
        if not faults:
            assert service.unexpected_exits == [], why
        # The kills are in the restart history that survives the process.
        history = status.get("history") or {}
        processes = history.get("processes", [])
        died = [p for p in processes if not p.get("current") and p.get("exited_at") is None]
        assert len(processes) >= 2, f"{why}\nhistory: {history}"
        assert 1 <= len(died) <= kills, f"{why}\nhistory: {history}"


async def test_chaos_process_quick(tmp_path: Path, seed: int) -> None:
    await run_process_chaos(tmp_path, seed, orders=30, kills=3, faults=EVERY_FAULT)


@pytest.mark.chaos
async def test_chaos_process_long(tmp_path: Path, seed: int) -> None:
    await run_process_chaos(
        tmp_path, seed, orders=chaos_orders(), kills=chaos_kills(), faults=EVERY_FAULT
    )
