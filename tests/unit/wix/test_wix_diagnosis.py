"""A 401/403 explained by its likely cause, from what Wix answered."""

from __future__ import annotations

import httpx
import pytest

from wixprint.errors import WixAuthError
from wixprint.vocabulary import AuthCause
from wixprint.wix.client import raise_for_wix_status
from wixprint.wix.diagnosis import diagnose_auth

SITE = "5d4b6a0e-0000-4000-8000-00000000517e"
PERMISSION, SITE_ID = AuthCause.PERMISSION, AuthCause.SITE_ID
ACCOUNT, KEY = AuthCause.ACCOUNT, AuthCause.KEY


@pytest.mark.parametrize(
    ("status", "message", "code", "expected"),
    [
        # Wix's permission 403s often say nothing: the usual order.
        (403, "", "", (PERMISSION, SITE_ID, ACCOUNT)),
        (403, "", "PERMISSION_DENIED", (PERMISSION, SITE_ID, ACCOUNT)),
        (403, "Permission denied", "PERMISSION_DENIED", (PERMISSION, SITE_ID, ACCOUNT)),
        (403, "Site not found for this token", "", (SITE_ID, PERMISSION, ACCOUNT)),
        (403, "MetaSite is not accessible", "", (SITE_ID, PERMISSION, ACCOUNT)),
        (403, "Caller is not the site owner", "", (ACCOUNT, PERMISSION, SITE_ID)),
        (401, "", "", (KEY, PERMISSION)),
        (401, "Not authenticated", "MISSING_TOKEN", (KEY, PERMISSION)),
        (401, "Missing permissions: SCOPE.ECOM.READ_ORDERS", "", (PERMISSION, KEY)),
    ],
)
def test_causes_in_order(
    status: int, message: str, code: str, expected: tuple[AuthCause, ...]
) -> None:
    found = diagnose_auth(status, message=message, code=code, site_id=SITE)
    assert found.causes == expected
    assert found.status == status


@pytest.mark.parametrize(
    "site_id",
    ["", "my-restaurant", f"https://manage.wix.com/dashboard/{SITE}/home", f"{SITE}/"],
)
def test_a_site_id_that_is_no_guid_goes_first(site_id: str) -> None:
    found = diagnose_auth(403, message="Caller is not the site owner", site_id=site_id)
    assert found.causes == (SITE_ID, ACCOUNT, PERMISSION)
    assert diagnose_auth(401, site_id=site_id).causes == (SITE_ID, KEY, PERMISSION)


def test_reason_names_every_cause_likeliest_first() -> None:
    found = diagnose_auth(403, message="Permission denied", code="PERMISSION_DENIED", site_id=SITE)
    assert found.reason == (
        "Wix refused the API key (403: Permission denied [PERMISSION_DENIED]). "
        'Likely: the key lacks the "Read Orders" permission; '
        "else wrong site ID (the GUID after /dashboard/ in the dashboard address); "
        "else the key was made by an account that does not own the site"
    )
    assert found.cause_names == ("permission", "site_id", "account")
    assert diagnose_auth(403, site_id=SITE).reason.startswith("Wix refused the API key (403).")


def test_the_client_hands_wix_words_over_without_the_key() -> None:
    key = "IST.secret-key-123"
    body = {"message": f"token {key} lacks scope", "details": {"applicationError": {"code": "X"}}}
    response = httpx.Response(403, json=body)
    with pytest.raises(WixAuthError) as caught:
        raise_for_wix_status(response, api_key=key)
    error = caught.value
    assert (error.status_code, error.wix_code) == (403, "X")
    assert error.wix_message == "token <api key> lacks scope"
    assert key not in str(error)
    empty = httpx.Response(401, content=b"")
    with pytest.raises(WixAuthError) as caught:
        raise_for_wix_status(empty, api_key=key)
    assert (caught.value.wix_message, caught.value.wix_code) == ("", "")
    assert str(caught.value) == "Wix refused the credentials (401)"
