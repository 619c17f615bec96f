"""Metrics: events update the right series; /metrics serves parseable text."""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families

from wixprint.events import (
    ActorRestarted,
    AlertEvent,
    InternetState,
    JobsQueued,
    OrderReceived,
    PrinterState,
    ResourceSample,
    TicketPrinted,
    TicketQuarantined,
)
from wixprint.web.app import create_app
from wixprint.web.metrics import Metrics

from .fakes_web import FakeWorld

EXPECTED_FAMILIES = {
    "wixprint_orders_received",
    "wixprint_tickets_printed",
    "wixprint_tickets_failed",
    "wixprint_print_unknown_outcomes",
    "wixprint_queue_depth",
    "wixprint_queue_oldest_age_seconds",
    "wixprint_print_latency_seconds",
    "wixprint_restarts",
    "wixprint_printer_online",
    "wixprint_printer_paper_ok",
    "wixprint_internet_online",
    "wixprint_alerts_sent",
    "wixprint_webhooks",
    "wixprint_wix_requests",
    "wixprint_cpu_percent",
    "wixprint_memory_percent",
    "wixprint_disk_percent",
    "wixprint_process_rss_bytes",
    "wixprint_process_open_files",
    "wixprint_cpu_temperature_celsius",
    "wixprint_throttled",
    "wixprint_up",
    "wixprint_build_info",
}


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.render(None)
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def feed(metrics: Metrics) -> None:
    at = 1_700_000_000.0
    arrivals = [
        ("new", "poll", True),
        ("new", "webhook", True),
        ("revised", "poll", False),
        ("scheduled", "webhook", True),  # a pre-order, held: first seen all the same
        ("ignored", "poll", False),  # an unprintable order changed again: seen before
    ]
    for outcome, source, first in arrivals:
        metrics.observe(
            OrderReceived(
                at=at,
                order_id="o",
                number="1",
                revision=1,
                jobs=1,
                source=source,
                outcome=outcome,
                first_sight=first,
            )
        )
    metrics.observe(
        TicketPrinted(
            at=at,
            job_id=1,
            order_number="1",
            printer="kitchen",
            receipt="kitchen",
            reprint=False,
            latency=0.3,
        )
    )
    metrics.observe(
        TicketQuarantined(
            at=at, job_id=2, order_number="1", printer="counter", receipt="customer", error="x"
        )
    )
    metrics.observe(
        PrinterState(at=at, printer="kitchen", online=True, paper="out", cover_open=False, since=at)
    )
    metrics.observe(InternetState(at=at, online=False, since=at, target="www.wixapis.com"))
    metrics.observe(
        ActorRestarted(at=at, actor="fetcher", error_type="X", message="m", restarts=1, delay=1)
    )
    metrics.observe(
        AlertEvent(at=at, key="k", level="warning", subject="s", state="sent", channel="ntfy")
    )
    metrics.observe(AlertEvent(at=at, key="k", level="warning", subject="s", state="raised"))
    metrics.observe(
        ResourceSample(
            at=at,
            cpu_percent=12.5,
            memory_percent=40.0,
            disk_percent=None,
            rss_bytes=1000,
            open_files=7,
            temperature_c=51.0,
            throttled_now=True,
        )
    )
    metrics.observe(JobsQueued(at=at, printers=("kitchen",)))
    metrics.set_queue("kitchen", 3, 12.0)
    metrics.set_queue("counter", 0, None)
    metrics.count_webhook("accepted")
    metrics.count_wix_request("ok")
    metrics.count_unknown_outcome("kitchen")


def test_events_update_their_series() -> None:
    metrics = Metrics(version="1.2.3")
    feed(metrics)
    got = samples(metrics)
    assert got[("wixprint_orders_received_total", (("source", "poll"),))] == 1
    assert got[("wixprint_orders_received_total", (("source", "webhook"),))] == 2
    key = (("printer", "kitchen"), ("receipt", "kitchen"))
    assert got[("wixprint_tickets_printed_total", key)] == 1
    assert got[("wixprint_print_latency_seconds_count", ())] == 1
    assert got[("wixprint_print_latency_seconds_bucket", (("le", "0.5"),))] == 1
    assert got[("wixprint_print_latency_seconds_bucket", (("le", "0.25"),))] == 0
    assert got[("wixprint_tickets_failed_total", (("printer", "counter"),))] == 1
    assert got[("wixprint_printer_online", (("printer", "kitchen"),))] == 1
    assert got[("wixprint_printer_paper_ok", (("printer", "kitchen"),))] == 0
    assert got[("wixprint_internet_online", ())] == 0
    assert got[("wixprint_restarts_total", (("actor", "fetcher"),))] == 1
    key = (("channel", "ntfy"), ("level", "warning"))
    assert got[("wixprint_alerts_sent_total", key)] == 1
    assert got[("wixprint_cpu_percent", ())] == 12.5
    assert math.isnan(got[("wixprint_disk_percent", ())])
    assert got[("wixprint_throttled", ())] == 1
    assert got[("wixprint_queue_depth", (("printer", "kitchen"),))] == 3
    assert got[("wixprint_queue_oldest_age_seconds", (("printer", "counter"),))] == 0
    assert got[("wixprint_webhooks_total", (("result", "accepted"),))] == 1
    assert got[("wixprint_wix_requests_total", (("result", "ok"),))] == 1
    assert got[("wixprint_print_unknown_outcomes_total", (("printer", "kitchen"),))] == 1
    assert got[("wixprint_up", ())] == 1
    assert got[("wixprint_build_info", (("version", "1.2.3"),))] == 1


def test_every_instance_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.count_webhook("accepted")
    assert ("wixprint_webhooks_total", (("result", "accepted"),)) not in samples(second)


async def test_metrics_route_serves_prometheus_text() -> None:
    world = FakeWorld()
    feed(world.metrics)
    response = await create_app(world.deps()).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = await response.get_data(as_text=True)
    names = {family.name for family in text_string_to_metric_families(text)}
    assert names >= EXPECTED_FAMILIES


async def test_metrics_route_speaks_openmetrics_when_asked() -> None:
    world = FakeWorld()
    response = (
        await create_app(world.deps())
        .test_client()
        .get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    )
    assert response.status_code == 200
    assert response.content_type.startswith("application/openmetrics-text")
    assert (await response.get_data(as_text=True)).endswith("# EOF\n")
