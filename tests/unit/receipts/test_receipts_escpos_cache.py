"""A kill while escpos writes its printer database must not make every later ticket fail."""

from __future__ import annotations

import os
import pickle
import platform
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("left", [b"", b"\x80\x04\x95\x10"])
def test_a_half_written_escpos_cache_is_replaced(tmp_path: Path, left: bytes) -> None:
    cache = tmp_path / f"{platform.python_version()}.capabilities.pickle"
    cache.write_bytes(left)  # what SIGKILL leaves mid-write
    code = (
        "from wixprint.receipts.render import import_escpos, _escpos_dummy\n"
        "import_escpos()\n"
        "_escpos_dummy()(profile='TM-T20II')\n"
    )
    env = {**os.environ, "ESCPOS_CAPABILITIES_PICKLE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with cache.open("rb") as f:
        assert pickle.load(f)  # written anew, whole
