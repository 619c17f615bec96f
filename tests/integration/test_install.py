"""ops/install.sh into a scratch root (PREFIX): a fresh install, idempotence, and upgrades
that succeed or roll back by themselves.

The installs reuse this test's interpreter and site-packages (``--reuse-site``) instead of
pip, so each takes well under a second; systemctl is a stub that logs its calls and can play
the new version's start-up migration.
"""

from __future__ import annotations

import hashlib
import os
import shutil
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
    """systemctl: logs each call; `restart` runs $STUB_ON_RESTART and fails if asked to."""
    exe = tmp_path / "systemctl"
    exe.write_text(
        "#!/usr/bin/env bash\n"
        'echo "$*" >> "$STUB_LOG"\n'
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

    def run(self, source: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {
            "PATH": os.environ.get("PATH", os.defpath),
            "PREFIX": str(self.prefix),
            "PYTHON": sys.executable,
            "SYSTEMCTL": str(self.stub),
            "STUB_LOG": str(self.log),
            "CHECK_WAIT": "0",
            **env,
        }
        return subprocess.run(
            ["bash", str(source / "ops/install.sh"), "--reuse-site", SITE, *args],
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
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


# -- fresh install ---------------------------------------------------------------------------


def test_fresh_install_lays_out_a_working_venv_config_and_units(
    installer: Installer, v1: Path
) -> None:
    output = ok(installer.run(v1))

    assert installer.release.startswith("releases/0.1.0-")
    wixprint = installer.path("usr/local/bin/wixprint")
    assert os.readlink(wixprint) == str(installer.venv / "bin/wixprint")
    config = installer.path("etc/wixprint/config.toml")
    check = subprocess.run(
        [str(wixprint), "config", "check", str(config)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert f'state_dir = "{installer.path("var/lib/wixprint")}"' in config.read_text()
    assert mode(config) == 0o640
    assert mode(installer.path("etc/wixprint")) == 0o750
    assert mode(installer.path("etc/credstore")) == 0o700
    assert mode(installer.path("var/lib/wixprint")) == 0o700
    for unit in (v1 / "ops/systemd").iterdir():
        installed = installer.path(f"etc/systemd/system/{unit.name}")
        assert installed.read_text() == unit.read_text()
        assert mode(installed) == 0o644
    assert "would run: useradd --system --user-group wixprint" in output
    assert f"would run: chown root:wixprint {config}" in output
    assert installer.calls() == [
        "daemon-reload",
        "enable wix-printer-service.service",
        "enable --now wix-printer-healthcheck.timer",
    ]


def test_second_run_changes_nothing(installer: Installer, v1: Path) -> None:
    ok(installer.run(v1))
    first = snapshot(installer.prefix)
    calls_first = installer.calls()

    output = ok(installer.run(v1))

    assert snapshot(installer.prefix) == first
    assert "nothing to do" in output
    assert "daemon-reload" not in installer.calls()[len(calls_first) :]


def test_existing_config_is_never_overwritten_but_kept_private(
    installer: Installer, v1: Path
) -> None:
    ok(installer.run(v1))
    config = installer.path("etc/wixprint/config.toml")
    config.write_text('[service]\nrestaurant_name = "Trattoria"\n')
    config.chmod(0o644)  # an operator's slip: secrets readable by everyone

    ok(installer.run(v1))

    assert config.read_text() == '[service]\nrestaurant_name = "Trattoria"\n'
    assert mode(config) == 0o640


def test_a_newer_checkout_without_upgrade_is_refused(
    installer: Installer, v1: Path, v2: Path
) -> None:
    ok(installer.run(v1))
    before = installer.release

    done = installer.run(v2)

    assert done.returncode != 0
    assert "use --upgrade" in done.stderr
    assert installer.release == before


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


@pytest.mark.slow
@pytest.mark.parametrize("check_exit", [0, 1], ids=["healthy", "degraded"])
def test_upgrade_switches_release_keeps_migration_and_a_backup(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path, check_exit: int
) -> None:
    output = ok(
        installer.run(
            v2,
            "--upgrade",
            CHECK_CMD=f"exit {check_exit}",
            STUB_ON_RESTART=migration(tmp_path, installer.db),
        )
    )

    assert installer.release.startswith("releases/9.0.1.0-")
    assert not (installer.venv / "V1-MARKER").exists()
    assert (installer.path("opt/wix-printer-service") / installed_v1 / "V1-MARKER").exists()
    assert "Description=v2 " in installer.path(SERVICE_UNIT).read_text()
    assert installer.path("etc/systemd/system/wix-printer-extra.timer").exists()
    assert marker(installer.db) == "migrated by v2"
    [backup] = installer.path("var/backups/wixprint").iterdir()
    assert mode(backup) == 0o700
    assert marker(backup / "spool/spool.sqlite3") == "v1 data"
    assert (backup / "previous-release").read_text().strip() == Path(installed_v1).name
    calls = installer.calls()
    upgrade_calls = calls[calls.index("stop wix-printer-service.service") :]
    assert upgrade_calls[:3] == [
        "stop wix-printer-service.service",
        "daemon-reload",
        "restart wix-printer-service.service",
    ]
    assert "upgraded to 9.0.1.0-" in output


@pytest.mark.slow
def test_failing_check_rolls_back_release_units_and_database(
    installer: Installer, installed_v1: str, v1: Path, v2: Path, tmp_path: Path
) -> None:
    tries = tmp_path / "tries"
    done = installer.run(
        v2,
        "--upgrade",
        CHECK_CMD=f"echo try >> {tries}; exit 2",
        CHECK_TRIES="3",
        STUB_ON_RESTART=migration(tmp_path, installer.db),
    )

    assert done.returncode == 1
    assert "failed its check and was rolled back" in done.stderr
    assert tries.read_text().count("try") == 3
    assert installer.release == installed_v1
    assert (installer.venv / "V1-MARKER").read_text() == "the previous venv\n"
    assert marker(installer.db) == "v1 data"
    assert (
        installer.path(SERVICE_UNIT).read_text()
        == (v1 / "ops/systemd/wix-printer-service.service").read_text()
    )
    assert not installer.path("etc/systemd/system/wix-printer-extra.timer").exists()
    assert installer.calls()[-3:] == [
        "stop wix-printer-service.service",
        "daemon-reload",
        "start wix-printer-service.service",
    ]


@pytest.mark.slow
def test_a_new_version_that_does_not_start_is_rolled_back(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path
) -> None:
    tries = tmp_path / "tries"
    done = installer.run(
        v2,
        "--upgrade",
        CHECK_CMD=f"echo try >> {tries}",
        STUB_ON_RESTART=migration(tmp_path, installer.db),
        STUB_RESTART_FAILS="1",
    )

    assert done.returncode == 1
    assert "rolled back" in done.stderr
    assert not tries.exists(), "no check after a failed start"
    assert installer.release == installed_v1
    assert marker(installer.db) == "v1 data"


@pytest.mark.slow
def test_rolled_back_install_upgrades_cleanly_later(
    installer: Installer, installed_v1: str, v2: Path
) -> None:
    assert installer.run(v2, "--upgrade", CHECK_CMD="exit 2", CHECK_TRIES="1").returncode == 1

    ok(installer.run(v2, "--upgrade", CHECK_CMD="exit 0"))

    assert installer.release.startswith("releases/9.0.1.0-")
    assert len(list(installer.path("var/backups/wixprint").iterdir())) == 2


@pytest.mark.slow
def test_upgrades_keep_the_previous_release_and_the_newest_backups(
    installer: Installer, installed_v1: str, v2: Path, tmp_path: Path
) -> None:
    v3 = tmp_path / "src-v3"
    shutil.copytree(v2, v3, symlinks=True)
    pyproject = v3 / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "9.', 'version = "10.', 1))
    ok(installer.run(v2, "--upgrade", CHECK_CMD="exit 0"))
    v2_release = installer.release

    ok(installer.run(v3, "--upgrade", CHECK_CMD="exit 0", KEEP_BACKUPS="1"))

    releases = installer.path("opt/wix-printer-service/releases")
    assert sorted(p.name for p in releases.iterdir()) == sorted(
        [Path(v2_release).name, Path(installer.release).name]
    )
    assert installer.release.startswith("releases/10.0.1.0-")
    assert (installer.venv / "bin/wixprint").exists()
    [backup] = installer.path("var/backups/wixprint").iterdir()
    assert (backup / "previous-release").read_text().strip() == Path(v2_release).name
    assert Path(installed_v1).name not in {p.name for p in releases.iterdir()}
