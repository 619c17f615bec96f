"""Recovery from a printer outage, end to end, with a real SMTP server on 127.0.0.1.

What the owner sees: a printer unplugged for ten minutes costs one mail when it goes and one
when it is back, and every order comes out once, in order, seconds after its return. The
operator sees the recovery in ``/recovery/status``: what, how long, how much was held.
"""

from __future__ import annotations

from pathlib import Path

import trio.testing

from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import (
    VirtualWall,
    config_text,
    get_json,
    new_order,
    new_orders,
    open_rig,
    pass_time,
    sent_at,
    ticket_numbers,
    tune,
    wait_for,
)


async def test_a_printer_unplugged_for_ten_minutes_costs_two_mails_and_no_order(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port)
        text = tune(text, "wix", poll_interval=10.0)
        text = tune(text, "printers", probe_interval=30.0)
        await rig.start(tune(text, "connectivity", interval=30.0, interval_down=3.0))
        before = await new_orders(rig, 2, every=5)
        await wait_for(lambda: len(rig.tickets("kitchen")) == 2)

        printer.unreachable = True
        unplugged = VirtualWall()()
        await pass_time(thread_clock, 60)
        during = []
        for _ in range(8):  # an order a minute while the printer is gone
            during.append(str(new_order(rig)["number"]))
            await pass_time(thread_clock, 60)
        await pass_time(thread_clock, 60)
        assert len(rig.tickets("kitchen")) == 2
        assert len(smtp.messages) == 1
        offline = smtp.messages[0]
        assert "KRITISCH" in offline.subject
        assert "Drucker kitchen nicht erreichbar" in offline.subject
        # Mailed once the two-minute grace had passed, not at the first failed probe.
        assert unplugged + 120 <= sent_at(offline) <= unplugged + 150

        printer.unreachable = False
        back = trio.current_time()
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 10)
        assert trio.current_time() - back < 15
        await pass_time(thread_clock, 120)
        assert ticket_numbers(rig, "kitchen") == before + during
        assert all("REPRINT" not in t for t in rig.tickets("kitchen"))
        assert len(smtp.messages) == 2
        resolved = smtp.messages[1]
        assert "Behoben: Drucker kitchen nicht erreichbar" in resolved.subject
        assert "8 Ticket(s)" in resolved.body

        recovery = await get_json(rig, "/recovery/status")
        [record] = [e for e in recovery["recent"] if e["event"] == "recovery_recorded"]
        assert record["what"] == "printer:kitchen"
        assert 570 <= record["duration"] <= 615  # as observed: the first probe comes late
        assert record["held"] == 8
        assert recovery["queues"]["kitchen"]["depth"] == 0
