"""The dashboard's admin actions over the actor context: the web actor hands them to the
routes (``web.deps.PrinterActions``). Each reuses what the command line does: the spool's
operator reprint, ``wixprint test-print``'s ticket, ``wixprint preview``'s rendering.

* **Pause** is a flag in the context (the printer actor claims no job while it is set, the
  alerter raises nothing for the printer) and a spool meta row, so it outlasts a restart.
* **Retry** of a job set aside ("needs attention") is the operator reprint of that one
  ticket on that one printer: the spool marks the old job replaced in the same transaction.
* **Test print** goes through the printer's own transport, whose lock keeps it from
  interleaving with a job; it prints while paused too (checking a printer before resuming).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime

import trio

from wixprint.actors.context import PAUSED_META, ActorContext
from wixprint.config import RECEIPT_KINDS, PrinterConfig
from wixprint.errors import RenderError
from wixprint.logs import get_logger
from wixprint.receipts.preview import detected_profiles, preview_png, preview_tickets
from wixprint.receipts.testticket import print_test_ticket
from wixprint.spool import Spool
from wixprint.spool.types import JobState
from wixprint.wix.jsontext import loads
from wixprint.wix.parse import parse_order

__all__ = ["DashboardActions"]

_RENDERING = trio.CapacityLimiter(1)
"""One preview drawn at a time (a PNG of a long order takes a moment on a Pi)."""


class DashboardActions:
    def __init__(self, ctx: ActorContext, spool: Spool) -> None:
        self._ctx = ctx
        self._spool = spool
        self._log = get_logger("web")

    def _printer(self, name: str) -> PrinterConfig:
        for printer in self._ctx.config.printers:
            if printer.name == name:
                return printer
        raise KeyError(name)

    async def reprint(self, key: str, kind: str | None, printer: str | None) -> Sequence[int]:
        if kind is not None and kind not in RECEIPT_KINDS:
            raise ValueError("unknown receipt kind")
        if printer is not None:
            try:
                self._printer(printer)
            except KeyError:
                raise ValueError("unknown printer") from None
        job_ids = await self._spool.reprint(key, kind, printer)
        self._log.info("operator_reprint", order=key, jobs=len(job_ids))
        self._ctx.ring()
        return job_ids

    async def test_print(self, printer: str) -> Mapping[str, object]:
        config = self._printer(printer)
        now = datetime.fromtimestamp(self._ctx.wall(), self._ctx.tz)
        done = await print_test_ticket(self._ctx.config, config, self._ctx.transports[printer], now)
        return asdict(done)

    async def set_paused(self, printer: str, paused: bool) -> None:
        self._printer(printer)
        await self._spool.set_meta(PAUSED_META + printer, "1" if paused else "")
        self._ctx.set_paused(printer, paused)

    async def retry(self, job_id: int) -> Sequence[int]:
        job = await self._spool.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        if job.state is not JobState.ATTENTION:
            raise ValueError("job is not set aside")
        # Checked again inside the reprint's transaction: a late proof may print it meanwhile.
        job_ids = await self._spool.reprint(
            job.order_id, job.kind, job.printer, set_aside_only=True
        )
        if not job_ids:
            raise ValueError("job is not set aside")
        self._log.info("operator_retry", order=job.order_number, jobs=len(job_ids))
        self._ctx.ring()
        return job_ids

    async def preview(self, key: str, kind: str | None) -> Mapping[str, object]:
        if kind is not None and kind not in RECEIPT_KINDS:
            raise ValueError("unknown receipt kind")
        raw = await self._spool.find_order_raw(key)
        if raw is None:
            raise KeyError(key)
        ctx = self._ctx
        profiles = detected_profiles(ctx.config, ctx.transports)

        def render() -> Mapping[str, object]:
            order = parse_order(loads(raw), ctx.tz).order
            try:
                tickets = preview_tickets(order, ctx.config, kind, profiles=profiles)
            except RenderError:
                raise ValueError("cannot render") from None
            if not tickets:
                raise ValueError("nothing to show")
            return {
                "order": order.number or order.id,
                "tickets": [
                    {"receipt": t.kind, "printer": t.printer.name, "columns": t.columns}
                    | {"text": t.text}
                    for t in tickets
                ],
                "png": base64.b64encode(preview_png(tickets)).decode("ascii"),
            }

        return await trio.to_thread.run_sync(render, limiter=_RENDERING)
