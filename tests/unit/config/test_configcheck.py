"""``wixprint config check PATH``: exit codes and what the operator reads."""

from __future__ import annotations

import io
from pathlib import Path

from tests.unit.config.helpers import MINIMAL
from wixprint.commands.configcheck import EX_CONFIG, run_config_check


def _check(path: Path, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_config_check(str(path), environ=environ or {}, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_good_file_prints_ok_and_a_masked_summary(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL)
    path.chmod(0o640)  # else a warning: every user could read it
    code, out, err = _check(path, {"WIXPRINT_WIX_API_KEY": "k-123456"})
    assert code == 0
    assert err == ""
    assert out.splitlines()[0] == "ok"
    assert "printer kitchen: network 127.0.0.1:9100 -> kitchen" in out
    assert "api key ****" in out
    assert "k-123456" not in out


def test_bad_file_prints_each_problem_prefixed_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL + '[wix]\npol_interval = 5\n[http]\nport = "80"\n')
    code, out, err = _check(path)
    assert code == EX_CONFIG == 78
    assert out == ""
    assert err.splitlines() == [
        f"{path}: unknown key 'wix.pol_interval'",
        f"{path}: http.port: expected int, got str",
    ]


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    code, _out, err = _check(path)
    assert code == 78
    assert err.splitlines() == [f"{path}: file not found"]
