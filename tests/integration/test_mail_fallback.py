"""The mail channel's second route, against real SMTP servers (aiosmtpd) on 127.0.0.1, and
``wixprint test-alert`` naming the failing step for each channel and route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from tests.fakes.push import FakeNtfy, FakeWebhookReceiver
from tests.fakes.smtp import FakeSmtpServer
from tests.integration.test_cli_ops import unused_port, wixprint
from tests.unit.alerts.helpers import TZ, local
from tests.unit.ops.test_failmail import environ, fake_journalctl, run, write_config
from wixprint.alerts.channels import AlertMessage
from wixprint.alerts.mail_channel import MailChannel
from wixprint.alerts.mailer import MailRejected
from wixprint.errors import SmtpUnavailable

USERS = {"pi": "c0rrect-horse"}
RAISED = local(2025, 3, 14, 23, 10)
MESSAGE = AlertMessage(
    id="alert-3",
    key="paper_out:kitchen",
    kind="raise",
    level="critical",
    problem_level="critical",
    subject="[Gasthaus Beispiel] KRITISCH: Drucker kitchen: Papier leer",
    body="Papier nachlegen.\n",
    raised_at=RAISED,
)


@pytest.fixture
def second() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


def channel(first: FakeSmtpServer, second: FakeSmtpServer, **first_changes: object) -> MailChannel:
    routes = [first.settings(**first_changes), second.settings(sender="backup@example.com")]
    return MailChannel(routes, levels=frozenset({"critical"}), tz=TZ)


async def test_first_server_unreachable_the_second_takes_the_mail(
    second: FakeSmtpServer,
) -> None:
    first = FakeSmtpServer()  # never started: connection refused
    await channel(first, second).deliver(MESSAGE)
    (mail,) = second.messages
    assert mail.subject == MESSAGE.subject
    assert mail.mail_from == "backup@example.com"
    assert "alert-3" in str(mail.message["Message-ID"])  # the same on every route and retry


async def test_a_wrong_login_on_the_first_server_goes_the_second_way(
    second: FakeSmtpServer,
) -> None:
    with FakeSmtpServer(users=USERS) as first:
        mail = channel(first, second, username="pi", password="wrong")
        await mail.deliver(MESSAGE)
        assert first.messages == []
        assert len(second.messages) == 1


async def test_a_refusal_after_login_is_not_tried_elsewhere(second: FakeSmtpServer) -> None:
    with FakeSmtpServer() as first:
        first.refuse_recipient("owner@example.com")
        with pytest.raises(MailRejected) as caught:
            await channel(first, second).deliver(MESSAGE)
        assert caught.value.stage == "recipient"
        assert second.messages == []  # the second server would refuse the same address


async def test_both_ways_down_is_temporary_and_names_both() -> None:
    first, second = FakeSmtpServer(), FakeSmtpServer()
    with pytest.raises(SmtpUnavailable) as caught:
        await channel(first, second).deliver(MESSAGE)
    text = str(caught.value)
    assert text.count("connection to 127.0.0.1:") == 2
    assert str(first.port) in text
    assert str(second.port) in text


async def test_test_alert_names_the_failing_step_of_every_channel_and_route(
    tmp_path: Path,
    second: FakeSmtpServer,
    nursery: trio.Nursery,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ntfy, bridge = FakeNtfy(token="tk_right"), FakeWebhookReceiver()
    await nursery.start(ntfy.serve)
    await nursery.start(bridge.serve)
    closed = unused_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[service]
state_dir = "{tmp_path / "state"}"
restaurant_name = "Gasthaus Test"

[smtp]
host = "127.0.0.1"
port = {second.port}
security = "none"
sender = "pi@example.com"
recipients = ["owner@example.com"]
timeout = 5.0

[smtp.fallback]
host = "127.0.0.1"
port = {closed}
security = "none"

[alerts.ntfy]
url = "{ntfy.topic_url("gasthaus")}"
token = "tk_wrong"

[alerts.webhook]
url = "{bridge.url()}"
"""
    )
    code, out, err = await wixprint(capsys, "test-alert", "--config", str(config))
    assert code == 1
    lines = {line[:16].strip(): line for line in out.splitlines()}
    assert "ok: test mail accepted" in lines["mail"]
    assert "FAILED at connect" in lines["mail (fallback)"]
    assert f"127.0.0.1:{closed}" in lines["mail (fallback)"]
    assert "FAILED at auth" in lines["ntfy"]
    assert "unauthorized" in lines["ntfy"]
    assert "ok: test message accepted" in lines["webhook"]
    assert "tk_wrong" not in out + err
    assert "gasthaus" not in out + err.replace("Gasthaus", "")  # the topic stays secret
    assert second.messages[0].subject == "[Gasthaus Test] Testnachricht"
    assert bridge.calls[0].body["kind"] == "test"


async def test_test_alert_without_any_channel_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nstate_dir = "{tmp_path}"\n')
    code, _out, err = await wixprint(capsys, "test-alert", "--config", str(config))
    assert code == 1
    assert "no alert channel configured" in err


def test_the_failure_mail_takes_the_second_way_too(tmp_path: Path, second: FakeSmtpServer) -> None:
    """systemd's failure mail (the service itself is down) uses the same routes."""
    first = FakeSmtpServer()  # never started
    bin_dir = tmp_path / "bin"
    fake_journalctl(bin_dir, script='printf "RestartIntensityExceeded: root\\n"')
    fallback = f'\n[smtp.fallback]\nhost = "127.0.0.1"\nport = {second.port}\nsecurity = "none"\n'
    config = write_config(tmp_path, first, extra=fallback)
    code, output = run(environ(tmp_path, config, PATH=str(bin_dir)))
    assert code == 0, output
    assert f"first route failed: 127.0.0.1: connect: connection to 127.0.0.1:{first.port}" in output
    assert "via 127.0.0.1" in output
    (mail,) = second.messages
    assert mail.subject == "[Pizzeria Roma] wix-printer-service has failed"
    assert "RestartIntensityExceeded" in mail.body
