"""A scratch-root installer for the ops/install.sh tests: source checkouts v1 and v2, a
systemctl stub, snapshots, and a spool with a marker row to follow through backups."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import trio

from wixprint.spool import open_spool

REPO = Path(__file__).resolve().parents[2]
SITE = sysconfig.get_path("purelib")
SERVICE_UNIT = "etc/systemd/system/wix-printer-service.service"

Snapshot = dict[str, tuple[str, int, str]]


def copy_source(dest: Path) -> Path:
    """A checkout of its own, so concurrent edits of the repository do not change it."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    for name in ("src", "ops"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    return dest


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    return copy_source(tmp_path / "src-v1")


@pytest.fixture
def v2(tmp_path: Path, v1: Path) -> Path:
    """The next version: another version number, a changed unit and a new one."""
    source = tmp_path / "src-v2"
    shutil.copytree(v1, source, symlinks=True)
    pyproject = source / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "', 'version = "9.', 1))
    unit = source / "ops/systemd/wix-printer-service.service"
    unit.write_text(unit.read_text().replace("Description=", "Description=v2 ", 1))
    (source / "ops/systemd/wix-printer-extra.timer").write_text("[Timer]\nOnBootSec=1h\n")
    return source


@pytest.fixture
def stub(tmp_path: Path) -> Path:
    """systemctl: logs each call except ``show``; ``restart`` runs $STUB_ON_RESTART and fails
    if asked to; ``show -p NRestarts`` answers the number in $STUB_NRESTARTS (a file);
    ``show -p <Property>`` answers the file $STUB_SHOW_DIR/<Property> if there is one;
    $STUB_FAIL_ONCE=<verb> makes the first such call fail."""
    exe = tmp_path / "systemctl"
    exe.write_text(
        "#!/usr/bin/env bash\n"
        "if [[ $1 == show ]]; then\n"
        "  shown=${STUB_SHOW_DIR:-/nonexistent}/$3\n"
        '  [[ -f $shown ]] && cat "$shown" && exit 0\n'
        '  [[ $3 == NRestarts && -n ${STUB_NRESTARTS:-} ]] && cat "$STUB_NRESTARTS" && exit 0\n'
        "  [[ $3 == NRestarts ]] && echo 0\n"
        "  exit 0\n"
        "fi\n"
        'echo "$*" >> "$STUB_LOG"\n'
        'if [[ $1 == "${STUB_FAIL_ONCE:-}" && ! -e $STUB_LOG.failed ]]; then\n'
        '  touch "$STUB_LOG.failed"; exit 1\n'
        "fi\n"
        "if [[ $1 == restart ]]; then\n"
        '  [[ -z ${STUB_ON_RESTART:-} ]] || bash -c "$STUB_ON_RESTART"\n'
        "  [[ -z ${STUB_RESTART_FAILS:-} ]] || exit 1\n"
        "fi\n"
        "exit 0\n"
    )
    exe.chmod(0o755)
    return exe


class Installer:
    def __init__(self, tmp_path: Path, stub: Path) -> None:
        self.prefix = tmp_path / "root"
        self.log = tmp_path / "systemctl.log"
        self.stub = stub
        self.tmp_path = tmp_path

    def environ(self, env: dict[str, str]) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", os.defpath),
            "PREFIX": str(self.prefix),
            "PYTHON": sys.executable,
            "SYSTEMCTL": str(self.stub),
            "STUB_LOG": str(self.log),
            "CHECK_WAIT": "0",
            "CHECK_SOAK": "0",
            "CHECK_PASSES": "2",
            **env,
        }

    def run(self, source: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(source / "ops/install.sh"), "--reuse-site", SITE, *args],
            env=self.environ(env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def popen(self, source: Path, *args: str, **env: str) -> subprocess.Popen[str]:
        """The installer in a session of its own, like a login shell's command: with the
        default SIGHUP and SIGINT actions, whatever this test run inherited (under ``nohup``
        SIGHUP is ignored, in a background job SIGINT is, and bash cannot undo a signal
        ignored at its start: its Ctrl-C trap would never run)."""
        return subprocess.Popen(
            ["bash", str(source / "ops/install.sh"), "--reuse-site", SITE, *args],
            env=self.environ(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_default_hangup_and_interrupt,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def path(self, relative: str) -> Path:
        return self.prefix / relative

    @property
    def venv(self) -> Path:
        return self.path("opt/wix-printer-service/venv")

    @property
    def release(self) -> str:
        return os.readlink(self.venv)

    @property
    def db(self) -> Path:
        return self.path("var/lib/wixprint/spool.sqlite3")


@pytest.fixture
def installer(tmp_path: Path, stub: Path) -> Installer:
    return Installer(tmp_path, stub)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def snapshot(root: Path) -> Snapshot:
    """Every path below root: kind, permission bits, content hash or link target."""
    result: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                result[str(path.relative_to(root))] = ("link", mode, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                result[str(path.relative_to(root))] = ("dir", mode, "")
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                result[str(path.relative_to(root))] = ("file", mode, digest)
    return result


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def backups(installer: Installer) -> list[Path]:
    """The backup folders an upgrade made (its logs lie beside them)."""
    return sorted(p for p in installer.path("var/backups/wixprint").iterdir() if p.is_dir())


# -- upgrade ---------------------------------------------------------------------------------


def make_spool(path: Path, marker: str) -> None:
    """A real spool database plus a marker row the test can follow through backups."""

    async def create() -> None:
        async with open_spool(path):
            pass

    trio.run(create)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE test_marker (value TEXT)")
        conn.execute("INSERT INTO test_marker VALUES (?)", (marker,))
    conn.close()


def marker(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM test_marker").fetchone()
    conn.close()
    return str(row[0])


def migration(tmp_path: Path, db: Path) -> str:
    """What the new version does to the database when it starts (run by the stub)."""
    script = tmp_path / "migrate.py"
    script.write_text(
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "conn.execute(\"UPDATE test_marker SET value = 'migrated by v2'\")\n"
        "conn.commit()\n"
        "conn.close()\n"
    )
    return f"{sys.executable} {script} {db}"


@pytest.fixture
def installed_v1(installer: Installer, v1: Path) -> str:
    """v1 installed with a spool; a marker file in its venv. Returns v1's release."""
    ok(installer.run(v1))
    make_spool(installer.db, "v1 data")
    (installer.venv / "V1-MARKER").write_text("the previous venv\n")
    return installer.release


def _default_hangup_and_interrupt() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
