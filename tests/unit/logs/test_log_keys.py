"""Every key any log call in ``src/`` passes is in ``SAFE_LOG_KEYS``.

The walker reads the source with ``ast``: structlog-style keywords (``log.info("e", order=n)``),
stdlib ``extra=`` dicts (literal, or a name bound to one in the same function, ``**`` merges
included), and what binds context (``get_logger(actor, printer=…)``, ``bind_context``,
``.bind``). A call whose keys it cannot read (``**kwargs``, a computed ``extra``) is a failure
too: a key the test cannot see is a key nobody reviewed. Adding a log key means adding it to
``SAFE_LOG_KEYS`` — and asking whether its value can ever be customer data or a secret.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import wixprint
from wixprint import logs
from wixprint.logs import SAFE_LOG_KEYS

PACKAGE = Path(wixprint.__file__).parent
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "msg"}
)
_BINDERS = frozenset({"get_logger", "bind_context", "bind_contextvars", "bind"})
_NOT_KEYS = frozenset({"exc_info", "stack_info", "stacklevel", "extra"})
_WRAPPERS = Path(logs.__file__)
"""logs.py itself forwards ``**bound``/``**kw``: the wrappers, not call sites."""


@dataclass(frozen=True)
class Site:
    where: str
    keys: frozenset[str]
    unreadable: str = ""


def _callee(node: ast.Call) -> tuple[str, str]:
    """(method or function name, the receiver's source) of a call."""
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr, ast.unparse(func.value)
    if isinstance(func, ast.Name):
        return func.id, ""
    return "", ""


def _is_log_call(node: ast.Call) -> bool:
    name, receiver = _callee(node)
    if name in _LOG_METHODS:
        return "log" in receiver.lower()
    return name in _BINDERS


def _dict_keys(value: ast.expr, scope: ast.AST, seen: frozenset[str] = frozenset()) -> set[str]:
    """String keys of a dict literal, or of the dict a local name was assigned; ValueError
    when they cannot be read from the source."""
    if isinstance(value, ast.Name) and value.id not in seen:
        for node in ast.walk(scope):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)
                and isinstance(node.value, ast.Dict)
            ):
                return _dict_keys(node.value, scope, seen | {value.id})
        raise ValueError(f"extra={value.id} is not bound to a dict literal here")
    if not isinstance(value, ast.Dict):
        raise ValueError(f"extra={ast.unparse(value)} is not a dict literal")
    keys: set[str] = set()
    for key, item in zip(value.keys, value.values, strict=True):
        if key is None:  # {**other, ...}
            keys |= _dict_keys(item, scope, seen)
        elif isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
        else:
            raise ValueError(f"computed key {ast.unparse(key)}")
    return keys


def _sites_in(tree: ast.AST, where: str, *, wrappers: bool = False) -> Iterator[Site]:
    scopes: list[ast.AST] = [tree]
    scopes += [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    done: set[int] = set()
    # Innermost scope first, so a local ``extra`` resolves where it is assigned.
    for scope in reversed(scopes):
        for node in ast.walk(scope):
            if not isinstance(node, ast.Call) or id(node) in done or not _is_log_call(node):
                continue
            done.add(id(node))
            at = f"{where}:{node.lineno}"
            keys: set[str] = set()
            try:
                for kw in node.keywords:
                    if kw.arg is None:
                        if wrappers:
                            continue
                        raise ValueError(f"**{ast.unparse(kw.value)}")
                    if kw.arg == "extra":
                        keys |= _dict_keys(kw.value, scope)
                    elif kw.arg not in _NOT_KEYS:
                        keys.add(kw.arg)
            except ValueError as exc:
                yield Site(at, frozenset(keys), unreadable=str(exc))
                continue
            yield Site(at, frozenset(keys))


def log_sites(package: Path = PACKAGE) -> list[Site]:
    sites: list[Site] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(package.parent))
        sites += _sites_in(tree, where, wrappers=path == _WRAPPERS)
    return sites


def test_every_log_key_in_the_source_is_known_safe() -> None:
    sites = log_sites()
    # The walker must really be finding the service's log calls.
    assert len(sites) > 60
    unknown = {
        f"{s.where}: {sorted(s.keys - SAFE_LOG_KEYS)}" for s in sites if s.keys - SAFE_LOG_KEYS
    }
    assert unknown == set(), "add the key to logs.SAFE_LOG_KEYS if its value is never private"


def test_every_log_call_passes_keys_the_walker_can_read() -> None:
    unreadable = [f"{s.where}: {s.unreadable}" for s in log_sites() if s.unreadable]
    assert unreadable == []


def test_no_safe_key_looks_like_a_secret_or_customer_data() -> None:
    assert [k for k in SAFE_LOG_KEYS if logs._sensitive_key(k)] == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('log.info("order_parsed", order=n, customer_name=c)', {"order", "customer_name"}),
        ('logger.warning("x", extra={"note": n})', {"note"}),
        ('extra = {"a": 1}\nlog.error("x", extra={**extra, "name": n})', {"a", "name"}),
        ('get_logger("web").bind(buyer_note=n).info("x")', {"buyer_note"}),
        ("bind_context(instructions=i)", {"instructions"}),
        ('self._log.exception("x", exc_info=e, stack_info=True)', set()),
        ('report.error("path", "message")', None),
    ],
)
def test_the_walker_sees_what_a_careless_call_would_log(
    source: str, found: set[str] | None
) -> None:
    sites = list(_sites_in(ast.parse(source), "snippet"))
    if found is None:
        assert sites == []
    else:
        assert {k for s in sites for k in s.keys} == found
        assert all(not s.unreadable for s in sites)


@pytest.mark.parametrize(
    "source",
    ['log.info("x", **fields)', 'log.info("x", extra=make_extra())', 'log.info("x", extra={k: v})'],
)
def test_keys_the_walker_cannot_read_are_reported(source: str) -> None:
    (site,) = _sites_in(ast.parse(source), "snippet")
    assert site.unreadable
