"""A ticket that cannot be rendered, as the kitchen and an operator see it.

It is tried three times, then set aside as failed: counted on ``/metrics``, its error kept
in the spool and told in the alert mail, one log line per try. The other orders print, and
the printer actor never restarts over it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from tests.crash.test_bad_input import poison_renderer
from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import (
    child_status,
    config_text,
    get_json,
    jobs_of,
    new_order,
    open_rig,
    pass_time,
    ticket_numbers,
    wait_for,
)
from tests.integration.test_poll_mark_order import logged, metric


async def test_a_ticket_that_cannot_be_rendered_is_set_aside_after_three_tries_and_alerted(
    tmp_path: Path,
    thread_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    smtp: FakeSmtpServer,
) -> None:
    poisoned: set[str] = set()
    poison_renderer(monkeypatch, poisoned)
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port)
        )
        thread_clock.autojump_threshold = 1.0  # no jump while it prints: its latency counts
        good = str(new_order(rig)["number"])
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        thread_clock.autojump_threshold = 0.1
        bad = str(new_order(rig)["number"])
        poisoned.add(bad)  # before any poll can fetch it
        await wait_for(lambda: len(smtp.messages) == 1)
        await pass_time(thread_clock, 30)

        assert ticket_numbers(rig, "kitchen") == [good]
        (job,) = jobs_of(await get_json(rig, "/orders"), bad)
        assert job["state"] == "failed"
        error = f"RenderError: kitchen ticket of job {job['job_id']} failed: poison"
        assert rig.service is not None
        stored = await rig.service.ctx.spool.get().get_job(job["job_id"])
        assert stored is not None
        assert stored.error == error
        assert f"({error})" in smtp.messages[0].body  # the alert says what went wrong
        failed = 'wixprint_tickets_failed_total{printer="kitchen"}'
        assert await metric(rig, failed) == 1
        # The good ticket took a fraction of a second from its job to paper.
        assert await metric(rig, "wixprint_print_latency_seconds_count") == 1
        assert 0.0 < await metric(rig, "wixprint_print_latency_seconds_sum") < 1.0
        tries = logged(caplog, "render_failed")
        assert [(t["actor"], t["order"], t["error"]) for t in tries] == [
            ("printer", bad, "RenderError")
        ] * 3
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "printer:kitchen")["restarts"] == 0
