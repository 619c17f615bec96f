"""ops/install.sh into a scratch root (PREFIX): a fresh install, idempotence, and upgrades
that succeed or roll back by themselves.

The installs reuse this test's interpreter and site-packages (``--reuse-site``) instead of
pip, so each takes well under a second; systemctl is a stub that logs its calls and can play
the new version's start-up migration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.installer import (
    SERVICE_UNIT,
    Installer,
    backups,
    marker,
    migration,
    mode,
    ok,
    snapshot,
)

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
        "enable systemd-time-wait-sync.service",
    ]
    # The boot waits for NTP (time-sync.target), but not forever.
    drop_in = installer.path("etc/systemd/system/systemd-time-wait-sync.service.d/wixprint.conf")
    assert "TimeoutStartSec=2min" in drop_in.read_text()


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
    [backup] = backups(installer)
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
        CHECK_CMD=f"[[ $CHECK_PHASE == before ]] || echo try >> {tries}; exit 2",
        CHECK_TRIES="3",
        STUB_ON_RESTART=migration(tmp_path, installer.db),
    )

    assert done.returncode == 1
    assert "UPGRADE FAILED at step verify" in done.stdout
    assert f"ROLLED BACK: {Path(installed_v1).name} is installed and running again" in done.stdout
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
        CHECK_CMD=f"[[ $CHECK_PHASE == before ]] || echo try >> {tries}",
        STUB_ON_RESTART=migration(tmp_path, installer.db),
        STUB_RESTART_FAILS="1",
    )

    assert done.returncode == 1
    assert "UPGRADE FAILED at step restart" in done.stdout
    assert "ROLLED BACK" in done.stdout
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
    assert len(backups(installer)) == 2


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
    [backup] = backups(installer)
    assert (backup / "previous-release").read_text().strip() == Path(v2_release).name
    assert Path(installed_v1).name not in {p.name for p in releases.iterdir()}
