"""The installed package's version: what ``--version`` prints and ``/health`` answers, so an
upgrade can prove the process answering is the release it installed."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["package_version"]


def package_version() -> str:
    try:
        return version("wix-printer-service")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
