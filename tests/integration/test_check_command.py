"""``wixprint check`` as the health-check timer and an upgrade use it: 0 ok, 1 degraded, and
2 for down *and for every failure of the check itself* (a crash must never read as
"degraded"); the configured bind is reached on IPv6 too; ``--expect-version`` and
``--expect-pid`` prove which process answered.

A tiny real HTTP server in a thread plays the service's ``/health``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from wixprint.cli import main
from wixprint.version import package_version


class _Server6(HTTPServer):
    address_family = socket.AF_INET6


@contextmanager
def health_server(body: object, *, ipv6: bool = False) -> Iterator[int]:
    payload = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = (_Server6 if ipv6 else HTTPServer)(("::1" if ipv6 else "127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def config(tmp_path: Path, host: str, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[http]\nhost = "{host}"\nport = {port}\n')
    path.chmod(0o600)
    return path


def check(*argv: str) -> int:
    return main(["check", *argv])


OK = {"status": "ok", "checks": {}, "version": package_version(), "pid": 4242}


@pytest.mark.parametrize("host", ["::1", "::", "[::1]"])
def test_ipv6_host_is_bracketed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    with health_server(OK, ipv6=True) as port:
        assert check("--config", str(config(tmp_path, host, port))) == 0
    assert "status: ok" in capsys.readouterr().out


def test_a_failure_of_the_check_itself_is_down_not_degraded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with health_server(["not", "an", "object"]) as port:
        assert check("--url", f"http://127.0.0.1:{port}") == 2
    assert "the check failed" in capsys.readouterr().out


def test_an_unusable_config_is_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[http]\nport = 'eighty'\n")
    assert check("--config", str(path)) == 2
    assert "http.port" in capsys.readouterr().out


def test_json_output_of_a_failed_check_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with health_server("ok") as port:
        assert check("--json", "--url", f"http://127.0.0.1:{port}") == 2
    assert json.loads(capsys.readouterr().out)["status"] == "down"


def test_expected_version_and_process(capsys: pytest.CaptureFixture[str]) -> None:
    with health_server(OK) as port:
        url = f"http://127.0.0.1:{port}"
        assert check("--url", url, "--expect-version", package_version()) == 0
        assert check("--url", url, "--expect-version", "0.0.1") == 2
        assert "answered version" in capsys.readouterr().out
        assert check("--url", url, "--expect-pid", "4242") == 0
        assert check("--url", url, "--expect-pid", "4243") == 2
        assert "not the service's 4243" in capsys.readouterr().out
    degraded = {**OK, "status": "degraded"}
    with health_server(degraded) as port:
        assert check("--url", f"http://127.0.0.1:{port}", "--expect-pid", "4242") == 1
