"""Webhook verification (only RS256, fresh, the right key) and envelope unwrapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.fakes.webhooks import (
    ORDER_EVENT_SLUGS,
    OrderEventSlug,
    alg_none_token,
    expired_token,
    garbage_bodies,
    generate_signing_key,
    hs256_with_public_pem,
    order_event_envelope,
    sign_event,
)
from wixprint.errors import WebhookRejected
from wixprint.sim.webhooks import order_webhook_body, sign_webhook_for_shop
from wixprint.wix.webhook import MAX_WEBHOOK_BODY, check_instance, load_public_key, verify_webhook

NOW = 1_750_000_000
ORDER_01_ID = "92e59bd5-ef25-5d02-a11c-a616a34f9bb2"
FIXTURE_EVENT_ID = "bfc75f6a-491e-5bdc-b969-0808b791ec07"

KeyPair = tuple[rsa.RSAPrivateKey, str]


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return generate_signing_key()


@pytest.fixture(scope="module")
def other_keys() -> KeyPair:
    return generate_signing_key()


@pytest.fixture
def claims(fixtures_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (fixtures_dir / "webhook-order-created.jwt-claims.json").read_text(encoding="utf-8")
    )
    return loaded


@pytest.fixture
def order_01(fixtures_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (fixtures_dir / "order-01-delivery.json").read_text(encoding="utf-8")
    )
    return loaded


def _fresh(claims: dict[str, Any], keys: KeyPair) -> bytes:
    return sign_event(claims, keys[0], iat=NOW - 5, exp=NOW + 300)


def test_fixture_claims_resigned_verify_and_unwrap_to_order_01(
    claims: dict[str, Any], keys: KeyPair, order_01: dict[str, Any]
) -> None:
    event = verify_webhook(_fresh(claims, keys), keys[1], now=NOW)
    assert event.event_id == FIXTURE_EVENT_ID
    assert event.event_type == "wix.ecom.v1.order_created"
    assert event.slug == "created"
    assert event.order_id == ORDER_01_ID
    assert event.order == order_01
    assert event.event_time == "2025-06-13T16:47:21.640512Z"
    assert event.instance_id == "bb30d95e-5d92-5f8f-917a-6fae43e5ae9d"


def test_a_loaded_key_and_a_pem_with_escaped_newlines_both_work(
    claims: dict[str, Any], keys: KeyPair
) -> None:
    body = _fresh(claims, keys)
    escaped = keys[1].strip().replace("\n", "\\n")
    assert verify_webhook(body, load_public_key(escaped), now=NOW).order_id == ORDER_01_ID
    assert verify_webhook(body, escaped, now=NOW).order_id == ORDER_01_ID


def test_leeway_tolerates_small_clock_skew(claims: dict[str, Any], keys: KeyPair) -> None:
    body = sign_event(claims, keys[0], iat=NOW + 30, exp=NOW - 30)
    assert verify_webhook(body, keys[1], now=NOW, leeway=60).order_id == ORDER_01_ID
    with pytest.raises(WebhookRejected):
        verify_webhook(body, keys[1], now=NOW, leeway=10)


@pytest.mark.parametrize("slug", ORDER_EVENT_SLUGS)
def test_every_order_event_type_unwraps_to_the_order(
    slug: OrderEventSlug, keys: KeyPair, order_01: dict[str, Any]
) -> None:
    envelope = order_event_envelope(slug, order_01, event_id=f"evt-{slug}")
    event = verify_webhook(sign_event(envelope, keys[0], iat=NOW, exp=NOW + 60), keys[1], now=NOW)
    assert event.event_type == f"wix.ecom.v1.order_{slug}"
    assert event.event_id == f"evt-{slug}"
    assert event.slug == slug
    assert event.order == order_01
    assert event.order_id == ORDER_01_ID


def test_layers_sent_as_objects_are_accepted(keys: KeyPair, order_01: dict[str, Any]) -> None:
    envelope = order_event_envelope("approved", order_01)
    envelope["data"] = json.loads(envelope["data"])
    envelope["identity"] = json.loads(envelope["identity"])
    claims = {"data": envelope}  # not even stringified at the top
    event = verify_webhook(sign_event(claims, keys[0], iat=NOW, exp=NOW + 60), keys[1], now=NOW)
    assert event.order == order_01


def _bad_bodies(claims: dict[str, Any], keys: KeyPair, other: KeyPair) -> dict[str, bytes]:
    bodies = {
        "alg_none": alg_none_token(claims, iat=NOW, exp=NOW + 300),
        "hs256_public_pem": hs256_with_public_pem(claims, keys[1], iat=NOW, exp=NOW + 300),
        "hs256_claiming_rs256": hs256_with_public_pem(
            claims, keys[1], iat=NOW, exp=NOW + 300, header_alg="RS256"
        ),
        "expired": expired_token(claims, keys[0], now=NOW),
        "wrong_key": sign_event(claims, other[0], iat=NOW, exp=NOW + 300),
        "no_exp": _without_exp(claims, keys),
        "future_iat": sign_event(claims, keys[0], iat=NOW + 3600, exp=NOW + 7200),
        "tampered": _tampered(claims, keys),
        "rs512": sign_event(claims, keys[0], iat=NOW, exp=NOW + 300, alg="RS512"),
    }
    bodies.update({f"garbage_{name}": body for name, body in garbage_bodies().items()})
    return bodies


def _without_exp(claims: dict[str, Any], keys: KeyPair) -> bytes:
    token = jwt.encode({"data": claims["data"], "iat": NOW}, keys[0], algorithm="RS256")
    return token.encode()


def _tampered(claims: dict[str, Any], keys: KeyPair) -> bytes:
    header, payload, signature = _fresh(claims, keys).split(b".")
    other = sign_event({"data": "{}"}, keys[0], iat=NOW, exp=NOW + 300).split(b".")[1]
    assert payload != other
    return b".".join([header, other, signature])


def test_every_bad_token_is_rejected_with_401_and_no_token_text(
    claims: dict[str, Any], keys: KeyPair, other_keys: KeyPair
) -> None:
    for name, body in _bad_bodies(claims, keys, other_keys).items():
        with pytest.raises(WebhookRejected) as caught:
            verify_webhook(body, keys[1], now=NOW)
        assert caught.value.status_code == 401, name
        message = str(caught.value)
        assert len(message) < 60, name
        for segment in body.split(b"."):
            if len(segment) > 8:
                assert segment.decode("latin-1") not in message, name
        assert "Grünwald" not in message, name
        assert ORDER_01_ID not in message, name


def test_the_body_is_verified_exactly_as_received(claims: dict[str, Any], keys: KeyPair) -> None:
    body = _fresh(claims, keys)
    with pytest.raises(WebhookRejected):
        verify_webhook(body + b"\n", keys[1], now=NOW)
    with pytest.raises(WebhookRejected):
        verify_webhook(b" " + body, keys[1], now=NOW)


def test_a_body_over_the_limit_is_413(keys: KeyPair) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(b"a" * (MAX_WEBHOOK_BODY + 1), keys[1], now=NOW)
    assert caught.value.status_code == 413


def _signed(claims: dict[str, Any], keys: KeyPair) -> bytes:
    return sign_event(claims, keys[0], iat=NOW, exp=NOW + 300)


def _envelope_claims(**envelope: Any) -> dict[str, Any]:
    return {"data": json.dumps(envelope)}


def _inner(**fields: Any) -> str:
    return json.dumps(
        {"id": "evt-1", "slug": "approved", "entityFqdn": "wix.ecom.v1.order"} | fields
    )


@pytest.mark.parametrize(
    "claims_",
    [
        {"nothing": "here"},
        {"data": "not json"},
        {"data": "[1, 2]"},
        {"data": 42},
        _envelope_claims(eventType="wix.ecom.v1.order_approved"),
        _envelope_claims(eventType="wix.ecom.v1.order_approved", data="{broken"),
        _envelope_claims(eventType="wix.ecom.v1.order_approved", data=json.dumps({"slug": "x"})),
        _envelope_claims(eventType=7, data=_inner()),
        _envelope_claims(data=json.dumps({"id": "evt-1"})),
        _envelope_claims(eventType="x", data=_inner(actionEvent={"body": {"order": [1]}})),
        _envelope_claims(eventType="x", data=_inner(actionEvent={"body": {"order": "{"}})),
        _envelope_claims(
            eventType="x", data=_inner(entityId="a", actionEvent={"body": {"order": {"id": "b"}}})
        ),
        _envelope_claims(eventType="x", data=_inner(actionEvent={"body": {"order": {"id": 5}}})),
    ],
    ids=[
        "no-data",
        "data-not-json",
        "data-array",
        "data-number",
        "no-inner",
        "inner-broken",
        "inner-no-id",
        "event-type-number",
        "no-event-type",
        "order-array",
        "order-broken-string",
        "ids-differ",
        "order-id-number",
    ],
)
def test_signed_but_malformed_is_400(claims_: dict[str, Any], keys: KeyPair) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(_signed(claims_, keys), keys[1], now=NOW)
    assert caught.value.status_code == 400


def test_missing_event_type_is_derived_from_fqdn_and_slug(keys: KeyPair) -> None:
    claims_ = _envelope_claims(data=_inner(entityId="o-1"))
    event = verify_webhook(_signed(claims_, keys), keys[1], now=NOW)
    assert event.event_type == "wix.ecom.v1.order_approved"
    assert event.order is None
    assert event.order_id == "o-1"


def test_an_event_without_an_order_is_passed_on(keys: KeyPair) -> None:
    claims_ = _envelope_claims(eventType="wix.ecom.v1.order_committed", data=_inner(slug=None))
    event = verify_webhook(_signed(claims_, keys), keys[1], now=NOW)
    assert (event.event_id, event.order, event.order_id, event.slug) == ("evt-1", None, None, None)


def test_load_public_key_refuses_what_is_not_a_usable_rsa_key() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for key in (small, ec_key):
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(ValueError, match="webhook public key"):
            load_public_key(pem.decode())
    for text in ("", "not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"):
        with pytest.raises(ValueError, match="webhook public key") as caught:
            load_public_key(text)
        assert "AAAA" not in str(caught.value)


def test_a_bad_configured_key_rejects_rather_than_accepts(
    claims: dict[str, Any], keys: KeyPair
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(_fresh(claims, keys), "not a key", now=NOW)
    assert caught.value.status_code == 401


def test_the_demo_signing_helper_produces_verifiable_bodies(
    keys: KeyPair, order_01: dict[str, Any]
) -> None:
    for event, slug in [("order_approved", "approved"), ("wix.ecom.v1.order_canceled", "canceled")]:
        body = order_webhook_body(order_01, keys[0], event=event, now=NOW)
        verified = verify_webhook(body, keys[1], now=NOW + 10)
        assert (verified.slug, verified.order_id) == (slug, ORDER_01_ID)
    with pytest.raises(ValueError, match="unknown order event"):
        order_webhook_body(order_01, keys[0], event="order_exploded", now=NOW)


def test_replayed_bodies_keep_their_event_id(keys: KeyPair, order_01: dict[str, Any]) -> None:
    """Wix's duplicates carry the same event id: that is what the spool dedupes on."""
    first = sign_webhook_for_shop(order_01, "approved", keys[0], now=NOW, event_id="evt-dup")
    again = sign_webhook_for_shop(order_01, "approved", keys[0], now=NOW + 60, event_id="evt-dup")
    fresh = sign_webhook_for_shop(order_01, "approved", keys[0], now=NOW)
    ids = [verify_webhook(b, keys[1], now=NOW + 60).event_id for b in (first, again, fresh)]
    assert ids[0] == ids[1] == "evt-dup"
    assert ids[2] != "evt-dup"


def test_a_webhook_of_another_app_instance_is_refused_when_instances_are_listed(
    claims: dict[str, Any], keys: KeyPair
) -> None:
    event = verify_webhook(_fresh(claims, keys), keys[1], now=NOW)
    check_instance(event, [])  # not configured: any instance (config check warns)
    check_instance(event, [" BB30D95E-5D92-5F8F-917A-6FAE43E5AE9D "])
    with pytest.raises(WebhookRejected) as refused:
        check_instance(event, ["0e6f1c3a-7d2b-4c1e-9f00-123456789abc"])
    assert refused.value.status_code == 403
