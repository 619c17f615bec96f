"""``wixprint backup DEST`` and ``wixprint restore SRC``.

The backup is online and consistent (SQLite's backup API, while the service runs) and holds
the configuration *without* secrets, so a backup can be handed to a technician.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import sys
from pathlib import Path

import trio

from wixprint.config import Config
from wixprint.spool import open_spool

SPOOL_FILE = "spool.sqlite3"
CONFIG_FILE = "config.toml"
SECRET_KEYS = re.compile(r"^(\s*(api_key|password|admin_token)\s*=\s*).*$", re.MULTILINE)


def strip_secrets(toml_text: str) -> str:
    """Blank every secret value in a config file's text."""
    return SECRET_KEYS.sub(r'\1""  # removed from backup', toml_text)


async def backup(config: Config, config_path: Path, dest: Path) -> int:
    source = trio.Path(config.service.state_dir) / SPOOL_FILE
    if not await source.exists():
        print(f"no spool at {source}", file=sys.stderr)
        return 1
    target = trio.Path(dest)
    await target.mkdir(parents=True, exist_ok=True)
    async with open_spool(Path(source)) as spool:
        await spool.backup_to(Path(target / SPOOL_FILE))
    config_file = trio.Path(config_path)
    if await config_file.exists():
        await (target / CONFIG_FILE).write_text(strip_secrets(await config_file.read_text()))
    print(f"backup written to {dest}")
    return 0


def restore(config: Config, src: Path) -> int:
    """Copy a backup's spool into the state directory (the service must be stopped)."""
    backup_db = src / SPOOL_FILE
    if not backup_db.exists():
        print(f"no spool in {src}", file=sys.stderr)
        return 1
    with contextlib.closing(sqlite3.connect(backup_db)) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if not ok:
        print(f"{backup_db} fails the integrity check; nothing restored", file=sys.stderr)
        return 1
    target = Path(config.service.state_dir) / SPOOL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copy2(backup_db, target)
    print(f"restored {target}")
    return 0
