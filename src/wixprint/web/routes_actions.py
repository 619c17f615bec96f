"""Routes that change something: an operator's reprint and Wix's webhook push.

Neither ever echoes what it was sent: not the admin token, not the webhook body.
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

__all__ = ["MAX_WEBHOOK_BODY", "check_admin", "register_action_routes"]

log = logging.getLogger("wixprint.web")

_WEBHOOK_REASONS = {
    400: "malformed webhook",
    401: "webhook verification failed",
    403: "webhook not allowed",
    413: "webhook too large",
}


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


async def _receipt_kind() -> str | None:
    """``receipt`` from a JSON body, else from the query string; ValueError when unusable."""
    body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
    if body.strip():
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("body must be JSON") from None
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        kind = data.get("receipt")
        if kind is not None:
            if not isinstance(kind, str):
                raise ValueError("receipt must be a string")
            return kind
    return request.args.get("receipt") or None


def register_action_routes(app: QuartTrio, deps: WebDeps) -> None:
    @app.post("/orders/<order>/reprint")
    async def reprint(order: str) -> Response:
        denied = check_admin(deps.admin_token)
        if denied is not None:
            return denied
        try:
            kind = await _receipt_kind()
        except ValueError as exc:
            return error_response(400, str(exc))
        try:
            job_ids = await deps.reprint(order, kind)
        except KeyError:
            return error_response(404, "unknown order")
        except ValueError:
            return error_response(400, "unknown receipt kind")
        log.info("reprint_requested", extra={"order": order, "receipt": kind, "jobs": job_ids})
        return json_response({"order": order, "receipt": kind, "jobs": list(job_ids)})

    @app.post("/webhooks/wix")
    async def webhook() -> Response:
        handler = deps.webhook
        if handler is None:
            return error_response(404, "webhooks disabled")
        declared = request.content_length
        if declared is not None and declared > MAX_WEBHOOK_BODY:
            deps.metrics.count_webhook("too_large")
            return error_response(413, _WEBHOOK_REASONS[413])
        try:
            # The app's MAX_CONTENT_LENGTH caps what is buffered when no length was declared.
            body = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        except RequestEntityTooLarge:
            deps.metrics.count_webhook("too_large")
            return error_response(413, _WEBHOOK_REASONS[413])
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
