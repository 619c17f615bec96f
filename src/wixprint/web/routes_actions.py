"""Routes that change something: an operator's reprint, Wix's signed webhook push, and the
push an owner can set up (a Wix Automation "send HTTP request" or a Velo ``events.js``).

None ever echoes what it was sent: not the admin token, not a body, not the URL's secret.
"""

from __future__ import annotations

import hmac
import json
import logging

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import RequestEntityTooLarge

from wixprint.errors import WebhookRejected
from wixprint.supervisor import faults
from wixprint.web.deps import WebDeps
from wixprint.web.responses import error_response, json_response
from wixprint.wix.webhook import MAX_WEBHOOK_BODY

__all__ = [
    "MAX_WEBHOOK_BODY",
    "action_fields",
    "check_admin",
    "fixed_reason",
    "register_action_routes",
]

log = logging.getLogger("wixprint.web")

_WEBHOOK_REASONS = {
    400: "malformed webhook",
    401: "webhook verification failed",
    403: "webhook not allowed",
    413: "webhook too large",
}


FIXED_REASONS = frozenset(
    {
        "unknown receipt kind",
        "unknown printer",
        "job is not set aside",
        "nothing to show",
        "cannot render",
    }
)
"""What a dependency's ValueError may say to the client: fixed words, never its input."""


def fixed_reason(exc: ValueError, default: str = "bad request") -> str:
    return str(exc) if str(exc) in FIXED_REASONS else default


def _presented_token() -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-Admin-Token") or None


def check_admin(configured: str) -> Response | None:
    """None when the request carries the admin token, else the 401/403 answer to send."""
    if not configured:
        return error_response(403, "admin actions disabled")
    presented = _presented_token()
    if presented is None or not hmac.compare_digest(
        presented.encode("utf-8", "surrogateescape"), configured.encode("utf-8")
    ):
        return error_response(401, "admin token required")
    return None


async def action_fields(*names: str) -> dict[str, str | None]:
    """Each of ``names`` from a JSON body, else from the query string; ValueError when
    unusable. (A small action body: the app's content limit caps it.)"""
    body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    data: dict[str, object] = {}
    if body.strip():
        try:
            loaded = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("body must be JSON") from None
        if not isinstance(loaded, dict):
            raise ValueError("body must be a JSON object")
        data = loaded
    out: dict[str, str | None] = {}
    for name in names:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        out[name] = value or request.args.get(name) or None
    return out


def register_action_routes(app: QuartTrio, deps: WebDeps) -> None:
    @app.post("/orders/<order>/reprint")
    async def reprint(order: str) -> Response:
        denied = check_admin(deps.admin_token)
        if denied is not None:
            return denied
        try:
            fields = await action_fields("receipt", "printer")
        except ValueError as exc:
            return error_response(400, str(exc))
        kind, printer = fields["receipt"], fields["printer"]
        try:
            job_ids = await deps.reprint(order, kind, printer)
        except KeyError:
            return error_response(404, "unknown order")
        except ValueError as exc:
            return error_response(400, fixed_reason(exc))
        log.info("reprint_requested", extra={"order": order, "receipt": kind, "jobs": job_ids})
        body = {"order": order, "receipt": kind, "jobs": list(job_ids)}
        if printer:
            body["printer"] = printer
        return json_response(body)

    @app.post("/webhooks/wix")
    async def webhook() -> Response:
        handler = deps.webhook
        if handler is None:
            return error_response(404, "webhooks disabled")
        body = await _bounded_body(deps)
        if isinstance(body, Response):
            return body
        try:
            faults.point("web.webhook")
            await handler(body)
        except WebhookRejected as exc:
            deps.metrics.count_webhook("rejected")
            status = exc.status_code if 400 <= exc.status_code < 500 else 400
            log.warning("webhook_rejected", extra={"status": status, "reason": str(exc)[:200]})
            return error_response(status, _WEBHOOK_REASONS.get(status, "webhook rejected"))
        except Exception:
            deps.metrics.count_webhook("error")
            raise
        deps.metrics.count_webhook("accepted")
        return json_response({"status": "accepted"})

    @app.post("/webhooks/automation/<token>")
    async def automation(token: str) -> Response:
        # One answer for "off" and "wrong token", after a constant-time compare: the route
        # does not tell a scanner whether it exists.
        handler, configured = deps.automation, deps.automation_token
        presented = token.encode("utf-8", "surrogateescape")
        if (
            handler is None
            or not configured
            or not hmac.compare_digest(presented, configured.encode("utf-8"))
        ):
            deps.metrics.count_webhook("unknown_token")
            return error_response(404, "not found")
        body = await _bounded_body(deps)
        if isinstance(body, Response):
            return body
        await handler(body)
        deps.metrics.count_webhook("push")
        return json_response({"status": "accepted"})


async def _bounded_body(deps: WebDeps) -> bytes | Response:
    """The request body, or the 413 answer when it is larger than ``MAX_WEBHOOK_BODY``."""
    declared = request.content_length
    if declared is not None and declared > MAX_WEBHOOK_BODY:
        deps.metrics.count_webhook("too_large")
        return error_response(413, _WEBHOOK_REASONS[413])
    try:
        # The app's MAX_CONTENT_LENGTH caps what is buffered when no length was declared.
        return await request.get_data(cache=False, as_text=False, parse_form_data=False)
    except RequestEntityTooLarge:
        deps.metrics.count_webhook("too_large")
        return error_response(413, _WEBHOOK_REASONS[413])
