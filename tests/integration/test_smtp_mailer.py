"""The mailer against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS, SSL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import pytest
import trio

from tests.fakes.smtp import FakeSmtpServer, TestCertificate, make_certificate
from tests.unit.alerts.helpers import TZ, local
from wixprint.alerts.mailer import (
    MailRejected,
    SmtpSettings,
    build_message,
    diagnose_smtp,
    send_mail,
    send_message_blocking,
)
from wixprint.errors import SmtpUnavailable

USERS = {"pi": "c0rrect-horse"}
WHEN = local(2025, 3, 14, 23, 10)  # an alert raised late at night, sent later


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    return make_certificate(Path(tmp_path_factory.mktemp("smtp-cert")))


@pytest.fixture
def plain() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def starttls(certificate: TestCertificate) -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(security="starttls", certificate=certificate, users=USERS) as server:
        yield server


@pytest.fixture
def implicit_tls(certificate: TestCertificate) -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer(security="ssl", certificate=certificate, users=USERS) as server:
        yield server


def alert(settings: SmtpSettings) -> EmailMessage:
    return build_message(
        settings,
        "[Gasthaus Beispiel] KRITISCH: Drucker kitchen nicht erreichbar",
        "Der Drucker „kitchen“ antwortet nicht.\nWas tun: Drucker einschalten.\n",
        date=WHEN,
        tz=TZ,
    )


async def send(settings: SmtpSettings) -> dict[str, int]:
    msg = build_message(settings, "[R] KRITISCH: Papier leer", "Papier nachlegen.\n", date=WHEN)
    with trio.fail_after(10):
        return await send_mail(settings, msg, limiter=trio.CapacityLimiter(1))


async def test_plain_delivery_with_subject_body_and_original_date(plain: FakeSmtpServer) -> None:
    settings = plain.settings(recipients=("owner@example.com", "chef@example.com"))
    msg = alert(settings)
    with trio.fail_after(10):
        refused = await send_mail(settings, msg, limiter=trio.CapacityLimiter(1))
    assert refused == {}
    [mail] = plain.messages
    assert mail.mail_from == "pi@example.com"
    assert mail.rcpt_tos == ("owner@example.com", "chef@example.com")
    assert mail.subject == "[Gasthaus Beispiel] KRITISCH: Drucker kitchen nicht erreichbar"
    assert mail.body == "Der Drucker „kitchen“ antwortet nicht.\nWas tun: Drucker einschalten.\n"
    assert mail.message["Date"].datetime.timestamp() == WHEN


async def test_starttls_with_login(starttls: FakeSmtpServer) -> None:
    assert await send(starttls.settings(username="pi", password=USERS["pi"])) == {}
    assert [m.subject for m in starttls.messages] == ["[R] KRITISCH: Papier leer"]


async def test_implicit_tls_with_login(implicit_tls: FakeSmtpServer) -> None:
    assert await send(implicit_tls.settings(username="pi", password=USERS["pi"])) == {}
    assert [m.body for m in implicit_tls.messages] == ["Papier nachlegen.\n"]


async def test_wrong_password_is_a_permanent_auth_error(starttls: FakeSmtpServer) -> None:
    with pytest.raises(MailRejected) as info:
        await send(starttls.settings(username="pi", password="wrong-pw-123"))
    assert info.value.stage == "auth"
    assert info.value.code == 535
    assert "wrong-pw-123" not in str(info.value)
    assert starttls.messages == []


async def test_server_down_is_temporary_and_quick_then_back(plain: FakeSmtpServer) -> None:
    settings = plain.settings()
    plain.stop()
    start = trio.current_time()
    with pytest.raises(SmtpUnavailable, match="refused"):
        await send(settings)
    assert trio.current_time() - start < 2
    plain.start()  # the same port again: SMTP is back
    assert await send(settings) == {}
    assert len(plain.messages) == 1


def plain_settings(port: int, *, timeout: float) -> SmtpSettings:
    """Settings for a server of our own on ``port``: no TLS, no login."""
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="pi@example.com",
        recipients=("owner@example.com",),
        timeout=timeout,
    )


async def test_silent_server_times_out_as_temporary() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        settings = plain_settings(listener.getsockname()[1], timeout=0.2)
        with pytest.raises(SmtpUnavailable, match=r"did not answer within 0\.2 s"):
            await send(settings)


async def test_a_send_stuck_on_a_silent_server_is_abandoned_when_cancelled(
    thread_clock: trio.abc.Clock,
) -> None:
    """A stop must not wait for SMTP's socket timeout (20 s per operation by default): the
    worker thread is left to finish on its own, and the caller returns at once."""
    client_gone = trio.Event()

    async def silent(stream: trio.SocketStream) -> None:  # accepts, never greets
        while await stream.receive_some():
            pass
        client_gone.set()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, silent, 0, host="127.0.0.1"))
        # 5 real seconds per socket operation: what the stop would otherwise wait.
        settings = plain_settings(listeners[0].socket.getsockname()[1], timeout=5.0)
        with trio.move_on_after(1.0) as scope:  # virtual: the stop's grace
            await send(settings)
        assert scope.cancelled_caught
        await trio.sleep(1.0)  # let the server notice a closed connection, if there were one
        # The thread still waits for the greeting: the connection is open, yet we are back.
        assert not client_gone.is_set()
        nursery.cancel_scope.cancel()  # the server goes away; the thread ends on its own


async def test_all_recipients_refused_is_permanent(plain: FakeSmtpServer) -> None:
    plain.refuse_recipient("owner@example.com")
    with pytest.raises(MailRejected) as info:
        await send(plain.settings())
    assert info.value.stage == "recipient"
    assert info.value.code == 550


async def test_one_recipient_refused_still_delivers_to_the_others(plain: FakeSmtpServer) -> None:
    plain.refuse_recipient("gone@example.com")
    refused = await send(plain.settings(recipients=("gone@example.com", "owner@example.com")))
    assert refused == {"gone@example.com": 550}
    assert [m.rcpt_tos for m in plain.messages] == [("owner@example.com",)]


async def test_temporary_recipient_refusal_is_retryable(plain: FakeSmtpServer) -> None:
    plain.refuse_recipient("owner@example.com", "451 4.3.0 Try again later")
    with pytest.raises(SmtpUnavailable, match="451"):
        await send(plain.settings())


def test_blocking_send_to_untrusted_certificate_is_rejected(starttls: FakeSmtpServer) -> None:
    settings = starttls.settings(ssl_context=None)  # the system store does not know our CA
    msg = build_message(settings, "s", "b", date=WHEN)
    with pytest.raises(MailRejected) as info:
        send_message_blocking(settings, msg)
    assert info.value.stage == "tls"


# -- diagnose_smtp (wixprint test-alert) -------------------------------------------------


async def diagnose(settings: SmtpSettings) -> tuple[bool, str, str]:
    with trio.fail_after(10):
        result = await diagnose_smtp(settings)
    return result.ok, result.stage, result.message


async def test_diagnose_ok_sends_a_test_mail(starttls: FakeSmtpServer) -> None:
    ok, stage, message = await diagnose(starttls.settings(username="pi", password=USERS["pi"]))
    assert (ok, stage) == (True, "ok")
    assert "1 recipient" in message
    assert len(starttls.messages) == 1


async def test_diagnose_unresolvable_host_is_dns(plain: FakeSmtpServer) -> None:
    ok, stage, message = await diagnose(plain.settings(host="smtp.wixprint-test.invalid"))
    assert (ok, stage) == (False, "dns")
    assert "smtp.wixprint-test.invalid" in message


async def test_diagnose_closed_port_is_connect(plain: FakeSmtpServer) -> None:
    plain.stop()
    ok, stage, message = await diagnose(plain.settings())
    assert (ok, stage) == (False, "connect")
    assert "refused" in message


async def test_diagnose_tls_to_a_plain_server_is_tls(
    plain: FakeSmtpServer, certificate: TestCertificate
) -> None:
    implicit = plain.settings(security="ssl", ssl_context=certificate.client_context())
    assert (await diagnose(implicit))[:2] == (False, "tls")
    upgrade = plain.settings(security="starttls", ssl_context=certificate.client_context())
    ok, stage, message = await diagnose(upgrade)
    assert (ok, stage) == (False, "tls")
    assert "STARTTLS" in message


async def test_diagnose_untrusted_certificate_is_tls(starttls: FakeSmtpServer) -> None:
    ok, stage, message = await diagnose(starttls.settings(ssl_context=None))
    assert (ok, stage) == (False, "tls")
    assert "not trusted" in message


async def test_diagnose_bad_password_is_auth_and_never_shows_it(
    implicit_tls: FakeSmtpServer,
) -> None:
    ok, stage, message = await diagnose(
        implicit_tls.settings(username="pi", password="hunter2-wrong")
    )
    assert (ok, stage) == (False, "auth")
    assert "'pi'" in message
    assert "hunter2-wrong" not in message


async def test_diagnose_refused_recipient_is_recipient(plain: FakeSmtpServer) -> None:
    plain.refuse_recipient("owner@example.com")
    ok, stage, message = await diagnose(plain.settings())
    assert (ok, stage) == (False, "recipient")
    assert "owner@example.com" in message


async def test_diagnose_partly_refused_recipients_is_recipient(plain: FakeSmtpServer) -> None:
    plain.refuse_recipient("gone@example.com")
    ok, stage, message = await diagnose(
        plain.settings(recipients=("owner@example.com", "gone@example.com"))
    )
    assert (ok, stage) == (False, "recipient")
    assert "gone@example.com (550)" in message
    assert len(plain.messages) == 1


async def test_diagnose_missing_configuration() -> None:
    ok, stage, message = await diagnose(SmtpSettings(host=""))
    assert (ok, stage) == (False, "config")
    assert "smtp.host" in message
