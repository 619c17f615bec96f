"""The dashboard's admin actions besides a reprint: test-print, pause and resume a printer,
retry a job set aside, and the ticket preview of an order.

Every one needs the admin token in a header (``Authorization: Bearer`` or
``X-Admin-Token``), never in the URL: the dashboard keeps it for the browser session. The
preview too, though it changes nothing: it shows what a ticket prints, names and addresses
included, which ``/orders`` never shows.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

from quart import Response, request
from quart_trio import QuartTrio

from wixprint.errors import PrinterNotReady, PrinterOffline, PrintOutcomeUnknown
from wixprint.web.deps import PrinterActions, WebDeps
from wixprint.web.responses import error_response, json_response
from wixprint.web.routes_actions import check_admin, fixed_reason

__all__ = ["register_admin_routes"]

log = logging.getLogger("wixprint.web")


Act = Callable[[PrinterActions], Awaitable[Response]]


async def _act(deps: WebDeps, act: Act, *, unknown: str, invalid: int = 400) -> Response:
    """Run ``act`` when the request carries the admin token: an unknown target (KeyError)
    answers 404 ``unknown``, a refused one (ValueError) ``invalid`` with a fixed reason."""
    denied = check_admin(deps.admin_token)
    if denied is not None:
        return denied
    if deps.actions is None:
        return error_response(404, "not available")
    try:
        return await act(deps.actions)
    except KeyError:
        return error_response(404, unknown)
    except ValueError as exc:
        return error_response(invalid, fixed_reason(exc))


async def _test_print(actions: PrinterActions, name: str) -> Response:
    try:
        said = await actions.test_print(name)
    except PrintOutcomeUnknown:
        return error_response(504, "sent, but the printer did not confirm", printer=name)
    except PrinterNotReady as exc:
        status = exc.status
        why = "cover open" if status and status.cover_open else "not ready"
        if status and status.paper == "out":
            why = "paper out"
        return error_response(503, f"printer {why}", printer=name)
    except PrinterOffline:
        return error_response(503, "printer offline", printer=name)
    log.info("test_print_requested", extra={"printer": name})
    return json_response({"printer": name, "printed": True, **said})


async def _pause(actions: PrinterActions, name: str, paused: bool) -> Response:
    await actions.set_paused(name, paused)
    log.info("printer_paused" if paused else "printer_resumed", extra={"printer": name})
    return json_response({"printer": name, "paused": paused})


async def _retry(actions: PrinterActions, job_id: int) -> Response:
    job_ids = await actions.retry(job_id)
    log.info("retry_requested", extra={"job": job_id, "jobs": list(job_ids)})
    return json_response({"job": job_id, "jobs": list(job_ids)})


async def _preview(actions: PrinterActions, order: str) -> Response:
    return json_response(await actions.preview(order, request.args.get("receipt") or None))


def register_admin_routes(app: QuartTrio, deps: WebDeps) -> None:
    @app.post("/printers/<name>/test-print")
    async def test_print(name: str) -> Response:
        return await _act(deps, partial(_test_print, name=name), unknown="unknown printer")

    @app.post("/printers/<name>/pause")
    async def pause_printer(name: str) -> Response:
        act = partial(_pause, name=name, paused=True)
        return await _act(deps, act, unknown="unknown printer")

    @app.post("/printers/<name>/resume")
    async def resume_printer(name: str) -> Response:
        act = partial(_pause, name=name, paused=False)
        return await _act(deps, act, unknown="unknown printer")

    @app.post("/jobs/<int:job_id>/retry")
    async def retry(job_id: int) -> Response:
        act = partial(_retry, job_id=job_id)
        return await _act(deps, act, unknown="unknown job", invalid=409)

    @app.get("/orders/<order>/preview")
    async def preview(order: str) -> Response:
        return await _act(deps, partial(_preview, order=order), unknown="unknown order")
