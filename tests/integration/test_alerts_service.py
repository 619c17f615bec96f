"""Alert mail through outages of the mail path itself, with a real SMTP server on 127.0.0.1.

What the owner sees: a mail written while the mail server or the internet was down arrives
once they are back, once, in the order written and dated when it was written; meanwhile the
kitchen keeps printing.
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import (
    TcpTarget,
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
    wait_fast,
    wait_for,
)
from wixprint.app import Service
from wixprint.events import AlertEvent, TicketPrinted, TicketQuarantined


def queued_for(service: Service, printer: str) -> int:
    """Tickets waiting for ``printer``; the cache names a printer once it has a job."""
    stats = service.ctx.queue_cache.get(printer)
    return 0 if stats is None else stats.depth


def titles(smtp: FakeSmtpServer) -> list[str]:
    """Subjects without the restaurant tag."""
    return [m.subject.split("] ", 1)[1] for m in smtp.messages]


async def test_a_mail_written_while_smtp_is_down_arrives_later_once(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    smtp = FakeSmtpServer()  # not started: the mail server is down
    try:
        async with open_rig(tmp_path, ("kitchen",)) as rig:
            printer = rig.printers["kitchen"]
            text = config_text(
                tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port
            )
            text = tune(text, "connectivity", interval=30.0, interval_down=5.0)
            await rig.start(tune(text, "wix", poll_interval=30.0))
            await pass_time(thread_clock, 10)
            printer.paper_out = True
            paper_gone = VirtualWall()()
            await pass_time(thread_clock, 300)
            health = await get_json(rig, "/health")
            assert health["checks"]["alerter"]["status"] == "degraded"
            assert "cannot send e-mail" in health["checks"]["alerter"]["reason"]

            smtp.start()
            back = VirtualWall()()
            await wait_fast(thread_clock, lambda: len(smtp.messages) >= 1, limit=1800)
            await pass_time(thread_clock, 600)  # and it is not sent again
            assert titles(smtp) == ["KRITISCH: Drucker kitchen: Papier leer"]
            assert "Papier nachlegen" in smtp.messages[0].body
            assert paper_gone + 120 <= sent_at(smtp.messages[0]) < back
            health = await get_json(rig, "/health")
            assert health["checks"]["alerter"]["status"] == "ready"
    finally:
        smtp.stop()


async def test_without_internet_the_kitchen_prints_on_and_mails_arrive_later_in_order(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        internet = TcpTarget()
        await rig.nursery.start(internet.serve)
        printer = rig.printers["kitchen"]
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port)
        text = tune(text, "connectivity", internet_target=internet.address, interval_down=3.0)
        service = await rig.start(tune(text, "wix", poll_interval=10.0))
        await pass_time(thread_clock, 15)

        printer.paper_out = True
        paper_gone = VirtualWall()()
        queued = await new_orders(rig, 2, every=5, clock=thread_clock)
        await pass_time(thread_clock, 20)
        # Spooled (a loaded machine may need more polls), waiting for paper.
        await wait_for(lambda: queued_for(service, "kitchen") >= 2)
        assert rig.tickets("kitchen") == []

        # The router dies: no internet, so no Wix and no mail server either.
        internet.set_up(False)
        rig.shop.set_down(True)
        smtp.stop()
        offline_since = VirtualWall()()
        await pass_time(thread_clock, 360)
        missed = str(new_order(rig)["number"])  # placed online meanwhile
        printer.paper_out = False  # someone refills the paper
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 2)
        assert ticket_numbers(rig, "kitchen") == queued  # printing goes on without internet
        await pass_time(thread_clock, 240)
        assert smtp.messages == []

        smtp.start()
        rig.shop.set_down(False)
        internet.set_up(True)
        back = VirtualWall()()
        await wait_fast(thread_clock, lambda: len(smtp.messages) >= 4, limit=120)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 3)
        await pass_time(thread_clock, 300)
        assert ticket_numbers(rig, "kitchen") == [*queued, missed]

        mails = smtp.messages
        assert titles(smtp) == [
            "KRITISCH: Drucker kitchen: Papier leer",
            "KRITISCH: Internet nicht erreichbar",
            "Behoben: Drucker kitchen: Papier leer",
            "Behoben: Internet nicht erreichbar",
        ]
        # Each dated when it was written: three during the outage, the last once it ended.
        dates = [sent_at(m) for m in mails]
        assert offline_since < dates[0] < dates[1] < dates[2] < back <= dates[3]
        assert dates[0] >= paper_gone + 120  # the paper grace
        assert dates[1] >= offline_since + 300  # the internet grace

        recovery = await get_json(rig, "/recovery/status")
        records = {e["what"]: e for e in recovery["recent"] if e["event"] == "recovery_recorded"}
        assert 590 <= records["internet"]["duration"] <= 620
        assert records["internet"]["held"] == 3  # the three mails written while it was down
        assert "printer:kitchen" in records


async def test_a_disk_that_refuses_the_outbox_still_gets_its_alert_out_directly(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    """A read-only SD card: the alert about it cannot go into the outbox, so it is mailed
    straight from memory, once; when the card takes writes again the resolve mail follows
    through the outbox, and nothing is mailed twice."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=smtp.port)
        service = await rig.start(tune(text, "wix", poll_interval=10.0))
        await pass_time(thread_clock, 15)
        spool = service.ctx.spool.get()

        await spool._run(spool._db().execute, "PRAGMA query_only=ON")  # the card turns read-only
        service.ctx.spool_check.ring()
        await wait_fast(thread_clock, lambda: len(smtp.messages) >= 1, limit=120)
        assert titles(smtp) == ["KRITISCH: Speicherkarte voll oder schreibgeschützt"]
        assert "readonly" in smtp.messages[0].body
        assert await spool.pending_alerts() == []  # it never reached the outbox

        await pass_time(thread_clock, 300)
        await spool._run(spool._db().execute, "PRAGMA query_only=OFF")
        await wait_fast(thread_clock, lambda: len(smtp.messages) >= 2, limit=120)
        await pass_time(thread_clock, 600)
        assert titles(smtp) == [
            "KRITISCH: Speicherkarte voll oder schreibgeschützt",
            "Behoben: Speicherkarte voll oder schreibgeschützt",
        ]
        assert await spool.pending_alerts() == []
        health = await get_json(rig, "/health")
        assert health["status"] == "ok"


async def test_a_burst_of_events_never_costs_the_alerter_the_one_it_must_act_on(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """The alerter's bus buffer (1024) used to overflow in a burst, and ``dropped`` was never
    looked at: the quarantined ticket after 3000 printed ones was lost, and no one was told.
    Now what it acts on is never dropped (the latest state per key, every quarantine and
    restart) and what it ignores cannot crowd it out."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        service = await rig.start(config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}))
        ctx = service.ctx
        with ctx.bus.subscribe(buffer=100_000) as seen:
            now = ctx.wall()
            for i in range(3000):  # one synchronous burst: the alerter cannot run in between
                ctx.publish(
                    TicketPrinted(
                        at=now,
                        job_id=100_000 + i,
                        order_number=str(20_000 + i),
                        printer="kitchen",
                        receipt="kitchen",
                        reprint=False,
                        latency=0.5,
                    )
                )
            ctx.publish(
                TicketQuarantined(
                    at=now,
                    job_id=424_242,
                    order_number="10042",
                    printer="kitchen",
                    receipt="kitchen",
                    error="RenderError: the ticket cannot be rendered",
                )
            )
            raised: list[str] = []
            with trio.fail_after(60):
                while not raised:
                    event = await seen.receive()
                    if isinstance(event, AlertEvent) and event.state == "raised":
                        raised.append(event.key)
            await pass_time(thread_clock, 60)
            while True:  # and nothing else was raised meanwhile
                try:
                    event = seen.receive_nowait()
                except trio.WouldBlock:
                    break
                if isinstance(event, AlertEvent) and event.state == "raised":
                    raised.append(event.key)
        assert raised == ["quarantined:424242"]
