"""Web actor: serves the status surface and the webhook receiver with hypercorn.

The routes (``wixprint.web``) know nothing of actors; this shell hands them callables over the
actor context. It is stopped by setting hypercorn's shutdown trigger, never by cancelling it,
so in-flight requests finish and websockets close with 1001.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from functools import partial

import trio

from wixprint.actors.context import ActorContext
from wixprint.actors.intake import accept_orders, not_before_now
from wixprint.actors.web_actions import DashboardActions
from wixprint.alerts.messages import AlertFacts, Category, title
from wixprint.errors import ConfigError
from wixprint.events import (
    ActorRestarted,
    AlertEvent,
    PrinterState,
    RecoveryRecorded,
    TicketNeedsAttention,
)
from wixprint.logs import get_logger
from wixprint.printing.base import Transport
from wixprint.printing.profiles import resolve_profile
from wixprint.spool.types import JobState, OrderSummary
from wixprint.supervisor import HistoryStore, current_child
from wixprint.web.app import create_app
from wixprint.web.deps import WebDeps
from wixprint.web.serve import Serving, ServingUrls, serve_web
from wixprint.wix.webhook import check_instance, load_public_key, verify_webhook


def order_json(order: OrderSummary) -> dict[str, object]:
    return {
        "order_id": order.order_id,
        "number": order.number,
        "status": order.status,
        "created": order.created,
        "received_at": order.received_at,
        "source": order.source,
        "revision": order.revision,
        # What does not print yet or at all, and why: never silently.
        "skipped": order.skip_reason or None,
        "scheduled": order.hold_until or None,
        "due": order.due or None,
        "location": {"id": order.location_id, "name": order.location_name}
        if order.location_id or order.location_name
        else None,
        "payment": order.payment or None,
        "needs_attention": any(t.state is JobState.ATTENTION for t in order.tickets),
        "tickets": [
            {
                "job_id": t.job_id,
                "receipt": t.kind,
                "printer": t.printer,
                "revision": t.revision,
                "variant": t.variant.value,
                "state": t.state.value,
                "reprint": t.reprint,
                "updated_at": t.updated_at,
            }
            for t in order.tickets
        ],
    }


def connectivity_json(ctx: ActorContext) -> dict[str, object]:
    internet = ctx.last_internet
    printers: dict[str, object] = {}
    for printer in ctx.config.printers:
        state = ctx.last_printer_state.get(printer.name)
        entry: dict[str, object] = (
            {"online": None, "since": None, "paper": "unknown", "cover_open": None}
            if state is None
            else {
                "online": state.online,
                "since": state.since,
                "paper": state.paper,
                "cover_open": state.cover_open,
                "last_check": state.at,
                "reason": state.reason,
            }
        )
        transport = ctx.transports.get(printer.name)
        if transport is not None:
            entry.update(printer_profile_json(printer.model, printer.columns, transport))
        entry["paused"] = printer.name in ctx.paused
        entry["problem"] = printer_problem(ctx, printer.name, state)
        printers[printer.name] = entry
    return {
        "internet": None
        if internet is None
        else {"online": internet.online, "since": internet.since, "target": internet.target},
        "printers": printers,
    }


def printer_problem(
    ctx: ActorContext, name: str, state: PrinterState | None
) -> dict[str, str] | None:
    """What the dashboard shows in large type: paused, cover open, paper out or offline, in
    the configured language (the alert mails' own titles)."""
    if name in ctx.paused:
        return {"kind": "paused", "title": ""}
    if state is None:
        return None
    if state.cover_open:
        kind: Category = "cover_open"
    elif state.paper == "out":
        kind = "paper_out"
    elif not state.online:
        kind = "printer_offline"
    else:
        return None
    facts = AlertFacts(category=kind, key=f"{kind}:{name}", level="critical", since=state.since)
    return {"kind": kind, "title": title(replace(facts, target=name), ctx.config.alerts.language)}


def printer_profile_json(model: str, columns: int, transport: Transport) -> dict[str, object]:
    """What the printer said it is and how its tickets are confirmed (with a warning when
    that proof is weaker than a process id)."""
    caps = transport.capabilities
    profile = resolve_profile(model, caps.model if caps else None)
    proof = transport.proof_mode()
    return {
        "model": caps.model if caps else None,
        "profile": profile.name,
        "columns": columns or profile.columns,
        "proof": proof.mode,
        "proof_warning": proof.warning or None,
        "process_id": caps.process_id if caps else None,
    }


def attention_json(ctx: ActorContext) -> list[dict[str, object]]:
    return [
        {
            "job_id": job.id,
            "order_number": job.order_number,
            "printer": job.printer,
            "receipt": job.kind,
            "attempts": job.unproven + job.unanswered,
            "created_at": job.created_at,
        }
        for job in ctx.attention_cache
    ]


def recovery_json(ctx: ActorContext) -> dict[str, object]:
    now = ctx.wall()
    queues = {
        name: {
            "depth": q.depth,
            "oldest_age": q.oldest_age,
            "printed": q.printed,
            "failed": q.failed,
            "attention": q.attention,
        }
        for name, q in ctx.queue_cache.items()
    }
    recent = [
        e.to_json()
        for e in ctx.recent
        if isinstance(e, (ActorRestarted, RecoveryRecorded, AlertEvent, TicketNeedsAttention))
    ]
    return {
        "at": now,
        "tree": ctx.tree_status() if ctx.tree_status else None,
        "queues": queues,
        "needs_attention": attention_json(ctx),
        "recent": recent[-50:],
        "scheduled": [
            {"order": p.number, "order_id": p.order_id, "print_at": p.hold_until, "due": p.due}
            for p in ctx.scheduled
        ],
        "history": None if ctx.history is None else history_json(ctx.history),
        "alerts": list(ctx.alerts_active),
    }


def history_json(history: HistoryStore, max_events: int = 50) -> dict[str, object]:
    """Process starts and exits and restart events persisted across processes, oldest first.

    ``earlier_*`` count what the file held when this process started: a process record
    without ``exited_at`` that is not ``current`` died without saying so (killed, power cut).
    """
    snapshot, previous = history.snapshot(), history.previous()
    current = snapshot.processes[-1] if snapshot.processes else None
    return {
        "processes": [
            {**asdict(p), "current": p is current and p.exited_at is None}
            for p in snapshot.processes
        ],
        "events": [e.to_json() for e in snapshot.events[-max_events:]],
        "earlier_processes": len(previous.processes),
        "earlier_events": len(previous.events),
    }


async def run_web(
    ctx: ActorContext,
    *,
    extra_status: Mapping[str, object] | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    log = get_logger("web")
    cfg = ctx.config
    spool = await ctx.spool.wait_open()
    # Loaded once, by the same function config validation used.
    public_key = load_public_key(cfg.wix.webhook_public_key) if cfg.wix.webhook_public_key else None

    async def orders(limit: int) -> Sequence[Mapping[str, object]]:
        return [order_json(o) for o in await spool.recent_orders(limit)]

    actions = DashboardActions(ctx, spool)
    instances_seen: set[str] = set()

    async def webhook(body: bytes) -> None:
        assert public_key is not None
        # Judged by Wix's time while the Pi's clock is known off (its iat is Wix's).
        event = verify_webhook(body, public_key, now=ctx.clock.now(ctx.wall()).timestamp())
        check_instance(event, cfg.wix.webhook_instance_ids)
        if event.instance_id and event.instance_id not in instances_seen:
            instances_seen.add(event.instance_id)  # what to put in webhook_instance_ids
            log.info("webhook_instance_seen", instance_id=event.instance_id)
        if event.order is None:
            log.info("webhook_without_order", event_type=event.event_type)
            return
        await accept_orders(ctx, [event.order], source="webhook", not_before=not_before_now(ctx))
        if not await spool.seen_event(event.event_id):
            log.info("webhook_duplicate", event_type=event.event_type)

    async def automation(body: bytes) -> None:
        # The body is never trusted (anyone with the URL can send anything): it only makes
        # the fetcher poll now, so the order comes from Wix's API like every other.
        log.info("automation_push", sent=len(body))
        ctx.poll_now.set()

    def recovery() -> Mapping[str, object]:
        data = recovery_json(ctx)
        if extra_status:
            data.update(extra_status)
        return data

    shutdown = trio.Event()
    deps = WebDeps(
        health=ctx.health.snapshot,
        recovery=recovery,
        connectivity=lambda: connectivity_json(ctx),
        orders=orders,
        reprint=actions.reprint,
        actions=actions,
        language=cfg.alerts.language,
        webhook=webhook if public_key is not None else None,
        automation=automation if cfg.wix.automation_token else None,
        automation_token=cfg.wix.automation_token,
        subscribe=ctx.bus.subscribe,
        metrics=ctx.metrics,
        admin_token=cfg.http.admin_token,
        shutdown=shutdown,
        recent_events=lambda: [e.to_json() for e in list(ctx.recent)[-50:]],
    )
    app = create_app(deps)
    serving = Serving.from_config(cfg.http)
    async with trio.open_nursery() as nursery:
        try:
            urls: ServingUrls = await nursery.start(
                partial(serve_web, app, serving, shutdown=shutdown, metrics=ctx.metrics)
            )
        except OSError as exc:
            # Port in use, address not on this machine: configuration, not a bug to restart.
            raise ConfigError([f"{_listener_key(serving, exc)}: {exc.strerror or exc}"]) from exc
        ctx.web_url, ctx.public_url = urls.local, urls.public
        log.info("web_listening", url=urls.local)
        task_status.started(urls.local)
        await current_child().stop_requested.wait()
        shutdown.set()


def _listener_key(serving: Serving, exc: OSError) -> str:
    """The config key of the listener that could not bind (the error names its address)."""
    public = serving.public
    if public is not None and str(exc).split(": ", 1)[0].endswith(f":{public.port}"):
        return "http.public_port"
    return "http.port"
