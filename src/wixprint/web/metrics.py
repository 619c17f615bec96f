"""Prometheus metrics of the service, fed from bus events and a few direct calls.

Each ``Metrics`` owns a fresh ``CollectorRegistry``: the global registry rejects a second
registration of the same name, which would break every test (and every in-process restart)
that builds the app twice. Metric updates are plain synchronous calls guarded by
prometheus_client's own locks; ``render`` takes about a millisecond, fine inline on a Pi.
"""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from wixprint.events import (
    ActorRestarted,
    AlertEvent,
    Event,
    InternetState,
    OrderQuarantined,
    OrderReceived,
    PrinterState,
    ResourceSample,
    TicketPrinted,
    TicketQuarantined,
)
from wixprint.version import package_version

__all__ = ["LATENCY_BUCKETS", "Metrics"]

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
"""Seconds from job creation to proof of print: tens of ms on a warm printer, up to a minute
when a queue drains after an outage (longer lands in +Inf)."""


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)


class Metrics:
    """The service's metrics. ``observe`` every published event; the rest are direct calls."""

    def __init__(self, *, version: str | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.orders_received = Counter(
            "wixprint_orders_received_total",
            "Orders taken into the spool for the first time, by intake path.",
            ["source"],
            registry=reg,
        )
        self.orders_quarantined = Counter(
            "wixprint_orders_quarantined_total",
            "Orders set aside because their data could not be taken in, by intake path.",
            ["source"],
            registry=reg,
        )
        self.tickets_printed = Counter(
            "wixprint_tickets_printed_total",
            "Tickets with proof of print.",
            ["printer", "receipt"],
            registry=reg,
        )
        self.tickets_failed = Counter(
            "wixprint_tickets_failed_total",
            "Tickets quarantined after repeated render failures.",
            ["printer"],
            registry=reg,
        )
        self.print_unknown_outcomes = Counter(
            "wixprint_print_unknown_outcomes_total",
            "Sends without proof of print (the ticket may or may not be on paper).",
            ["printer"],
            registry=reg,
        )
        self.queue_depth = Gauge(
            "wixprint_queue_depth", "Jobs queued or printing.", ["printer"], registry=reg
        )
        self.queue_oldest_age = Gauge(
            "wixprint_queue_oldest_age_seconds",
            "Age of the oldest queued job, 0 when the queue is empty.",
            ["printer"],
            registry=reg,
        )
        self.print_latency = Histogram(
            "wixprint_print_latency_seconds",
            "Seconds from job creation to proof of print.",
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.restarts = Counter(
            "wixprint_restarts_total", "Actor restarts by a supervisor.", ["actor"], registry=reg
        )
        self.printer_online = Gauge(
            "wixprint_printer_online", "1 when the printer answers.", ["printer"], registry=reg
        )
        self.printer_paper_ok = Gauge(
            "wixprint_printer_paper_ok",
            "1 when paper is ok or near its end, 0 when out or unknown.",
            ["printer"],
            registry=reg,
        )
        self.internet_online = Gauge(
            "wixprint_internet_online", "1 when the Wix API host is reachable.", registry=reg
        )
        self.alerts_sent = Counter(
            "wixprint_alerts_sent_total",
            "Alert messages delivered, by level and channel (mail, ntfy, webhook).",
            ["level", "channel"],
            registry=reg,
        )
        self.webhooks = Counter(
            "wixprint_webhooks_total",
            "Webhook requests by result (accepted, rejected, too_large, error).",
            ["result"],
            registry=reg,
        )
        self.http_connections = Gauge(
            "wixprint_http_connections",
            "Open HTTP connections, by listener (local, public).",
            ["listener"],
            registry=reg,
        )
        self.http_evicted = Counter(
            "wixprint_http_connections_evicted_total",
            "Connections closed to make room at the listener's cap (the oldest first).",
            ["listener"],
            registry=reg,
        )
        self.http_refused = Counter(
            "wixprint_http_refused_total",
            "Requests refused before any handler: not_public, host, origin, websocket_limit,"
            " http2.",
            ["listener", "reason"],
            registry=reg,
        )
        self.http_accept_errors = Counter(
            "wixprint_http_accept_errors_total",
            "Accepts that failed for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS).",
            ["listener"],
            registry=reg,
        )
        self.websocket_clients = Gauge(
            "wixprint_websocket_clients", "Open /ws/events connections.", registry=reg
        )
        self.wix_requests = Counter(
            "wixprint_wix_requests_total",
            "Wix API calls by result (ok, unavailable, auth_failed, error).",
            ["result"],
            registry=reg,
        )
        self.cpu_percent = Gauge("wixprint_cpu_percent", "System CPU use.", registry=reg)
        self.memory_percent = Gauge("wixprint_memory_percent", "System memory use.", registry=reg)
        self.disk_percent = Gauge(
            "wixprint_disk_percent", "Use of the state directory's disk.", registry=reg
        )
        self.process_rss = Gauge(
            "wixprint_process_rss_bytes", "Resident memory of this process.", registry=reg
        )
        self.process_open_files = Gauge(
            "wixprint_process_open_files", "Open files of this process.", registry=reg
        )
        self.cpu_temperature = Gauge(
            "wixprint_cpu_temperature_celsius", "CPU temperature.", registry=reg
        )
        self.throttled = Gauge(
            "wixprint_throttled", "1 while the Pi is throttled or under-voltage.", registry=reg
        )
        self.up = Gauge("wixprint_up", "1 while the service runs.", registry=reg)
        self.build_info = Gauge(
            "wixprint_build_info", "Always 1; the version label.", ["version"], registry=reg
        )
        self.up.set(1)
        self.build_info.labels(version=version or package_version()).set(1)
        self.internet_online.set(math.nan)
        for gauge in (
            self.cpu_percent,
            self.memory_percent,
            self.disk_percent,
            self.process_rss,
            self.process_open_files,
            self.cpu_temperature,
            self.throttled,
        ):
            gauge.set(math.nan)

    def observe(self, event: Event) -> None:
        """Update the metric an event stands for; events without one are ignored."""
        match event:
            case OrderReceived(source=source, first_sight=True):
                self.orders_received.labels(source=source).inc()
            case OrderQuarantined(source=source):
                self.orders_quarantined.labels(source=source).inc()
            case TicketPrinted(printer=printer, receipt=receipt, latency=latency):
                self.tickets_printed.labels(printer=printer, receipt=receipt).inc()
                self.print_latency.observe(max(latency, 0.0))
            case TicketQuarantined(printer=printer):
                self.tickets_failed.labels(printer=printer).inc()
            case PrinterState(printer=printer, online=online, paper=paper):
                self.printer_online.labels(printer=printer).set(1 if online else 0)
                ok = paper in ("ok", "near_end")
                self.printer_paper_ok.labels(printer=printer).set(1 if ok else 0)
            case InternetState(online=online):
                self.internet_online.set(1 if online else 0)
            case ActorRestarted(actor=actor):
                self.restarts.labels(actor=actor).inc()
            case AlertEvent(level=level, state="sent", channel=channel):
                self.alerts_sent.labels(level=level, channel=channel or "mail").inc()
            case ResourceSample():
                self._observe_resources(event)
            case _:
                pass

    def _observe_resources(self, sample: ResourceSample) -> None:
        """A value the sampler could not read becomes NaN rather than keeping a stale one."""
        self.cpu_percent.set(_nan_if_none(sample.cpu_percent))
        self.memory_percent.set(_nan_if_none(sample.memory_percent))
        self.disk_percent.set(_nan_if_none(sample.disk_percent))
        self.process_rss.set(_nan_if_none(sample.rss_bytes))
        self.process_open_files.set(_nan_if_none(sample.open_files))
        self.cpu_temperature.set(_nan_if_none(sample.temperature_c))
        throttled = sample.throttled_now
        self.throttled.set(math.nan if throttled is None else (1 if throttled else 0))

    def set_queue(self, printer: str, depth: int, oldest_age: float | None) -> None:
        self.queue_depth.labels(printer=printer).set(depth)
        self.queue_oldest_age.labels(printer=printer).set(oldest_age or 0.0)

    def count_webhook(self, result: str) -> None:
        self.webhooks.labels(result=result).inc()

    def set_http_connections(self, listener: str, count: int) -> None:
        self.http_connections.labels(listener=listener).set(count)

    def count_http_evicted(self, listener: str) -> None:
        self.http_evicted.labels(listener=listener).inc()

    def count_http_refused(self, listener: str, reason: str) -> None:
        self.http_refused.labels(listener=listener, reason=reason).inc()

    def count_http_accept_error(self, listener: str) -> None:
        self.http_accept_errors.labels(listener=listener).inc()

    def set_websocket_clients(self, count: int) -> None:
        self.websocket_clients.set(count)

    def count_wix_request(self, result: str) -> None:
        """For the fetcher: one call per Wix API request (ok, unavailable, auth_failed,
        error). Not derived from events, which only report changes."""
        self.wix_requests.labels(result=result).inc()

    def count_unknown_outcome(self, printer: str) -> None:
        """For the printer actor: bytes went out but no proof of print came back."""
        self.print_unknown_outcomes.labels(printer=printer).inc()

    def render(self, accept_header: str | None) -> tuple[bytes, str]:
        """The exposition body and its content type: OpenMetrics when ``Accept`` asks for
        it, else the classic Prometheus text format."""
        encoder, content_type = choose_encoder(accept_header or "")
        return encoder(self.registry), content_type
