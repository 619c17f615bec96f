"""Alerts through every channel with the whole service in-process: a fake ntfy server and a
fake webhook bridge (real HTTP on 127.0.0.1), real SMTP servers (aiosmtpd), on the virtual
clock.

What the owner sees: each alert reaches each channel once, carrying its original time even
when the internet was down; a channel that is down holds back no other; the second mail
server takes over when the first cannot be reached; and neither an alerter crash nor a
process restart repeats an announced problem or loses its resolved message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import trio
import trio.testing

from tests.fakes.push import FakeNtfy, FakeWebhookReceiver
from tests.fakes.smtp import FakeSmtpServer
from tests.integration.harness import (
    Rig,
    TcpTarget,
    VirtualWall,
    child_status,
    config_text,
    get_json,
    open_rig,
    pass_time,
    sent_at,
    tune,
    wait_fast,
)
from tests.integration.test_alerts_service import titles
from wixprint.alerts.messages import format_time
from wixprint.supervisor import faults

TZ = ZoneInfo("Europe/Berlin")
TOPIC = "gasthaus-test-x7k2"


def push_config(ntfy: FakeNtfy, bridge: FakeWebhookReceiver, *, ntfy_levels: str) -> str:
    return f"""
[alerts.ntfy]
url = "{ntfy.topic_url(TOPIC)}"
token = "tk_test"
levels = {ntfy_levels}

[alerts.webhook]
url = "{bridge.url()}"
token = "bridge-secret"
"""


@asynccontextmanager
async def push_servers(rig: Rig) -> AsyncIterator[tuple[FakeNtfy, FakeWebhookReceiver]]:
    ntfy, bridge = FakeNtfy(token="tk_test"), FakeWebhookReceiver(token="bridge-secret")
    await rig.nursery.start(ntfy.serve)
    await rig.nursery.start(bridge.serve)
    yield ntfy, bridge


def webhook_log(bridge: FakeWebhookReceiver) -> list[tuple[str, str]]:
    return [(c.body["kind"], c.body["key"]) for c in bridge.calls]


async def test_push_and_webhook_get_each_alert_once_with_its_original_time_after_an_outage(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig, push_servers(rig) as (ntfy, bridge):
        internet = TcpTarget()
        await rig.nursery.start(internet.serve)
        printer = rig.printers["kitchen"]
        text = config_text(
            tmp_path,
            rig.shop_url,
            {"kitchen": printer.port},
            extra=push_config(ntfy, bridge, ntfy_levels='["critical"]'),
        )
        text = tune(text, "connectivity", internet_target=internet.address, interval_down=3.0)
        await rig.start(tune(text, "wix", poll_interval=10.0))
        await pass_time(thread_clock, 15)

        # A warning: the webhook takes every level, the phone only critical ones.
        printer.paper_near_end = True
        await wait_fast(thread_clock, lambda: len(bridge.calls) >= 1, limit=60)
        assert webhook_log(bridge) == [("raise", "paper_near_end:kitchen")]
        assert ntfy.messages == []

        # The router dies: the push servers are out of reach like everything else.
        printer.paper_out = True
        paper_gone = VirtualWall()()
        internet.set_up(False)
        rig.shop.set_down(True)
        ntfy.set_up(False)
        bridge.set_up(False)
        offline_since = VirtualWall()()
        await pass_time(thread_clock, 360)
        health = await get_json(rig, "/health")
        reason = health["checks"]["alerter"]["reason"]
        assert health["checks"]["alerter"]["status"] == "degraded"
        assert "cannot push to ntfy" in reason
        assert "cannot reach the alert webhook" in reason
        assert "tk_test" not in reason
        assert TOPIC not in reason
        printer.paper_out = printer.paper_near_end = False  # refilled meanwhile
        await pass_time(thread_clock, 240)
        assert (ntfy.messages, len(bridge.calls)) == ([], 1)

        internet.set_up(True)
        rig.shop.set_down(False)
        ntfy.set_up(True)
        bridge.set_up(True)
        back = VirtualWall()()
        back_trio = trio.current_time()
        await wait_fast(
            thread_clock, lambda: len(ntfy.messages) >= 3 and len(bridge.calls) >= 5, limit=120
        )
        await pass_time(thread_clock, 600)  # and nothing comes twice

        assert webhook_log(bridge) == [
            ("raise", "paper_near_end:kitchen"),
            ("raise", "paper_out:kitchen"),
            ("raise", "internet_down"),
            ("resolve", "paper_out:kitchen"),
            ("resolve", "internet_down"),
        ]
        keys = [c.headers["idempotency-key"] for c in bridge.calls]
        assert len(set(keys)) == len(keys)
        # Each dated when it was decided, though all arrived after the outage.
        raised = {(c.body["kind"], c.body["key"]): c.body["raised_at_unix"] for c in bridge.calls}
        assert paper_gone + 120 <= raised["raise", "paper_out:kitchen"] < back
        assert offline_since + 300 <= raised["raise", "internet_down"] < back
        assert raised["resolve", "paper_out:kitchen"] < back <= raised["resolve", "internet_down"]
        assert all(c.received_at >= back_trio for c in bridge.calls[1:])

        # The phone: critical problems only (and their resolved messages), once each,
        # every text with its original time.
        assert [m.title.split("] ", 1)[1] for m in ntfy.messages] == [
            "KRITISCH: Drucker kitchen: Papier leer",
            "KRITISCH: Internet nicht erreichbar",
            "Behoben: Drucker kitchen: Papier leer",
            "Behoben: Internet nicht erreichbar",
        ][: len(ntfy.messages)]
        assert len(ntfy.messages) == 4
        assert [m.priority for m in ntfy.messages] == [5, 5, 3, 3]
        for got, key in zip(
            ntfy.messages,
            [
                ("raise", "paper_out:kitchen"),
                ("raise", "internet_down"),
                ("resolve", "paper_out:kitchen"),
                ("resolve", "internet_down"),
            ],
            strict=True,
        ):
            assert f"Gemeldet {format_time(raised[key], TZ, 'de')}" in got.message
            assert got.topic == TOPIC
        assert ntfy.refused == 0


async def test_one_channel_down_never_holds_back_another(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig, push_servers(rig) as (ntfy, bridge):
        printer = rig.printers["kitchen"]
        extra = push_config(ntfy, bridge, ntfy_levels='["critical", "warning"]')
        await rig.start(config_text(tmp_path, rig.shop_url, {"kitchen": printer.port}, extra=extra))
        await pass_time(thread_clock, 10)
        bridge.status_override = 500  # the chat bridge is broken
        printer.cover_open = True
        opened = trio.current_time()
        await wait_fast(thread_clock, lambda: len(ntfy.messages) >= 1, limit=300)
        assert trio.current_time() - opened < 120 + 20  # the grace and a few seconds
        assert bridge.calls == []
        # The two channels are tried side by side: the bridge's refusal may come a moment later.
        for _ in range(30):
            health = await get_json(rig, "/health")
            if "cannot reach the alert webhook" in health["checks"]["alerter"]["reason"]:
                break
            await trio.sleep(1)
        assert "cannot reach the alert webhook" in health["checks"]["alerter"]["reason"]
        assert "500" in health["checks"]["alerter"]["reason"]

        printer.cover_open = False
        await wait_fast(thread_clock, lambda: len(ntfy.messages) >= 2, limit=120)
        bridge.status_override = None  # fixed: what waited arrives, in order
        await wait_fast(thread_clock, lambda: len(bridge.calls) >= 2, limit=3600)
        await pass_time(thread_clock, 600)
        assert webhook_log(bridge) == [
            ("raise", "cover_open:kitchen"),
            ("resolve", "cover_open:kitchen"),
        ]
        assert [m.tags for m in ntfy.messages] == [("rotating_light",), ("white_check_mark",)]
        health = await get_json(rig, "/health")
        assert health["checks"]["alerter"]["status"] == "ready"


async def test_primary_mail_server_down_the_fallback_gets_the_mail(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    primary, fallback = FakeSmtpServer(), FakeSmtpServer()  # primary never started: refused
    fallback.start()
    try:
        async with open_rig(tmp_path, ("kitchen",)) as rig:
            printer = rig.printers["kitchen"]
            extra = f"""
[smtp.fallback]
host = "127.0.0.1"
port = {fallback.port}
security = "none"
sender = "backup@example.com"
"""
            text = config_text(
                tmp_path, rig.shop_url, {"kitchen": printer.port}, smtp_port=primary.port
            )
            await rig.start(text + extra)
            await pass_time(thread_clock, 10)
            printer.paper_out = True
            gone = VirtualWall()()
            await wait_fast(thread_clock, lambda: len(fallback.messages) >= 1, limit=300)
            assert VirtualWall()() - gone < 120 + 20
            primary.start()  # back: nothing is sent twice
            printer.paper_out = False
            await wait_fast(thread_clock, lambda: len(primary.messages) >= 1, limit=300)
            await pass_time(thread_clock, 600)
            assert titles(fallback) == ["KRITISCH: Drucker kitchen: Papier leer"]
            assert fallback.messages[0].mail_from == "backup@example.com"
            assert fallback.messages[0].rcpt_tos == ("owner@example.com",)
            assert gone + 120 <= sent_at(fallback.messages[0])
            assert titles(primary) == ["Behoben: Drucker kitchen: Papier leer"]
            health = await get_json(rig, "/health")
            assert health["checks"]["alerter"]["status"] == "ready"
    finally:
        primary.stop()
        fallback.stop()


async def start_with_mail(rig: Rig, smtp: FakeSmtpServer, clock: trio.testing.MockClock) -> str:
    """The kitchen printer and the mail server; returns the config text (for a restart)."""
    port = rig.printers["kitchen"].port
    text = config_text(rig.tmp, rig.shop_url, {"kitchen": port}, smtp_port=smtp.port)
    await rig.start(text)
    await pass_time(clock, 10)
    return text


async def refill_and_expect_one_raise_one_resolve(
    rig: Rig, smtp: FakeSmtpServer, clock: trio.testing.MockClock
) -> None:
    rig.printers["kitchen"].paper_out = False
    await wait_fast(clock, lambda: len(smtp.messages) >= 2, limit=300)
    await pass_time(clock, 600)
    assert titles(smtp) == [
        "KRITISCH: Drucker kitchen: Papier leer",
        "Behoben: Drucker kitchen: Papier leer",
    ]


async def test_an_alerter_crash_neither_repeats_a_problem_nor_loses_its_resolved_mail(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        await start_with_mail(rig, smtp, thread_clock)
        with faults.armed("alerter.before_send", times=1):
            printer.paper_out = True  # the raise is written, then the alerter dies sending it
            await wait_fast(thread_clock, lambda: len(smtp.messages) >= 1, limit=600)
        recovery = await get_json(rig, "/recovery/status")
        assert child_status(recovery, "alerter")["restarts"] == 1
        await pass_time(thread_clock, 300)
        await refill_and_expect_one_raise_one_resolve(rig, smtp, thread_clock)


async def test_a_process_restart_neither_repeats_a_problem_nor_loses_its_resolved_mail(
    tmp_path: Path, smtp: FakeSmtpServer, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        printer = rig.printers["kitchen"]
        text = await start_with_mail(rig, smtp, thread_clock)
        printer.paper_out = True
        await wait_fast(thread_clock, lambda: len(smtp.messages) >= 1, limit=600)
        await pass_time(thread_clock, 30)

        await rig.stop()  # still out of paper while the process is away and back
        await pass_time(thread_clock, 60)
        await rig.start(text)
        await pass_time(thread_clock, 900)
        assert len(smtp.messages) == 1
        alerts = (await get_json(rig, "/recovery/status"))["alerts"]
        assert [(a["key"], a["raised"]) for a in alerts] == [("paper_out:kitchen", True)]

        await refill_and_expect_one_raise_one_resolve(rig, smtp, thread_clock)
        assert "Dauer: 2" not in smtp.messages[1].body  # it lasted the whole restart
        assert Counter(m.message["Message-ID"] for m in smtp.messages).most_common(1)[0][1] == 1
