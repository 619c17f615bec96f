"""``install.sh --upgrade`` as a transaction: once the service is stopped, a failure or a
signal at any step restores the previous release, units and database, starts it and says
so; a dropped SSH session changes nothing; free space is checked before anything changes;
prune touches only the upgrade's own timestamped backups; the check proves the new version
over a soak (consecutive passes, NRestarts unchanged, degraded only if it was before).

Same scratch-root installs as test_install (``--reuse-site``, a systemctl stub).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.installer import (
    SERVICE_UNIT,
    Installer,
    backups,
    make_spool,
    marker,
    migration,
    ok,
    snapshot,
)
from tests.integration.test_check_command import health_server
from wixprint.version import package_version

STEPS = [
    "stop",
    "record",
    "save-units",
    "backup-spool",
    "chown-state",
    "install-units",
    "switch",
    "restart",
    "verify",
]


def assert_rolled_back(
    installer: Installer, done: subprocess.CompletedProcess[str], v1: Path, previous: str
) -> None:
    assert done.returncode == 1, done.stdout
    assert f"ROLLED BACK: {Path(previous).name} is installed and running again" in done.stdout
    assert installer.release == previous
    assert (installer.venv / "V1-MARKER").exists()
    assert marker(installer.db) == "v1 data"
    assert (
        installer.path(SERVICE_UNIT).read_text()
        == (v1 / "ops/systemd/wix-printer-service.service").read_text()
    )
    assert not installer.path("etc/systemd/system/wix-printer-extra.timer").exists()
    assert installer.calls()[-1] == "start wix-printer-service.service"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["fail", "signal"])
@pytest.mark.parametrize("step", STEPS)
def test_any_failure_after_the_stop_restores_and_restarts_the_previous_release(
    installer: Installer, installed_v1: str, v1: Path, v2: Path, tmp_path: Path, step: str, how: str
) -> None:
    inject = {"INSTALL_FAIL_AT" if how == "fail" else "INSTALL_SIGNAL_AT": step}
    done = installer.run(
        v2,
        "--upgrade",
        CHECK_CMD="exit 0",
        STUB_ON_RESTART=migration(tmp_path, installer.db),
        **inject,
    )
    assert_rolled_back(installer, done, v1, installed_v1)
    reason = "interrupted by SIGTERM" if how == "signal" else "command failed"
    assert f"UPGRADE FAILED at step {step}: {reason}" in done.stdout


@pytest.mark.slow
def test_a_failing_daemon_reload_rolls_back(
    installer: Installer, installed_v1: str, v1: Path, v2: Path
) -> None:
    done = installer.run(v2, "--upgrade", CHECK_CMD="exit 0", STUB_FAIL_ONCE="daemon-reload")
    assert_rolled_back(installer, done, v1, installed_v1)
    assert "UPGRADE FAILED at step install-units: command failed" in done.stdout


@pytest.mark.slow
def test_a_unit_that_cannot_be_written_is_a_failure_not_unchanged(
    installer: Installer, installed_v1: str, v1: Path, v2: Path, tmp_path: Path
) -> None:
    """``install`` fails for the new unit (as on a full disk): rolled back, not skipped."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "install").write_text(
        "#!/usr/bin/env bash\n"
        '[[ "$*" == *wix-printer-extra* ]] && exit 1\n'
        'exec /usr/bin/install "$@"\n'
    )
    (bin_dir / "install").chmod(0o755)
    path = f"{bin_dir}:{os.environ.get('PATH', os.defpath)}"
    done = installer.run(v2, "--upgrade", CHECK_CMD="exit 0", PATH=path)
    assert_rolled_back(installer, done, v1, installed_v1)
    assert "UPGRADE FAILED at step install-units" in done.stdout


# -- the check proves the new version --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("before", "after", "upgraded"),
    [(0, 1, False), (1, 1, True), (0, 0, True), (2, 1, True)],
    ids=["ok-then-degraded", "degraded-before", "ok", "down-before"],
)
def test_degraded_passes_only_if_it_was_degraded_before(
    installer: Installer, installed_v1: str, v2: Path, before: int, after: int, upgraded: bool
) -> None:
    cmd = f"[[ $CHECK_PHASE == before ]] && exit {before}; exit {after}"
    done = installer.run(v2, "--upgrade", CHECK_CMD=cmd, CHECK_TRIES="2")
    assert (installer.release != installed_v1) is upgraded, done.stdout


@pytest.mark.slow
def test_a_crash_during_the_soak_rolls_back(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path
) -> None:
    """Passes twice, then down: the first answers right after READY prove nothing."""
    count = tmp_path / "count"
    cmd = (
        f"[[ $CHECK_PHASE == before ]] && exit 0; echo x >> {count}; (( $(wc -l < {count}) <= 2 ))"
    )
    done = installer.run(v2, "--upgrade", CHECK_CMD=cmd, CHECK_PASSES="5")
    assert done.returncode == 1
    assert "check failed (exit 1) after 2 passes" in done.stdout
    assert installer.release == installed_v1


@pytest.mark.slow
def test_a_restart_by_systemd_during_the_soak_rolls_back(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path
) -> None:
    restarts = tmp_path / "nrestarts"
    restarts.write_text("0\n")
    cmd = f"[[ $CHECK_PHASE == before ]] || echo 1 > {restarts}; exit 0"
    done = installer.run(v2, "--upgrade", CHECK_CMD=cmd, STUB_NRESTARTS=str(restarts))
    assert done.returncode == 1
    assert "restarted during the check (NRestarts 0 -> 1)" in done.stdout
    assert installer.release == installed_v1


@pytest.mark.slow
def test_the_soak_lasts_its_seconds_with_consecutive_passes(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path
) -> None:
    count = tmp_path / "count"
    cmd = f"[[ $CHECK_PHASE == before ]] || date +%s.%N >> {count}; exit 0"
    done = installer.run(
        v2, "--upgrade", CHECK_CMD=cmd, CHECK_SOAK="2", CHECK_WAIT="0.5", CHECK_PASSES="2"
    )
    ok(done)
    passes = [float(line) for line in count.read_text().splitlines()]
    # Not done after the first 2 passes: it kept checking for the soak's 2 s (bash counts
    # whole seconds, so at least 1 s of real time; a loaded machine only makes it longer).
    assert len(passes) > 2
    assert passes[-1] - passes[0] >= 1.0
    assert "check passed" in done.stdout


@pytest.mark.slow
def test_the_default_check_compares_the_answering_version(
    installer: Installer, installed_v1: str, v2: Path
) -> None:
    """Something else on the port (a demo, an old process) answering ok is not the upgrade."""
    config = installer.path("etc/wixprint/config.toml")
    old = {"status": "ok", "checks": {}, "version": "0.0.1-old", "pid": 1}
    with health_server(old) as port:
        config.write_text(config.read_text().replace("port = 8000", f"port = {port}"))
        done = installer.run(v2, "--upgrade", CHECK_TRIES="2")
    assert done.returncode == 1, done.stdout
    assert installer.release == installed_v1
    right = {**old, "version": package_version()}
    with health_server(right) as port:
        config.write_text(config.read_text().replace("port = ", f"port = {port}  # ", 1))
        ok(installer.run(v2, "--upgrade"))
    assert installer.release != installed_v1


# -- prune, space, sessions, credentials ---------------------------------------------------


@pytest.mark.slow
def test_prune_keeps_manual_backups_and_the_one_just_taken(
    installer: Installer, installed_v1: str, v2: Path
) -> None:
    root = installer.path("var/backups/wixprint")
    root.mkdir(parents=True, exist_ok=True)
    for name in ("manual-before-menu-change", "20200101T000000Z", "20200102T000000Z"):
        (root / name).mkdir()
    done = installer.run(v2, "--upgrade", CHECK_CMD="exit 0", KEEP_BACKUPS="0")
    ok(done)
    left = {p.name for p in backups(installer)}
    assert "manual-before-menu-change" in left
    [taken] = [n for n in left if n.startswith("20") and not n.startswith("2020")]
    assert "upgraded to 9.0.1.0-" in done.stdout
    assert taken in done.stdout
    assert "20200101T000000Z" not in left
    assert "20200102T000000Z" not in left
    assert "removed old backup" in done.stdout
    removed = [line for line in done.stdout.splitlines() if "removed old backup" in line]
    assert not any("manual-before-menu-change" in line for line in removed)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MB filesystem (tmpfs): the test runs as root, as the installer does."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.mark.slow
def test_free_space_is_checked_before_anything_changes(
    tmp_path: Path, stub: Path, v1: Path, v2: Path, small_fs: Path
) -> None:
    installer = Installer(small_fs, stub)
    ok(installer.run(v1, MIN_FREE_MB="1"))
    make_spool(installer.db, "v1 data")
    filler = small_fs / "filler"
    free = os.statvfs(small_fs).f_bavail * os.statvfs(small_fs).f_frsize
    filler.write_bytes(b"\0" * (free - 512 * 1024))  # leave half a megabyte
    before = snapshot(installer.prefix)
    calls = installer.calls()

    done = installer.run(v2, "--upgrade", CHECK_CMD="exit 0", MIN_FREE_MB="1")

    assert done.returncode == 1
    assert "not enough free space for the upgrade" in done.stdout + done.stderr
    assert "nothing was changed" in done.stdout + done.stderr
    assert installer.calls() == calls  # never stopped
    after = snapshot(installer.prefix)
    assert {k: v for k, v in after.items() if "backups" not in k} == {
        k: v for k, v in before.items() if "backups" not in k
    }


@pytest.mark.slow
def test_a_dropped_ssh_session_does_not_stop_the_upgrade(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path
) -> None:
    """SIGHUP to the terminal's process group (the session ends): the detached upgrade goes
    on and finishes; its log says what happened."""
    gate = tmp_path / "gate"
    cmd = f"[[ $CHECK_PHASE == before ]] || while [[ ! -e {gate} ]]; do sleep 0.1; done"
    proc = installer.popen(v2, "--upgrade", CHECK_CMD=cmd)
    log_line = wait_line(proc, "log: ")
    os.killpg(proc.pid, signal.SIGHUP)
    proc.wait(timeout=30)
    assert proc.stdout is not None
    proc.stdout.close()
    gate.touch()
    logfile = Path(log_line.split("log: ", 1)[1].strip())
    deadline = time.monotonic() + 60
    while "upgraded to" not in logfile.read_text():
        assert time.monotonic() < deadline, logfile.read_text()
        time.sleep(0.1)
    assert installer.release != installed_v1
    assert oct(logfile.stat().st_mode & 0o777) == "0o600"


@pytest.mark.slow
def test_ctrl_c_during_the_upgrade_rolls_back(
    installer: Installer, installed_v1: str, v1: Path, v2: Path, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    cmd = f"[[ $CHECK_PHASE == before ]] || {{ touch {started}; sleep 30; }}"
    proc = installer.popen(
        v2, "--upgrade", CHECK_CMD=cmd, STUB_ON_RESTART=migration(tmp_path, installer.db)
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    assert_rolled_back(installer, done, v1, installed_v1)
    assert "interrupted: the upgrade stops and rolls back" in out
    assert "interrupted by SIGTERM" in out


def wait_line(proc: subprocess.Popen[str], text: str) -> str:
    assert proc.stdout is not None
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if text in line:
                found.append(line)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert found, f"no line with {text!r}"
    return found[0]


@pytest.mark.slow
def test_an_upgrade_uses_the_credential_store(
    installer: Installer, installed_v1: str, v2: Path
) -> None:
    """The README's secret setup: SMTP password only in the credential store."""
    config = installer.path("etc/wixprint/config.toml")
    text = config.read_text()
    for key, value in (
        ("host", '"127.0.0.1"'),
        ("username", '"pi"'),
        ("sender", '"pi@example.com"'),
        ("recipients", '["owner@example.com"]'),
    ):
        start = text.index(f"\n{key} = ", text.index("[smtp]")) + 1
        text = text[:start] + f"{key} = {value}" + text[text.index("\n", start) :]
    config.write_text(text)
    store = installer.path("etc/credstore")
    (store / "wixprint.smtp_password").write_text("s3cret\n")
    done = installer.run(v2, "--upgrade", CHECK_CMD="exit 0")
    ok(done)
    assert "s3cret" not in done.stdout
    [backup] = backups(installer)
    assert marker(backup / "spool/spool.sqlite3") == "v1 data"


@pytest.mark.parametrize(("synced", "written"), [("yes", True), ("no", False)])
def test_install_writes_not_before_from_a_synchronised_clock(
    installer: Installer, v1: Path, synced: str, written: bool
) -> None:
    out = ok(installer.run(v1, INSTALL_CLOCK_SYNCED=synced))
    text = installer.path("etc/wixprint/config.toml").read_text()
    line = next(x for x in text.splitlines() if x.startswith("not_before"))
    if written:
        stamp = line.split('"')[1]
        assert (
            abs(
                time.time()
                - time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
                + time.timezone
            )
            < 600
        )
        assert "orders placed before this install are not printed" in out
    else:
        assert line.startswith('not_before = ""')
        assert "not synchronised" in out
    assert sys.executable  # the installer used this interpreter
