"""The poll mark moves only after the spool committed the page: a crash between fetch and
commit loses nothing even with ``overlap = 0``. (The default overlap of ten minutes would
re-fetch a page lost to a mark moved too early, and hide the fault.)

And the poll's rhythm, with what the owner sees meanwhile: backoff while Wix is down, five
minutes between tries while Wix refuses the key or the request, orders waiting in Wix while
the spool refuses writes, an immediate poll for every push of the owner's automation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from tests.integration.harness import (
    Rig,
    child_status,
    config_text,
    get_json,
    new_order,
    new_orders,
    open_rig,
    pass_time,
    ticket_numbers,
    tune,
    wait_fast,
    wait_for,
)
from wixprint.events import AlertEvent
from wixprint.health import Health
from wixprint.sim.replies import Reply, validation_error
from wixprint.sim.shop import FakeWixShop
from wixprint.supervisor import faults
from wixprint.timesync import KernelClock

TOKEN = "owner-push-0123456789abcdef"


@pytest.mark.parametrize("point", ["fetcher.after_fetch", "spool.after_commit"])
async def test_a_crash_between_fetch_and_commit_loses_no_order_without_overlap(
    tmp_path: Path, point: str, thread_clock: trio.testing.MockClock
) -> None:
    faults.reset()  # the counters are process-wide: earlier tests fired these points too
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", overlap=0.0, poll_interval=30.0))
        await trio.sleep(3)  # the first poll is done; the next one is 30 s away
        numbers = await new_orders(rig, 3)  # 1 s apart: distinct updatedDates, one page
        # after_fetch: before any order of the page is committed; after_commit: after the
        # first one, before the rest.
        with faults.armed(point, times=1):
            await wait_for(lambda: len(rig.tickets("kitchen")) >= 3, limit=120)
            assert faults.statistics()[point].fires == 1
        await pass_time(thread_clock, 40)
        assert ticket_numbers(rig, "kitchen") == numbers
        recovery = await get_json(rig, "/recovery/status")
        restarts = [e for e in recovery["recent"] if e["event"] == "actor_restarted"]
        assert [(e["actor"], e["error_type"]) for e in restarts] == [("fetcher", "InjectedFault")]


async def test_an_order_indexed_late_is_found_by_the_overlap(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    """Wix's search index lags its writes, and not always in order: an order that becomes
    searchable after a newer one already moved the mark is found by the next polls' overlap
    window (with ``overlap = 0`` it is never printed)."""
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(text)
        await trio.sleep(3)
        late = new_order(rig)
        rig.shop.index_late(str(late["id"]), 60)
        await trio.sleep(1)
        prompt = new_order(rig)
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        assert ticket_numbers(rig, "kitchen") == [str(prompt["number"])]
        await pass_time(thread_clock, 90)
        assert ticket_numbers(rig, "kitchen") == [str(prompt["number"]), str(late["number"])]


# -- when the next poll comes, and what the owner sees meanwhile ----------------------------

RETRY_REFUSED = 300.0
"""A refused key or request is tried again after five minutes: a human must fix it."""


class PollClock(FakeWixShop):
    """The simulated shop, noting on the virtual clock when each poll (a search with a
    filter; the clock actor's probe has none) arrived, and able to refuse the next polls as
    Wix refuses a request it cannot read (400)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.polls: list[float] = []
        self.refuse_polls = 0

    def handle_search(self, authorization: str | None, site_id: str | None, body: bytes) -> Reply:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            request = None
        search = request.get("search") if isinstance(request, dict) else None
        if isinstance(search, dict) and "filter" in search:
            self.polls.append(trio.current_time())
            if self.refuse_polls:
                self.refuse_polls -= 1
                return validation_error("search.filter.updatedDate", "unsupported operator")
        return super().handle_search(authorization, site_id, body)


def logged(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    return [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == event
    ]


async def metric(rig: Rig, sample: str) -> float:
    """One sample of ``GET /metrics`` (0 when absent), as Prometheus scrapes it."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        text = (await client.get(f"{rig.web_url}/metrics")).text
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


async def alert_events(rig: Rig, key: str) -> list[str]:
    """The alert's raised and resolved events on the recovery page, oldest first."""
    recovery = await get_json(rig, "/recovery/status")
    return [
        e["state"]
        for e in recovery["recent"]
        if e["event"] == "alert_event" and e["key"] == key and e["state"] != "sent"
    ]


async def until_alerts(rig: Rig, key: str, states: list[str]) -> None:
    """Wait until the alerter has published these raised/resolved events (in order)."""
    assert rig.service is not None
    ctx = rig.service.ctx

    def published() -> list[str]:
        return [
            e.state
            for e in ctx.recent
            if isinstance(e, AlertEvent) and e.key == key and e.state != "sent"
        ]

    await wait_for(lambda: published() == states)


async def settled(rig: Rig) -> None:
    """Past the start: the connectivity actor's first verdict (online) asks for a poll at
    once; from then on the fetcher keeps its own rhythm."""
    assert rig.service is not None
    health = rig.service.ctx.health

    def online() -> bool:
        check = health.get("internet")
        return check is not None and check.state is Health.READY

    await wait_for(online)
    await trio.sleep(3)  # not pass_time: that poll must not be delayed past this wait


async def fetcher_restarts(rig: Rig) -> int:
    restarts: int = child_status(await get_json(rig, "/recovery/status"), "fetcher")["restarts"]
    return restarts


async def next_poll(clock: trio.testing.MockClock, shop: PollClock, after: float) -> float:
    """Let time pass quickly until a second before ``after``; then wait for the next poll
    with a patient clock (a jump while a worker thread runs would make the poll late)."""
    seen = len(shop.polls)
    await pass_time(clock, max(after - 1.0 - trio.current_time(), 0.0))
    before = clock.autojump_threshold
    clock.autojump_threshold = 0.5
    try:
        await wait_for(lambda: len(shop.polls) > seen, limit=30)
    finally:
        clock.autojump_threshold = before
    return shop.polls[seen]


async def test_wix_down_at_the_start_is_asked_less_and_less_and_caught_up_after(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.set_down(True)
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        number = (await new_orders(rig, 1))[0]
        await pass_time(thread_clock, 600)
        health = await get_json(rig, "/health")
        assert health["checks"]["fetcher"]["reason"] == "Wix unreachable: Wix server error (503)"
        tries = logged(caplog, "wix_unavailable")
        # The poll interval (2 s) doubles per failure, up to five minutes, jittered into
        # [d/2, d]: about nine tries in ten minutes, each one counted.
        assert [t["failures"] for t in tries] == list(range(1, len(tries) + 1))
        assert 7 <= len(tries) <= 12
        for t in tries:
            ceiling = min(300.0, 2.0 * 2 ** t["failures"])
            assert ceiling / 2 - 0.05 <= t["retry_in"] <= ceiling + 0.05
            assert t["retry_in"] == round(t["retry_in"], 1)  # tenths, for the reader
            assert t["actor"] == "fetcher"
        unavailable = 'wixprint_wix_requests_total{result="unavailable"}'
        assert await metric(rig, unavailable) == len(tries)
        assert rig.tickets("kitchen") == []

        rig.shop.set_down(False)
        await wait_fast(thread_clock, lambda: len(rig.tickets("kitchen")) >= 1, limit=400)
        await pass_time(thread_clock, 6)
        assert ticket_numbers(rig, "kitchen") == [number]
        assert (await get_json(rig, "/health"))["checks"]["fetcher"]["status"] == "ready"
        assert await metric(rig, 'wixprint_wix_requests_total{result="ok"}') >= 1
        assert await metric(rig, 'wixprint_orders_received_total{source="poll"}') == 1
        orders = await get_json(rig, "/orders")
        assert [(o["number"], o["source"]) for o in orders["orders"]] == [(number, "poll")]

        # The next outage starts the count again: the first retry comes within seconds.
        counted = len(logged(caplog, "wix_unavailable"))
        rig.shop.set_down(True)

        def retried() -> list[dict[str, Any]]:
            return logged(caplog, "wix_unavailable")[counted:]

        await wait_for(lambda: len(retried()) >= 2, limit=60)
        again = retried()
        assert [t["failures"] for t in again][:2] == [1, 2]
        assert again[0]["retry_in"] <= 4.0  # the first retry comes within seconds, not minutes
        assert await fetcher_restarts(rig) == 0


async def test_orders_wait_in_wix_while_the_spool_refuses_writes_and_print_after(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.set_down(True)  # after a power cut the router is slower than the Pi
        service = await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        await trio.sleep(3)
        spool = service.ctx.spool.get()
        printed: list[str] = []
        for _ in range(2):  # a second refusal, after the spool took writes again, is told too
            # The card turns read-only under the service, as a failing SD card does.
            await spool._run(spool._db().execute, "PRAGMA query_only=ON")
            printed.extend(await new_orders(rig, 2))
            rig.shop.set_down(False)  # the first poll that goes through meets the refusal
            await pass_time(thread_clock, 30)  # about ten polls meet the refusal
            fetcher = (await get_json(rig, "/health"))["checks"]["fetcher"]
            assert fetcher == {
                **fetcher,
                "status": "degraded",
                "reason": "new orders wait: the SD card refuses writes (read-only or failing); "
                "they wait in Wix",
            }
            assert len(rig.tickets("kitchen")) == len(printed) - 2
            await spool._run(spool._db().execute, "PRAGMA query_only=OFF")
            await wait_for(lambda: len(rig.tickets("kitchen")) >= len(printed), limit=120)
            await pass_time(thread_clock, 6)
            assert (await get_json(rig, "/health"))["checks"]["fetcher"]["status"] == "ready"
        assert ticket_numbers(rig, "kitchen") == printed
        # One log line per refusal, not one per poll.
        told = logged(caplog, "intake_waits_for_spool")
        assert [line["actor"] for line in told] == ["fetcher", "fetcher"]
        assert await fetcher_restarts(rig) == 0


async def test_a_refused_key_is_tried_every_five_minutes_and_its_fix_ends_the_alert(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_rig(tmp_path, ("kitchen",), shop_class=PollClock) as rig:
        shop = rig.shop
        assert isinstance(shop, PollClock)
        shop.key_lacks_read_orders = True
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        await settled(rig)
        first = shop.polls[-1]
        second = await next_poll(thread_clock, shop, first + RETRY_REFUSED)
        assert RETRY_REFUSED <= second - first < RETRY_REFUSED + 1
        assert await alert_events(rig, "wix_auth") == ["raised"]

        # The owner adds the permission at Wix: the next try, five minutes on, goes through.
        shop.key_lacks_read_orders = False
        refused = len(shop.polls)
        number = (await new_orders(rig, 1))[0]
        third = await next_poll(thread_clock, shop, second + RETRY_REFUSED)
        assert RETRY_REFUSED <= third - second < RETRY_REFUSED + 1
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        assert ticket_numbers(rig, "kitchen") == [number]
        await until_alerts(rig, "wix_auth", ["raised", "resolved"])
        assert (await get_json(rig, "/health"))["checks"]["fetcher"]["status"] == "ready"

        # Polls that go through are no news: 250 of them leave the recovery page's recent
        # events (the last 200 of any kind) to what happened.
        quiet = len(shop.polls)
        await wait_fast(thread_clock, lambda: len(shop.polls) >= quiet + 250, limit=3600)
        assert await alert_events(rig, "wix_auth") == ["raised", "resolved"]

        # Revoked again: told again, once.
        shop.key_lacks_read_orders = True
        polls = len(shop.polls)
        await until_alerts(rig, "wix_auth", ["raised", "resolved", "raised"])
        await pass_time(thread_clock, 10)
        assert await alert_events(rig, "wix_auth") == ["raised", "resolved", "raised"]
        refused += len(shop.polls) - polls
        rejected = logged(caplog, "wix_auth_rejected")
        assert [line["actor"] for line in rejected] == ["fetcher", "fetcher"]
        assert await metric(rig, 'wixprint_wix_requests_total{result="auth"}') == refused
        assert await metric(rig, 'wixprint_wix_requests_total{result="ok"}') >= 250
        assert await fetcher_restarts(rig) == 0


async def test_a_request_wix_refuses_is_tried_again_in_five_minutes(
    tmp_path: Path, thread_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Wix answering 400 to our search is a bug on our side or a change on Wix's: reported,
    and polling goes on, slowly, rather than crash-looping or hammering Wix."""
    async with open_rig(tmp_path, ("kitchen",), shop_class=PollClock) as rig:
        shop = rig.shop
        assert isinstance(shop, PollClock)
        await rig.start(
            config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        )
        await settled(rig)
        shop.refuse_polls = 1
        number = str(new_order(rig)["number"])
        polls = len(shop.polls)
        await wait_for(lambda: len(shop.polls) > polls)
        refused = shop.polls[-1]
        await trio.sleep(1)
        fetcher = (await get_json(rig, "/health"))["checks"]["fetcher"]
        assert fetcher["status"] == "degraded"
        assert fetcher["reason"].startswith(
            "Wix refused the request: Wix rejected the request (400)"
        )
        assert rig.tickets("kitchen") == []
        [line] = logged(caplog, "wix_request_rejected")
        assert (line["actor"], line["status"]) == ("fetcher", 400)
        assert await metric(rig, 'wixprint_wix_requests_total{result="rejected"}') == 1
        second = await next_poll(thread_clock, shop, refused + RETRY_REFUSED)
        assert RETRY_REFUSED <= second - refused < RETRY_REFUSED + 1
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        assert ticket_numbers(rig, "kitchen") == [number]
        assert await fetcher_restarts(rig) == 0


async def test_every_push_of_the_owners_automation_polls_at_once(
    tmp_path: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", poll_interval=300.0, automation_token=TOKEN))
        await pass_time(thread_clock, 5)  # the first poll went by: the next is 5 minutes away
        numbers: list[str] = []
        async with httpx.AsyncClient(timeout=30.0) as client:
            for _ in range(3):
                numbers.append(str(new_order(rig)["number"]))
                pushed = await client.post(f"{rig.web_url}/webhooks/automation/{TOKEN}", json={})
                assert pushed.status_code == 200
                await wait_for(lambda: len(rig.tickets("kitchen")) >= len(numbers), limit=5)
                await pass_time(thread_clock, 20)
        assert ticket_numbers(rig, "kitchen") == numbers
        assert await fetcher_restarts(rig) == 0


@pytest.mark.parametrize(
    ("not_before", "reason"),
    [("", "waiting for a true clock (first start)"), ("2025-01-01T00:00:00Z", "starting")],
)
async def test_what_health_says_while_the_first_poll_waits(
    tmp_path: Path,
    thread_clock: trio.testing.MockClock,
    monkeypatch: pytest.MonkeyPatch,
    not_before: str,
    reason: str,
) -> None:
    """At the very first start, with no NTP and Wix not answering yet: without ``not_before``
    the fetcher waits for a true clock and says so; with it, it polls at once (and its health
    waits for that poll's outcome) without a word about the clock."""
    unsynced = KernelClock(False, 16.0, "STA_UNSYNC")
    monkeypatch.setattr("wixprint.actors.clock.read_kernel_clock", lambda: unsynced)
    async with open_rig(tmp_path, ("kitchen",), shop_class=PollClock) as rig:
        shop = rig.shop
        assert isinstance(shop, PollClock)
        shop.delay_responses(3600)  # no answer within the request timeout (30 s)
        text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
        await rig.start(tune(text, "wix", not_before=not_before))
        await trio.sleep(10)
        fetcher = (await get_json(rig, "/health"))["checks"]["fetcher"]
        assert fetcher["reason"] == reason
        assert len(shop.polls) == (1 if not_before else 0)
