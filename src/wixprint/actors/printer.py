"""Printer actor: one per ``[[printers]]`` entry. Claims its next job, renders it, sends it,
and marks it printed only on proof.

Outcomes of one attempt, and what happens to the job:

* printer unreachable or not ready (nothing sent): back to the queue unchanged; the actor then
  only *probes* the printer (status, no spool writes) until it can print again;
* bytes sent but no proof: back to the queue *marked as a possible duplicate*; the next copy
  carries a REPRINT banner and starts with the printer's buffers cleared (never a blind
  resend). After ``UNPROVEN_LIMIT`` such attempts on a printer that answers all along, the job
  is set aside as *needs attention* (alerted; the queue moves on) and never marked printed
  without proof;
* an earlier attempt's process id comes back late (printers store the last one they could
  not send): that job is printed, and its pending reprint is not sent;
* the order cannot be rendered: counted; after a few failures the job is quarantined and
  alerted (a poison order must not block the queue forever);
* proof arrived: printed.

A crash anywhere leaves the job in ``printing``; the actor's next start puts it back with the
REPRINT mark, so a restart never loses a ticket and never prints an unmarked second copy.

Before the first job, and again whenever the printer was out of reach, the actor asks the
printer what it supports (process-id replies, its model): ``proof = "auto"`` and
``model = "auto"`` follow the answer.
"""

from __future__ import annotations

import enum
import json
import random
from collections.abc import Awaitable, Callable
from functools import partial

import trio
from structlog.stdlib import BoundLogger

from wixprint.actors.context import PAUSED_META, ActorContext, Doorbell
from wixprint.alerts.slips import decode_slip
from wixprint.config import PrinterConfig
from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.events import TicketNeedsAttention, TicketPrinted, TicketQuarantined
from wixprint.logs import get_logger
from wixprint.printing.base import JobOptions, Transport
from wixprint.printing.profiles import PrinterProfile, resolve_profile
from wixprint.printing.protocol import ATTEMPT_SLOTS, JOB_WINDOW, job_tag, tag_owner
from wixprint.receipts import Ticket, TicketRequest, render_ticket
from wixprint.receipts.alert_slip import render_alert_slip
from wixprint.spool import Spool
from wixprint.spool.types import ALERT_SLIP_KIND, Job, JobState
from wixprint.supervisor import current_child, faults
from wixprint.vocabulary import PrinterStatus
from wixprint.wix.parse import parse_order

RETRY_MIN = 0.5
RETRY_MAX = 2.0
"""Seconds between attempts after an unknown outcome: doubles from RETRY_MIN, capped by the
printer's ``probe_interval`` (at least RETRY_MAX)."""
PROBE_WHILE_DOWN = 1.0
"""Seconds between status probes while the printer is down and jobs wait: a probe is one TCP
connect and a status read, no spool write, and the kitchen wants its tickets within seconds of
the printer's return."""
FAST_PROBING_FOR = 600.0
"""After this long down, probe only every ``probe_interval`` (an unplugged printer overnight)."""


class Attempt(enum.Enum):
    DONE = "done"
    """Printed, or quarantined: the job left ``printing`` for good."""
    RETRY = "retry"
    """Render failure or unknown outcome: the job is queued again."""
    PRINTER_DOWN = "printer_down"
    """Nothing was sent: the printer is unreachable or cannot print."""


async def run_printer(
    ctx: ActorContext,
    printer: PrinterConfig,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    log = get_logger("printer", printer=printer.name)
    spool = await ctx.spool.wait_open()
    bell = ctx.doorbells[printer.name]
    interrupted = await spool.requeue_interrupted(printer=printer.name)
    for requeued in interrupted:
        log.warning("job_interrupted_requeued", job=requeued.id, order=requeued.order_number)
    ctx.health.register(f"printer:{printer.name}")
    if await spool.get_meta(PAUSED_META + printer.name) == "1":  # paused before a restart
        ctx.set_paused(printer.name, True)
    task_status.started()
    me = current_child()
    transport = ctx.transports[printer.name]
    settle = partial(_resolve_late_proofs, ctx, spool, transport, printer.name, log)
    failures = 0
    while not me.stop_requested.is_set():
        await settle()
        if printer.name in ctx.paused:  # an operator paused it: jobs wait, a resume rings
            await _wait(bell, me.stop_requested, printer.probe_interval)
            continue
        if transport.capabilities is None:
            if not await _identify(ctx, printer, transport, log):
                await _wait_until_printable(ctx, printer, bell, me.stop_requested, settle)
            # The reconnect is where a stored id most often comes back: round the loop, so
            # it settles its job before that job's REPRINT could be claimed.
            continue
        job = await spool.claim_next(printer.name)
        if job is None:
            failures = 0
            await _wait(bell, me.stop_requested, printer.probe_interval)
            continue
        outcome = await _attempt(ctx, spool, printer, job, log)
        if outcome is Attempt.DONE:
            failures = 0
            me.mark_healthy()  # a ticket went through: a later crash restarts at once
        elif outcome is Attempt.PRINTER_DOWN:
            failures = 0
            await _wait_until_printable(ctx, printer, bell, me.stop_requested, settle)
        else:
            failures += 1
            await _wait(bell, me.stop_requested, retry_delay(failures, printer.probe_interval))


async def _identify(
    ctx: ActorContext, printer: PrinterConfig, transport: Transport, log: BoundLogger
) -> bool:
    """Ask the printer what it supports (first contact, or back after an outage). False
    when it cannot answer now (unreachable, or it cannot print)."""
    try:
        caps = await transport.identify()
    except (PrinterOffline, PrinterNotReady) as exc:
        _report_unavailable(ctx, printer.name, exc)
        return False
    mode = transport.proof_mode()
    log.info("printer_identified", model=caps.model, proof=mode.mode)
    if mode.warning:
        log.warning("printer_proof_warning", proof=mode.mode, warning=mode.warning)
    return True


def _report_unavailable(
    ctx: ActorContext, name: str, exc: PrinterOffline | PrinterNotReady
) -> None:
    status = exc.status if isinstance(exc, PrinterNotReady) and exc.status else None
    ctx.report_printer(name, status or PrinterStatus(online=False), reason=str(exc))


async def _resolve_late_proofs(
    ctx: ActorContext, spool: Spool, transport: Transport, printer: str, log: BoundLogger
) -> None:
    """Process ids that came back outside their job: each proves an earlier attempt."""
    for tag in transport.take_late_proofs():
        owner = tag_owner(tag)
        if owner is None:
            continue
        job = await spool.resolve_late_proof(
            printer, *owner, window=JOB_WINDOW, slots=ATTEMPT_SLOTS
        )
        if job is None:
            continue
        log.info("ticket_printed_late_proof", job=job.id, order=job.order_number)
        _published_printed(ctx, job, late=True)


def _published_printed(ctx: ActorContext, job: Job, *, late: bool = False) -> None:
    ctx.publish(
        TicketPrinted(
            at=ctx.wall(),
            job_id=job.id,
            order_number=job.order_number,
            printer=job.printer,
            receipt=job.kind,
            reprint=job.reprint,
            latency=max(0.0, ctx.wall() - job.created_at),
            late=late,
        )
    )


async def _wait_until_printable(
    ctx: ActorContext,
    printer: PrinterConfig,
    bell: Doorbell,
    stop: trio.Event,
    settle: Callable[[], Awaitable[None]],
) -> None:
    """Probe until the printer can print (or we are asked to stop).

    Claiming and releasing a job per retry would cost two commits on the SD card each time and
    wake on every new order; a status probe costs neither. A ring (the connectivity actor saw
    the printer back, or a new order) only makes the next probe come sooner. A printer out of
    paper still hands over a stored process id: ``settle`` marks its job printed at once, or
    it would look unprinted (and be reprinted by hand) until the new roll.
    """
    transport = ctx.transports[printer.name]
    down_since = trio.current_time()
    while not stop.is_set():
        fast = trio.current_time() - down_since < FAST_PROBING_FOR
        await _wait(bell, stop, PROBE_WHILE_DOWN if fast else printer.probe_interval)
        if stop.is_set():
            return
        try:
            status = await transport.probe()
        except PrinterOffline as exc:  # it may still have handed over a stored id first
            status = PrinterStatus(online=False)
            ctx.report_printer(printer.name, status, reason=str(exc))
        else:
            ctx.report_printer(printer.name, status)
        await settle()
        if status.can_print:
            return


def retry_delay(failures: int, probe_interval: float) -> float:
    """Seconds before the next attempt after ``failures`` unknown outcomes in a row (jittered).

    Doubles from ``RETRY_MIN`` up to ``probe_interval`` (at least ``RETRY_MAX``): every attempt
    claims and releases the job, two commits on the SD card.
    """
    ceiling = max(RETRY_MAX, probe_interval)
    return min(ceiling, RETRY_MIN * 2.0 ** min(failures - 1, 16)) * (1 + random.random() * 0.2)


async def _wait(bell: Doorbell, stop: trio.Event, delay: float) -> None:
    """Sleep until rung, stopped, or ``delay`` seconds."""
    async with trio.open_nursery() as nursery:

        async def stop_waiter() -> None:
            await stop.wait()
            nursery.cancel_scope.cancel()

        nursery.start_soon(stop_waiter)
        with trio.move_on_after(delay):
            await bell.wait()
        nursery.cancel_scope.cancel()


async def _attempt(
    ctx: ActorContext, spool: Spool, printer: PrinterConfig, job: Job, log: BoundLogger
) -> Attempt:
    """One try at one claimed job."""
    # Outside the poison-order catch: a spool that fails to read is a spool problem (the actor
    # crashes and restarts), never a reason to quarantine somebody's order.
    raw = await spool.order_raw(job.order_id)
    transport = ctx.transports[printer.name]
    caps = transport.capabilities
    profile = resolve_profile(printer.model, caps.model if caps else None)
    try:
        ticket = _render(ctx, raw, printer, job, profile)
    except Exception as exc:  # any render failure is a poison-order symptom
        state = await spool.record_render_failure(job.id, f"{type(exc).__name__}: {exc}")
        log.error("render_failed", job=job.id, order=job.order_number, error=type(exc).__name__)
        if state is JobState.FAILED and job.kind != ALERT_SLIP_KIND:
            ctx.publish(
                TicketQuarantined(
                    at=ctx.wall(),
                    job_id=job.id,
                    order_number=job.order_number,
                    printer=printer.name,
                    receipt=job.kind,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            return Attempt.DONE
        return Attempt.RETRY

    seen: list[PrinterStatus] = []

    def on_status(status: PrinterStatus) -> None:
        seen.append(status)
        ctx.report_printer(printer.name, status)

    # The attempts whose process id may still come back. From the ninth on, the oldest of
    # them shares this attempt's id: one coming back before anything was sent is its proof.
    first = max(1, job.attempts - ATTEMPT_SLOTS)
    faults.point("printer.before_send")
    try:
        options = JobOptions(
            print_seconds=profile.print_seconds(ticket.length),
            retry=job.reason == "interrupted",
            earlier=frozenset(job_tag(job.id, a) for a in range(first, job.attempts)),
        )
        tag = job_tag(job.id, job.attempts)
        confirmation = await transport.print_job(
            ticket.data, tag=tag, on_status=on_status, options=options
        )
    except (PrinterOffline, PrinterNotReady) as exc:
        await spool.release(job.id, outcome_unknown=False, error=str(exc))
        _report_unavailable(ctx, printer.name, exc)
        log.info("printer_unavailable", job=job.id, reason=str(exc))
        return Attempt.PRINTER_DOWN
    except PrintOutcomeUnknown as exc:
        state = await spool.record_unknown(job.id, counted=exc.answered, error=str(exc))
        ctx.metrics.count_unknown_outcome(printer.name)
        log.warning("print_outcome_unknown", job=job.id, order=job.order_number, reason=str(exc))
        if state is not JobState.ATTENTION:
            return Attempt.RETRY
        log.error("ticket_needs_attention", job=job.id, order=job.order_number)
        if job.kind == ALERT_SLIP_KIND:
            return Attempt.DONE  # a slip's own trouble is no order's: not alerted again
        ctx.publish(
            TicketNeedsAttention(
                at=ctx.wall(),
                job_id=job.id,
                order_number=job.order_number,
                printer=printer.name,
                receipt=job.kind,
                attempts=job.unproven + job.unanswered + 1,
            )
        )
        return Attempt.DONE
    faults.point("printer.after_send")
    await spool.mark_printed(job.id)
    # A proven ticket proves the printer is up, whatever hysteresis still waits for (its
    # paper too, but only a status read can say so: a USB printer's stays unknown).
    ctx.report_printer(printer.name, seen[-1] if seen else PrinterStatus(online=True), force=True)
    if confirmation == "earlier":
        log.info("reprint_withdrawn", job=job.id, order=job.order_number)
    log.info(
        "ticket_printed", job=job.id, order=job.order_number, receipt=job.kind, reprint=job.reprint
    )
    _published_printed(ctx, job, late=confirmation == "earlier")
    return Attempt.DONE


def _render(
    ctx: ActorContext, raw: str | None, printer: PrinterConfig, job: Job, profile: PrinterProfile
) -> Ticket:
    """The ticket of ``job`` from its stored order (pure: parse and render)."""
    if raw is None:
        raise LookupError(f"order {job.order_id} of job {job.id} is not in the spool")
    request = TicketRequest(
        kind=job.kind,
        variant=job.variant,
        reprint=job.reprint,
        job_id=job.id,
        revision=job.revision,
        cut_first=job.reason == "interrupted",
    )
    if job.kind == ALERT_SLIP_KIND:
        slip = decode_slip(raw)
        return render_alert_slip(slip, request, config=ctx.config, printer=printer, profile=profile)
    order = parse_order(json.loads(raw), ctx.tz).order
    return render_ticket(order, request, config=ctx.config, printer=printer, profile=profile)
