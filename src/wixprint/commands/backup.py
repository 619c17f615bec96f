"""``wixprint backup DEST`` and ``wixprint restore SRC``.

The backup is online and consistent (SQLite's backup API, while the service runs) and holds
the configuration *without* secrets, rewritten from the parsed TOML (a config that does not
parse is left out), so a backup can be handed to a technician. It still holds customer
orders, so its folder is private (0700, also when it existed) and its files 0600.

A restore refuses while the service holds the state folder's lock (it would go on writing
into the file set aside), checks the file first (a spool, readable, intact, not newer than
this program), keeps the spool it replaces beside it as ``spool.sqlite3.before-restore``
(restoring the wrong backup must not lose the only other copy), and makes the new file
durable (fsync of file and folder) with the state folder's owner and mode 0600. The restored
file is stamped as a snapshot (backups carry the stamp already): at its next start the
service knows it was restored and prints anything the replaced spool may have printed with
the REPRINT banner (``spool.horizons``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import trio

from wixprint.config import Config
from wixprint.config.sanitise import sanitised_config
from wixprint.errors import SpoolError
from wixprint.spool import open_spool
from wixprint.spool.db import describe
from wixprint.spool.horizons import ensure_snapshot
from wixprint.spool.lock import hold_state_lock
from wixprint.spool.schema import SCHEMA_VERSION, read_version

SPOOL_FILE = "spool.sqlite3"
CONFIG_FILE = "config.toml"
ASIDE_SUFFIX = ".before-restore"


def _private_file(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    path.chmod(0o600)


async def backup(config: Config, config_path: Path, dest: Path) -> int:
    source = trio.Path(config.service.state_dir) / SPOOL_FILE
    if not await source.exists():
        print(f"no spool at {source}", file=sys.stderr)
        return 1
    target = trio.Path(dest)
    await target.mkdir(mode=0o700, parents=True, exist_ok=True)
    await target.chmod(0o700)  # an existing folder too: the backup holds customers' orders
    try:
        async with open_spool(Path(source)) as spool:
            await spool.backup_to(Path(target / SPOOL_FILE))
        await (target / SPOOL_FILE).chmod(0o600)
    except (SpoolError, OSError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    config_file = trio.Path(config_path)
    if await config_file.exists():
        clean = sanitised_config(await config_file.read_text())
        if clean is None:
            print("the config file does not parse: not included in the backup", file=sys.stderr)
        else:
            await trio.to_thread.run_sync(_private_file, Path(target / CONFIG_FILE), clean)
    print(f"backup written to {dest}")
    return 0


def check_backup(path: Path) -> str | None:
    """Why the spool file at ``path`` cannot be restored, or None if it can."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"cannot open it ({describe(exc)})"
    with contextlib.closing(conn):
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = read_version(conn)
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.Error as exc:
            return f"it is not a readable SQLite database ({describe(exc)})"
    if problems != ["ok"]:
        return f"it fails the integrity check ({problems[0] if problems else 'no answer'})"
    if version < 1 or "jobs" not in tables:
        return "it is not a spool database"
    if version > SCHEMA_VERSION:
        return f"its schema version {version} is newer than this program's ({SCHEMA_VERSION})"
    return None


def _stamp_as_restored(copy: Path) -> None:
    """Make sure the copy says it is a snapshot (a backup from before snapshots were
    stamped does not): the service then marks what it may have printed since as REPRINT."""
    conn = sqlite3.connect(copy, isolation_level=None)
    try:
        ensure_snapshot(conn, fallback=copy.stat().st_mtime)
    finally:
        conn.close()


def restore(config: Config, src: Path) -> int:
    """Copy a backup's spool into the state directory (the service must be stopped)."""
    backup_db = src / SPOOL_FILE
    if not backup_db.exists():
        print(f"no spool in {src}", file=sys.stderr)
        return 1
    problem = check_backup(backup_db)
    if problem is not None:
        print(f"{backup_db} cannot be restored: {problem}; nothing changed", file=sys.stderr)
        return 1
    state = Path(config.service.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    try:
        with hold_state_lock(state, holder="restore"):
            return _replace(state / SPOOL_FILE, backup_db)
    except SpoolError as exc:
        print(
            f"the service is running ({exc}): stop it first "
            "(systemctl stop wix-printer-service); nothing changed",
            file=sys.stderr,
        )
        return 1


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, (os.O_RDONLY | os.O_DIRECTORY) if directory else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(target: Path, backup_db: Path) -> int:
    """Set the current spool aside and put the backup's in its place, durably, owned like
    the state folder (the service's user when run as root), mode 0600."""
    aside = target.with_name(target.name + ASIDE_SUFFIX)
    kept = target.exists()
    # The database moves with its -wal/-shm, and no stale companion may attach to it.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{aside}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{target}{suffix}", f"{aside}{suffix}")
    tmp = target.with_name(target.name + ".restoring")
    shutil.copy2(backup_db, tmp)  # keeps the mtime: the stamp's fallback for old backups
    _stamp_as_restored(tmp)
    owner = target.parent.stat()
    tmp.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(tmp, owner.st_uid, owner.st_gid)
    _fsync(tmp)
    os.replace(tmp, target)
    _fsync(target.parent, directory=True)
    print(f"restored {target}" + (f" (the previous spool is kept as {aside})" if kept else ""))
    return 0
