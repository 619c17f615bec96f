"""A real SMTP server on 127.0.0.1 for tests: aiosmtpd in its own thread.

Modes: plain (``none``), STARTTLS and implicit TLS (``ssl``), with a self-signed test CA made
at test time; optional AUTH with test users; recipients can be refused. The server can be
stopped and started again on the same port to play "SMTP down / back".

    cert = make_certificate(tmp_path)
    with FakeSmtpServer(security="starttls", certificate=cert, users={"pi": "secret"}) as srv:
        settings = srv.settings(username="pi", password="secret")
        ...
        assert srv.messages[0].subject == "..."
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wixprint.alerts.mailer import SmtpSettings

Security = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class TestCertificate:
    """A test CA and a server certificate for localhost / 127.0.0.1 signed by it."""

    __test__ = False  # not a pytest test class

    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA (hostname checks stay on)."""
        return ssl.create_default_context(cafile=str(self.ca_path))


def make_certificate(directory: Path) -> TestCertificate:
    """Write a fresh test CA and a localhost server certificate into ``directory``."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wixprint test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_path = directory / "test-ca.pem"
    cert_path = directory / "server.pem"
    key_path = directory / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TestCertificate(ca_path, cert_path, key_path)


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The plain-text body with wire line ends (CRLF) turned into ``\\n``."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        content = part.get_content()
        assert isinstance(content, str)
        return content.replace("\r\n", "\n")  # as a mail client shows it


class _Handler:
    """aiosmtpd handler: records accepted mail, refuses the listed recipients."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[ReceivedMail] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self.lock:
            reply = self.refuse.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        mail = ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), parsed)
        with self.lock:
            self.messages.append(mail)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeSmtpServer:
    """aiosmtpd on 127.0.0.1 with a fixed port that survives stop()/start()."""

    def __init__(
        self,
        *,
        security: Security = "none",
        certificate: TestCertificate | None = None,
        users: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        if security != "none" and certificate is None:
            raise ValueError(f"security={security!r} needs a certificate")
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self.security: Security = security
        self.certificate = certificate
        self.users = dict(users or {})
        self._handler = _Handler()
        self._controller: Controller | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {}
        if self.users:
            kwargs["authenticator"] = self._authenticate
            # Implicit TLS is not seen as TLS by auth_require_tls, so only STARTTLS needs it.
            kwargs["auth_require_tls"] = self.security == "starttls"
        if self.security == "starttls":
            assert self.certificate is not None
            kwargs["tls_context"] = self.certificate.server_context()
            kwargs["require_starttls"] = True
        elif self.security == "ssl":
            assert self.certificate is not None
            kwargs["ssl_context"] = self.certificate.server_context()
        controller = Controller(
            self._handler, hostname=self.host, port=self.port, ready_timeout=5.0, **kwargs
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the listener: clients now get "connection refused" on this port."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSmtpServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- behaviour and results ----------------------------------------------------------

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        with self._handler.lock:
            self._handler.refuse[address] = reply

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._handler.lock:
            return list(self._handler.messages)

    def settings(self, **overrides: Any) -> SmtpSettings:
        """Client settings for this server (trusting the test CA), with overrides."""
        settings = SmtpSettings(
            host=self.host,
            port=self.port,
            security=self.security,
            sender="pi@example.com",
            recipients=("owner@example.com",),
            timeout=5.0,
            ssl_context=self.certificate.client_context() if self.certificate else None,
            local_hostname="wixprint-test",
        )
        return replace(settings, **overrides)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if self.users.get(user) == password:
                return AuthResult(success=True)
        # handled=False makes aiosmtpd answer 535; the default would leave the client hanging.
        return AuthResult(success=False, handled=False)
