"""Why Wix refused our credentials: a 401/403 explained by its likely cause.

"Key rejected" sends an owner to create a new key, when the usual causes are elsewhere
(Wix API reference §5.1, "API Keys" and "Make API Calls with an API Key" pages):

* the key lacks the "Read Orders" permission (403; "occasionally" a 401);
* the site ID is wrong: not the GUID after ``/dashboard/`` in the dashboard's address, or a
  site of another account (403);
* the key was created by an account that does not own the site: "site-level calls only work
  with API keys generated from the site owner's account" (403);
* the key itself is missing, mistyped or revoked (401).

Wix's 403 answers often carry no description at all, so what Wix said only reorders the
list; a site ID that is not a GUID is certain to be wrong and goes first. Pure: the fetcher
turns the result into the health reason and the alert's advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from wixprint.vocabulary import AuthCause

__all__ = ["AuthDiagnosis", "diagnose_auth", "wix_said"]

_GUID: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_SITE: Final = re.compile(r"site|metasite|msid|instance|tenant")
_ACCOUNT: Final = re.compile(r"owner|account|identity|not a member|collaborator")
_PERMISSION: Final = re.compile(r"permission|scope|not authori[sz]ed|forbidden|denied")
_KEY: Final = re.compile(r"token|api.?key|authenticat|expired|invalid|malformed|revoked")

_SHORT: Final = {
    AuthCause.PERMISSION: 'the key lacks the "Read Orders" permission',
    AuthCause.SITE_ID: "wrong site ID (the GUID after /dashboard/ in the dashboard address)",
    AuthCause.ACCOUNT: "the key was made by an account that does not own the site",
    AuthCause.KEY: "the key is mistyped, incomplete or revoked",
}


@dataclass(frozen=True, slots=True)
class AuthDiagnosis:
    status: int
    causes: tuple[AuthCause, ...]
    """Every likely cause, most likely first."""
    wix_said: str
    """Wix's message and code as received (already free of the key), or ""."""

    @property
    def cause_names(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.causes)

    @property
    def reason(self) -> str:
        """One line for ``/health`` and ``wixprint check``."""
        said = f": {self.wix_said}" if self.wix_said else ""
        likely = "; else ".join(_SHORT[c] for c in self.causes)
        return f"Wix refused the API key ({self.status}{said}). Likely: {likely}"


def diagnose_auth(
    status: int, *, message: str = "", code: str = "", site_id: str = ""
) -> AuthDiagnosis:
    """The likely causes of a 401/403, from what Wix answered and the configured site ID."""
    text = f"{message} {code}".casefold()
    if status == 401:
        order = [AuthCause.KEY, AuthCause.PERMISSION]
        if _PERMISSION.search(text) and not _KEY.search(text):
            order.reverse()
    else:
        order = [AuthCause.PERMISSION, AuthCause.SITE_ID, AuthCause.ACCOUNT]
        for pattern, cause in ((_ACCOUNT, AuthCause.ACCOUNT), (_SITE, AuthCause.SITE_ID)):
            if pattern.search(text):
                order.remove(cause)
                order.insert(0, cause)
                break
    if not _GUID.fullmatch(site_id.strip()):
        order = [AuthCause.SITE_ID, *(c for c in order if c is not AuthCause.SITE_ID)]
    return AuthDiagnosis(status=status, causes=tuple(order), wix_said=wix_said(message, code))


def wix_said(message: str, code: str) -> str:
    """``Permission denied [PERMISSION_DENIED]`` from Wix's error message and code."""
    code = code.strip()
    return " ".join(p for p in (message.strip(), f"[{code}]" if code else "") if p)
