"""The push channels against real HTTP servers on 127.0.0.1 (tests/fakes/push.py): what
ntfy and a webhook bridge receive, and how each failure is sorted (retry later, or the
settings are wrong) and named by ``wixprint test-alert``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import trio
import trio.testing

from tests.fakes.push import FakeNtfy, FakeWebhookReceiver
from tests.integration.test_cli_ops import unused_port
from wixprint.alerts.channels import AlertMessage
from wixprint.alerts.push import NtfyChannel, WebhookChannel
from wixprint.config import AlertWebhookConfig, NtfyConfig
from wixprint.errors import AlertChannelRejected, AlertChannelUnavailable

TZ = ZoneInfo("Europe/Berlin")
RAISED = 1_741_950_120.0  # 14.03.2025 12:02 in Berlin


def message(**changes: object) -> AlertMessage:
    fields: dict[str, object] = {
        "id": "alert-7",
        "key": "cover_open:kitchen",
        "kind": "raise",
        "level": "critical",
        "problem_level": "critical",
        "subject": "[Gasthaus Müller] KRITISCH: Drucker kitchen: Deckel offen",
        "body": "Der Deckel ist offen.\n\nWas tun: Deckel schließen.\n",
        "raised_at": RAISED,
        "since": RAISED - 120,
    }
    fields.update(changes)
    return AlertMessage(**fields)  # type: ignore[arg-type]


async def test_ntfy_gets_title_priority_and_tags_in_json_with_umlauts(
    nursery: trio.Nursery, thread_clock: trio.testing.MockClock
) -> None:
    ntfy = FakeNtfy(token="tk_secret")
    await nursery.start(ntfy.serve)
    channel = NtfyChannel(NtfyConfig(url=ntfy.topic_url("gasthaus-x7"), token="tk_secret"))
    await channel.deliver(message())
    await channel.deliver(message(kind="resolve", level="info", subject="Behoben: Deckel"))
    raised, resolved = ntfy.messages
    assert raised.topic == "gasthaus-x7"
    assert raised.title == "[Gasthaus Müller] KRITISCH: Drucker kitchen: Deckel offen"
    assert raised.message.startswith("Der Deckel ist offen.")
    assert "schließen" in raised.message
    assert (raised.priority, raised.tags) == (5, ("rotating_light",))
    assert (resolved.priority, resolved.tags) == (3, ("white_check_mark",))
    assert channel.describe() == f"http://127.0.0.1:{ntfy.port}"  # the topic is a secret


async def test_a_long_ntfy_message_stays_a_message(
    nursery: trio.Nursery, thread_clock: trio.testing.MockClock
) -> None:
    ntfy = FakeNtfy()
    await nursery.start(ntfy.serve)
    channel = NtfyChannel(NtfyConfig(url=ntfy.topic_url("t")))
    await channel.deliver(message(body="Bestellung 1019 nicht gedruckt. " * 400))
    (got,) = ntfy.messages
    assert not got.attachment  # ntfy makes a file of anything over 4096 bytes
    assert got.message.endswith("…")


@pytest.mark.parametrize(
    ("token", "stage", "error"),
    [("", "auth", "forbidden"), ("tk_wrong", "auth", "unauthorized")],
)
async def test_a_protected_topic_without_the_right_token_is_a_settings_error(
    nursery: trio.Nursery,
    thread_clock: trio.testing.MockClock,
    token: str,
    stage: str,
    error: str,
) -> None:
    ntfy = FakeNtfy(token="tk_secret")
    await nursery.start(ntfy.serve)
    channel = NtfyChannel(NtfyConfig(url=ntfy.topic_url("t"), token=token))
    with pytest.raises(AlertChannelRejected) as caught:
        await channel.deliver(message())
    assert caught.value.stage == stage
    assert error in str(caught.value)
    assert "/t" not in str(caught.value)  # no topic in errors
    assert ntfy.messages == []


async def test_outages_are_temporary_and_named_by_step(
    nursery: trio.Nursery, thread_clock: trio.testing.MockClock
) -> None:
    ntfy = FakeNtfy()
    await nursery.start(ntfy.serve)
    channel = NtfyChannel(NtfyConfig(url=ntfy.topic_url("t")))
    ntfy.status_override = 502
    with pytest.raises(AlertChannelUnavailable) as caught:
        await channel.deliver(message())
    assert (caught.value.stage, "502" in str(caught.value)) == ("send", True)
    ntfy.status_override = None
    ntfy.set_up(False)
    await trio.sleep(1)
    with pytest.raises(AlertChannelUnavailable) as caught:
        await channel.deliver(message())
    assert caught.value.stage == "connect"
    ntfy.set_up(True)
    await trio.sleep(1)
    await channel.deliver(message())
    assert len(ntfy.messages) == 1

    nowhere = NtfyChannel(NtfyConfig(url="http://ntfy.invalid/t", timeout=5.0))
    with pytest.raises(AlertChannelUnavailable) as caught:
        await nowhere.deliver(message())
    assert caught.value.stage == "dns"


async def test_the_webhook_gets_json_with_original_times_and_an_idempotency_key(
    nursery: trio.Nursery, thread_clock: trio.testing.MockClock
) -> None:
    bridge = FakeWebhookReceiver(token="s3cret")
    await nursery.start(bridge.serve)
    config = AlertWebhookConfig(url=bridge.url(), token="s3cret")
    channel = WebhookChannel(config, restaurant="Gasthaus Müller", tz=TZ)
    await channel.deliver(message())
    (call,) = bridge.calls
    assert call.path == "/hooks/wixprint"
    assert call.headers["idempotency-key"] == "alert-7"
    body = call.body
    assert body["raised_at"] == "2025-03-14T12:02:00+01:00"
    assert body["since"] == "2025-03-14T12:00:00+01:00"
    assert body["raised_at_unix"] == RAISED
    assert (body["kind"], body["level"], body["key"]) == ("raise", "critical", "cover_open:kitchen")
    assert body["restaurant"] == "Gasthaus Müller"
    assert body["text"].startswith("[Gasthaus Müller] KRITISCH")

    bad = WebhookChannel(AlertWebhookConfig(url=bridge.url()), restaurant="x", tz=TZ)
    with pytest.raises(AlertChannelRejected) as caught:
        await bad.deliver(message())
    assert (caught.value.stage, caught.value.code) == ("auth", 401)


async def test_check_reports_each_channel_step_without_raising(
    nursery: trio.Nursery, thread_clock: trio.testing.MockClock
) -> None:
    bridge = FakeWebhookReceiver()
    await nursery.start(bridge.serve)
    ok = WebhookChannel(AlertWebhookConfig(url=bridge.url()), restaurant="x", tz=TZ)
    (good,) = await ok.check(message(test=True))
    assert (good.channel, good.ok, good.stage) == ("webhook", True, "ok")
    assert bridge.calls[0].body["kind"] == "test"
    closed = f"http://127.0.0.1:{unused_port()}/hook"
    down = WebhookChannel(AlertWebhookConfig(url=closed), restaurant="x", tz=TZ)
    (bad,) = await down.check(message(test=True))
    assert (bad.ok, bad.stage) == (False, "connect")
