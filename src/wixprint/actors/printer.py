"""Printer actor: one per ``[[printers]]`` entry. Claims its next job, renders it, sends it,
and marks it printed only on proof.

Outcomes of one attempt, and what happens to the job:

* printer unreachable or not ready (nothing sent): back to the queue unchanged, back off;
* bytes sent but no proof: back to the queue *marked as a possible duplicate*; the next copy
  carries a REPRINT banner (never a blind resend);
* the order cannot be rendered: counted; after a few failures the job is quarantined and
  alerted (a poison order must not block the queue forever);
* proof arrived: printed.

A crash anywhere leaves the job in ``printing``; the actor's next start puts it back with the
REPRINT mark, so a restart never loses a ticket and never prints an unmarked second copy.
"""

from __future__ import annotations

import json
import random

import trio
from structlog.stdlib import BoundLogger

from wixprint.actors.context import ActorContext, Doorbell
from wixprint.config import PrinterConfig
from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.events import TicketPrinted, TicketQuarantined
from wixprint.logs import get_logger
from wixprint.printing.protocol import job_tag
from wixprint.printing.status import PrinterStatus
from wixprint.receipts import TicketRequest, render_ticket
from wixprint.spool import Spool
from wixprint.spool.types import Job, JobState
from wixprint.supervisor import current_child, faults
from wixprint.wix.parse import parse_order

RETRY_MIN = 0.5
RETRY_MAX = 2.0
"""Seconds between attempts while the printer is down and jobs wait: short, because a LAN
printer is cheap to ask and the kitchen wants its tickets within seconds of its return."""


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
    task_status.started()
    me = current_child()
    failures = 0
    while not me.stop_requested.is_set():
        job = await spool.claim_next(printer.name)
        if job is None:
            failures = 0
            await _wait(bell, me.stop_requested, printer.probe_interval)
            continue
        done = await _attempt(ctx, spool, printer, job, log)
        if done:
            failures = 0
            continue
        failures += 1
        delay = min(RETRY_MAX, RETRY_MIN * 2 ** (failures - 1)) * (1 + random.random() * 0.2)
        await _wait(bell, me.stop_requested, delay)


async def _wait(bell: Doorbell, stop: trio.Event, delay: float) -> None:
    """Sleep until rung, stopped, or ``timeout``."""
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
) -> bool:
    """One try at one claimed job. True when the job left ``printing`` for good."""
    try:
        data = await _render(ctx, spool, printer, job)
    except Exception as exc:  # any render failure is a poison-order symptom
        state = await spool.record_render_failure(job.id, f"{type(exc).__name__}: {exc}")
        log.error("render_failed", job=job.id, order=job.order_number, error=type(exc).__name__)
        if state is JobState.FAILED:
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
            return True
        return False

    seen: list[PrinterStatus] = []

    def on_status(status: PrinterStatus) -> None:
        seen.append(status)
        ctx.report_printer(printer.name, status)

    faults.point("printer.before_send")
    try:
        await ctx.transports[printer.name].print_job(data, tag=job_tag(job.id), on_status=on_status)
    except (PrinterOffline, PrinterNotReady) as exc:
        await spool.release(job.id, outcome_unknown=False, error=str(exc))
        status = exc.status if isinstance(exc, PrinterNotReady) and exc.status else None
        ctx.report_printer(printer.name, status or PrinterStatus(online=False), reason=str(exc))
        log.info("printer_unavailable", job=job.id, reason=str(exc))
        return False
    except PrintOutcomeUnknown as exc:
        await spool.release(job.id, outcome_unknown=True, error=str(exc))
        ctx.metrics.count_unknown_outcome(printer.name)
        log.warning("print_outcome_unknown", job=job.id, order=job.order_number, reason=str(exc))
        return False
    faults.point("printer.after_send")
    await spool.mark_printed(job.id)
    # A proven ticket proves the printer is up, whatever hysteresis still waits for.
    ctx.report_printer(
        printer.name, seen[-1] if seen else PrinterStatus(online=True, paper="ok"), force=True
    )
    latency = max(0.0, ctx.wall() - job.created_at)
    log.info(
        "ticket_printed", job=job.id, order=job.order_number, receipt=job.kind, reprint=job.reprint
    )
    ctx.publish(
        TicketPrinted(
            at=ctx.wall(),
            job_id=job.id,
            order_number=job.order_number,
            printer=printer.name,
            receipt=job.kind,
            reprint=job.reprint,
            latency=latency,
        )
    )
    return True


async def _render(ctx: ActorContext, spool: Spool, printer: PrinterConfig, job: Job) -> bytes:
    raw = await spool.order_raw(job.order_id)
    if raw is None:
        raise LookupError(f"order {job.order_id} of job {job.id} is not in the spool")
    order = parse_order(json.loads(raw), ctx.tz).order
    request = TicketRequest(
        kind=job.kind,
        variant=job.variant,
        reprint=job.reprint,
        job_id=job.id,
        revision=job.revision,
    )
    return render_ticket(order, request, config=ctx.config, printer=printer).data
