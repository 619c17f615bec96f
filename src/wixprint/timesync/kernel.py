"""The kernel's NTP state through ``adjtimex(2)`` in read-only mode (``modes = 0``).

Whoever disciplines the clock (systemd-timesyncd, chrony, ntpd) tells the kernel; the kernel
keeps ``STA_UNSYNC`` set and lets ``maxerror`` grow towards 16 s until then. That is what
``timedatectl``'s "System clock synchronized" and ``systemd-time-wait-sync`` read too, so
the answer does not depend on which NTP client the Pi runs.

The service unit allows the ``adjtimex`` system call (read-only: the service has no
``CAP_SYS_TIME``, so the kernel refuses any change); where it is filtered anyway the status
is "unknown" and Wix's ``Date`` header decides alone.
"""

from __future__ import annotations

import ctypes
import os

from wixprint.timesync.judge import KernelClock

__all__ = ["MAXERROR_LIMIT", "STA_UNSYNC", "TIME_ERROR", "read_kernel_clock"]

STA_UNSYNC = 0x0040
TIME_ERROR = 5
MAXERROR_LIMIT = 16.0
"""Seconds: the kernel's cap for an unsynchronised clock (NTP_PHASE_LIMIT); systemd's rule."""


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


class _Timex(ctypes.Structure):
    """``struct timex`` as the plain ``adjtimex`` symbol takes it (``long`` fields, 32-bit
    time on armhf, 64-bit on arm64 and x86_64), with room to spare at the end."""

    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_spare", ctypes.c_int * 32),
    )


_libc: ctypes.CDLL | None = None


def read_kernel_clock() -> KernelClock:
    """Synchronised when ``STA_UNSYNC`` is clear and ``maxerror`` is under 16 s; unknown
    (never an exception) when the call is refused or absent. One system call, no I/O."""
    global _libc
    try:
        if _libc is None:
            # The process's own symbols (libc among them): find_library would run ldconfig
            # in a subprocess, on the event loop.
            _libc = ctypes.CDLL(None, use_errno=True)
        adjtimex = _libc.adjtimex
    except (OSError, AttributeError) as exc:
        return KernelClock(None, None, f"adjtimex unavailable: {exc}")
    timex = _Timex()  # modes = 0: read only
    state = adjtimex(ctypes.byref(timex))
    if state < 0:
        err = ctypes.get_errno()
        return KernelClock(None, None, f"adjtimex refused: {os.strerror(err)}")
    maxerror = timex.maxerror / 1e6
    unsync = bool(timex.status & STA_UNSYNC) or state == TIME_ERROR
    synced = not unsync and maxerror < MAXERROR_LIMIT
    detail = "" if synced else ("STA_UNSYNC" if unsync else f"maxerror {maxerror:.0f} s")
    return KernelClock(synced, maxerror, detail)
