"""``GET /``: the dashboard page, from package data, with the recent events embedded; and
``GET /alarm.wav``, the sound it plays on a critical problem.

The page is one self-contained file (no build step, no external URLs). Its inline script and
style are allowed by hash in a strict Content-Security-Policy, so even a bug that slipped
data into the markup could not run script. The initial state travels in a JSON data block
whose ``<``, ``>`` and ``&`` are escaped, so no event text can end that block.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from quart import Response
from quart_trio import QuartTrio

from wixprint.web.alarm import alarm_wav
from wixprint.web.deps import WebDeps
from wixprint.web.texts import dashboard_texts

__all__ = ["Dashboard", "embed_json", "load_dashboard", "register_dashboard_route"]

PLACEHOLDER = "{{INITIAL_STATE}}"
TEXTS_PLACEHOLDER = "{{TEXTS}}"
LANG_PLACEHOLDER = "{{LANG}}"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def embed_json(data: object) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` block."""
    text = json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _ESCAPES[m.group(0)], text)


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


@dataclass(frozen=True, slots=True)
class Dashboard:
    template: str
    csp: str

    def render(self, recent_events: Sequence[Mapping[str, object]], language: str = "en") -> bytes:
        lang = "de" if language == "de" else "en"
        page = self.template.replace(LANG_PLACEHOLDER, lang, 1)
        page = page.replace(TEXTS_PLACEHOLDER, embed_json(dashboard_texts(lang)), 1)
        return page.replace(PLACEHOLDER, embed_json(list(recent_events)), 1).encode()


def load_dashboard() -> Dashboard:
    """Read the page once (at app creation, not per request) and hash its inline code."""
    template = resources.files("wixprint.web").joinpath("static/dashboard.html").read_text("utf-8")
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for match in _INLINE.finditer(template):
        hashes[match.group(1)].append(_csp_hash(match.group(2)))
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src " + (" ".join(hashes["script"]) or "'none'"),
            "style-src " + (" ".join(hashes["style"]) or "'none'"),
            "connect-src 'self'",
            "img-src 'self' data:",
            "media-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return Dashboard(template, csp)


def register_dashboard_route(app: QuartTrio, deps: WebDeps) -> None:
    dashboard = load_dashboard()
    sound = alarm_wav()

    @app.get("/alarm.wav")
    async def alarm() -> Response:
        """The sound the dashboard plays on a critical problem (``media-src 'self'``)."""
        response: Response = app.response_class(sound, content_type="audio/wav")
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.get("/")
    async def index() -> Response:
        response: Response = app.response_class(
            dashboard.render(deps.recent_events(), deps.language),
            content_type="text/html; charset=utf-8",
        )
        response.headers["Content-Security-Policy"] = dashboard.csp
        response.headers["Cache-Control"] = "no-cache"
        return response
