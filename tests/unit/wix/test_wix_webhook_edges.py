"""Webhook verification at its exact edges, and the reason each refusal gives.

The reason is what the operator reads in the ``webhook_rejected`` log line: "token expired"
points at the Pi's clock, "bad signature" at the configured key, "webhook has no event id"
at Wix. Limits are written out as numbers here, not imported, so that a changed limit shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.webhooks import KeyPair, b64url, generate_signing_key, sign_compact
from wixprint.errors import WebhookRejected
from wixprint.wix.webhook import check_instance, json_depth, verify_webhook

NOW = 1_750_000_000
LEEWAY = 60
"""``verify_webhook``'s default clock skew allowance, seconds."""
HEADER = {"alg": "RS256", "typ": "JWT", "kid": "k1"}
ORDER = {"id": "order-1", "number": "10001"}
OTHER = {"id": "order-2", "number": "10002"}


def _token(claims: dict[str, Any], key: rsa.RSAPrivateKey, header: object = None) -> bytes:
    return sign_compact(
        json.dumps(HEADER if header is None else header).encode(), _dump(claims), key
    )


def _dump(value: object) -> bytes:
    return json.dumps(value).encode()


def _claims(inner: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    """Wix's layers: claims.data holds the envelope as JSON text, envelope.data the event."""
    outer = {"eventType": "wix.ecom.v1.order_created", "instanceId": "i-1", **envelope}
    outer["data"] = json.dumps(inner)
    return {"data": json.dumps(outer), "iat": NOW, "exp": NOW + 300}


def _event(**fields: Any) -> dict[str, Any]:
    return {"id": "event-1", "entityFqdn": "wix.ecom.v1.order", "slug": "created", **fields}


def _refusal(body: bytes, public: str | rsa.RSAPublicKey, **options: Any) -> tuple[int, str]:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(body, public, now=NOW, **options)
    return caught.value.status_code, str(caught.value)


def test_the_body_limit_is_one_mebibyte_exactly(keys: KeyPair) -> None:
    assert _refusal(b"x" * 1024 * 1024, keys[1]) == (401, "not a token")
    assert _refusal(b"x" * (1024 * 1024 + 1), keys[1]) == (413, "webhook body too large")


def test_a_header_segment_of_2048_characters_is_read_and_a_longer_one_refused(
    keys: KeyPair,
) -> None:
    claims = _claims(_event(createdEvent={"entity": ORDER}))
    base = len(json.dumps({**HEADER, "kid": ""}))
    longest = {**HEADER, "kid": "k" * (1536 - base)}  # 1536 bytes: 2048 base64 characters
    assert len(b64url(json.dumps(longest).encode())) == 2048
    assert verify_webhook(_token(claims, keys[0], longest), keys[1], now=NOW).order == ORDER
    # 2049 to 2051 characters cannot be base64url of anything whole: the next length is 2052.
    longer = {**HEADER, "kid": "k" * (1539 - base)}
    assert len(b64url(json.dumps(longer).encode())) == 2052
    assert _refusal(_token(claims, keys[0], longer), keys[1]) == (401, "not a token")


def _nested(depth: int) -> dict[str, Any]:
    """The JOSE header with an extra member nesting it ``depth`` levels deep in all."""
    value: object = []
    for _ in range(depth - 2):
        value = [value]
    return {**HEADER, "x5c": value}


def test_a_header_nested_16_deep_is_read_and_17_deep_refused(keys: KeyPair) -> None:
    claims = _claims(_event(createdEvent={"entity": ORDER}))
    assert json_depth(json.dumps(_nested(16)).encode()) == 16
    assert verify_webhook(_token(claims, keys[0], _nested(16)), keys[1], now=NOW).order == ORDER
    assert _refusal(_token(claims, keys[0], _nested(17)), keys[1]) == (401, "not a token")


@pytest.mark.parametrize(
    ("text", "depth"),
    [(b"[[],[]]", 2), (b"[[],[[]]]", 3), (b"[[[],[[]]]]", 4), (b'{"a":[],"b":{"c":[]}}', 3)],
)
def test_json_depth_counts_siblings_after_a_closed_bracket(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def test_the_expiry_and_issue_time_are_exact_at_the_default_leeway(keys: KeyPair) -> None:
    claims = _claims(_event(createdEvent={"entity": ORDER}))
    expired = {**claims, "exp": NOW - LEEWAY}
    assert _refusal(_token(expired, keys[0]), keys[1]) == (401, "token expired")
    assert verify_webhook(_token({**expired, "exp": NOW - LEEWAY + 1}, keys[0]), keys[1], now=NOW)
    issued = {**claims, "iat": NOW + LEEWAY}
    assert verify_webhook(_token(issued, keys[0]), keys[1], now=NOW).order == ORDER
    later = {**claims, "iat": NOW + LEEWAY + 1}
    assert _refusal(_token(later, keys[0]), keys[1]) == (401, "token not yet valid")


def test_not_before_is_checked_with_or_without_an_issue_time(keys: KeyPair) -> None:
    claims = _claims(_event(createdEvent={"entity": ORDER}))
    early = {**claims, "nbf": NOW + LEEWAY + 1}
    assert _refusal(_token(early, keys[0]), keys[1]) == (401, "token not yet valid")
    del early["iat"]
    assert _refusal(_token(early, keys[0]), keys[1]) == (401, "token not yet valid")
    unreadable = {**claims, "nbf": "soon"}
    assert _refusal(_token(unreadable, keys[0]), keys[1]) == (401, "token nbf unreadable")


def _with_signature(body: bytes, change: Callable[[bytes], bytes]) -> bytes:
    header, payload, signature = body.split(b".")
    return b".".join((header, payload, change(signature)))


def test_padding_is_strict_and_a_four_character_segment_is_whole(keys: KeyPair) -> None:
    claims = _claims(_event(createdEvent={"entity": ORDER}))
    body = _token(claims, keys[0])
    assert len(body.split(b".")[2]) % 4 == 2  # a 256-byte signature: "==" would complete it
    one_short = _with_signature(body, lambda s: s + b"=")
    assert _refusal(one_short, keys[1]) == (401, "bad signature")
    assert verify_webhook(_with_signature(body, lambda s: s + b"=="), keys[1], now=NOW)
    # "{ }" is three bytes, four characters: read, and found to lack an expiry.
    small = sign_compact(json.dumps(HEADER).encode(), b"{ }", keys[0])
    assert len(small.split(b".")[1]) == 4
    assert _refusal(small, keys[1]) == (401, "token has no readable expiry")


def _reasons(keys: KeyPair) -> list[tuple[str, bytes, tuple[int, str]]]:
    key = keys[0]
    good = _claims(_event(createdEvent={"entity": ORDER}))
    header = json.dumps(HEADER).encode()
    return [
        ("not ascii", "é.a.b".encode(), (401, "not a token")),
        ("two segments", b"a.b", (401, "not a token")),
        (
            "header not base64url",
            b"a*b." + _token(good, key).split(b".", 1)[1],
            (401, "not a token"),
        ),
        ("header a list", _token(good, key, ["RS256"]), (401, "not a token")),
        ("kid a number", _token(good, key, {**HEADER, "kid": 7}), (401, "not a token")),
        ("HS256", _token(good, key, {**HEADER, "alg": "HS256"}), (401, "algorithm not allowed")),
        ("crit", _token(good, key, {**HEADER, "crit": ["exp"]}), (401, "invalid token")),
        ("wrong key", _token(good, generate_signing_key()[0]), (401, "bad signature")),
        ("payload not JSON", sign_compact(header, b"{nope", key), (401, "invalid token")),
        ("payload a list", sign_compact(header, b"[1]", key), (401, "invalid token")),
        ("no expiry", _token({**good, "exp": None}, key), (401, "token has no readable expiry")),
        ("iat text", _token({**good, "iat": "now"}, key), (401, "token iat unreadable")),
        ("data not JSON", _token({**good, "data": "{"}, key), (400, "webhook data is not JSON")),
        ("data a list", _token({**good, "data": [1]}, key), (400, "webhook data is not an object")),
        (
            "envelope data not JSON",
            _token({**good, "data": json.dumps({"eventType": "x", "data": "{"})}, key),
            (400, "webhook envelope data is not JSON"),
        ),
        (
            "no event type, no slug",
            _token(_claims(_event(slug=None), eventType=None), key),
            (400, "webhook has no event type"),
        ),
        ("no event id", _token(_claims(_event(id=None)), key), (400, "webhook has no event id")),
        (
            "slug not text",
            _token(_claims(_event(slug=5)), key),
            (400, "webhook slug is not a string"),
        ),
        (
            "order id a number",
            _token(_claims(_event(entityId=None, createdEvent={"entity": {"id": 5}})), key),
            (400, "webhook order id is not a string"),
        ),
        (
            "ids differ",
            _token(_claims(_event(entityId="order-9", createdEvent={"entity": ORDER})), key),
            (400, "webhook entity id and order id differ"),
        ),
        (
            "entity a number",
            _token(_claims(_event(createdEvent={"entity": 5})), key),
            (400, "webhook entity is not an object"),
        ),
        (
            "action order a number",
            _token(_claims(_event(slug="approved", actionEvent={"body": {"order": 5}})), key),
            (400, "webhook order is not an object"),
        ),
    ]


def test_each_refusal_names_its_reason(keys: KeyPair) -> None:
    for name, body, expected in _reasons(keys):
        assert _refusal(body, keys[1]) == expected, name


def test_a_key_that_cannot_be_used_refuses_with_its_reason(keys: KeyPair) -> None:
    body = _token(_claims(_event(createdEvent={"entity": ORDER})), keys[0])
    assert _refusal(body, "not a key") == (401, "webhook key not usable")


def test_the_event_type_needs_both_entity_and_slug_when_not_given(keys: KeyPair) -> None:
    inner = _event(slug=None, createdEvent={"entity": ORDER})
    body = _token(_claims(inner, eventType=None), keys[0])
    assert _refusal(body, keys[1]) == (400, "webhook has no event type")
    named = _token(_claims({**inner, "slug": "created"}, eventType=None), keys[0])
    assert verify_webhook(named, keys[1], now=NOW).event_type == "wix.ecom.v1.order_created"


def _places(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Where each event type keeps its order (the Wix reference, §8.1)."""
    return {
        "created": {"createdEvent": {"entity": order}},
        "updated": {"updatedEvent": {"currentEntity": order}},
        "approved": {"actionEvent": {"body": {"order": order}}},
    }


@pytest.mark.parametrize("given_slug", [True, False])
@pytest.mark.parametrize("own", ["created", "updated", "approved"])
def test_the_order_is_taken_where_the_event_type_keeps_it(
    keys: KeyPair, own: str, given_slug: bool
) -> None:
    """An event carrying orders at several places: its own type's place wins, whether the
    type comes as a slug or only as the end of ``eventType``."""
    fields: dict[str, Any] = {}
    for place in _places(OTHER).values():
        fields.update(place)
    fields.update(_places(ORDER)[own])
    inner = _event(slug=own if given_slug else None, entityId=None, **fields)
    claims = _claims(inner, eventType=f"wix.ecom.v1.order_{own}")
    assert verify_webhook(_token(claims, keys[0]), keys[1], now=NOW).order == ORDER


@pytest.mark.parametrize("slug", ["created", "updated", "approved"])
def test_an_order_in_another_types_place_is_still_found(keys: KeyPair, slug: str) -> None:
    for place in _places(ORDER).values():
        claims = _claims(_event(slug=slug, **place), eventType=f"wix.ecom.v1.order_{slug}")
        assert verify_webhook(_token(claims, keys[0]), keys[1], now=NOW).order == ORDER, place


def test_a_layer_sent_as_text_on_the_way_to_the_order_is_read(keys: KeyPair) -> None:
    inner = _event(createdEvent=json.dumps({"entity": ORDER}))
    assert verify_webhook(_token(_claims(inner), keys[0]), keys[1], now=NOW).order == ORDER


def test_without_an_entity_id_the_order_names_itself(keys: KeyPair) -> None:
    inner = _event(entityId=None, createdEvent={"entity": ORDER})
    event = verify_webhook(_token(_claims(inner), keys[0]), keys[1], now=NOW)
    assert event.order_id == "order-1"


def test_another_instance_is_refused_with_its_reason(keys: KeyPair) -> None:
    event = verify_webhook(
        _token(_claims(_event(createdEvent={"entity": ORDER})), keys[0]), keys[1], now=NOW
    )
    with pytest.raises(WebhookRejected) as caught:
        check_instance(event, ["bb30d95e-5d92-5f8f-917a-6fae43e5ae9d"])
    assert (caught.value.status_code, str(caught.value)) == (403, "webhook of another app instance")


def test_an_event_type_without_an_underscore_still_finds_the_order(keys: KeyPair) -> None:
    inner = _event(slug=None, actionEvent={"body": {"order": ORDER}})
    claims = _claims(inner, eventType="wix.ecom.v1.order")
    event = verify_webhook(_token(claims, keys[0]), keys[1], now=NOW)
    assert (event.event_type, event.order) == ("wix.ecom.v1.order", ORDER)
