"""The settings file (TOML): where it lives, and its tables checked with errors naming file,
table and key.

Each top-level table has one reader in :data:`SECTIONS`; a new section (say ``[providers]``) is
one more reader there, and an unknown table is refused with the names that are known.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stockbrief.errors import InputError, NotFoundError

CONFIG_NAME: Final = "stockbrief.toml"
"""The settings file looked for beside the store when neither ``--config`` nor the environment
names one."""

NOTABLE_RULE: Final = "any notable event"
"""The rule that fires on every event that earns a ticker a brief in the daily run."""

LANGS: Final = ("en", "de")
FORMATS: Final = ("md", "html", "json", "pdf")


@dataclass(frozen=True)
class AlertRule:
    """One ``[[alert]]`` table: who is told, about which tickers, when, and how."""

    name: str
    watchlist: str
    """A watchlist file's path (relative to the settings file) or a stored watchlist's name."""
    rule: str = NOTABLE_RULE
    """A screen expression or preset, or :data:`NOTABLE_RULE`."""
    lang: str = "en"
    format: str = "html"
    """The format of the brief attached to the message."""
    notify: tuple[str, ...] = ()
    """Apprise URLs; they may hold passwords or tokens, so they are never printed or stored."""


@dataclass(frozen=True)
class Config:
    """The settings read from one file (``path`` is ``None`` when there was none)."""

    path: Path | None = None
    alerts: tuple[AlertRule, ...] = ()


def config_path(explicit: str | Path | None, store: Path) -> tuple[Path, bool]:
    """The settings file to read, and whether it was asked for (then it must exist).

    ``--config PATH`` first, then ``$STOCKBRIEF_CONFIG``, then ``stockbrief.toml`` beside the
    store.
    """
    if explicit is not None:
        return Path(explicit), True
    if os.environ.get("STOCKBRIEF_CONFIG"):
        return Path(os.environ["STOCKBRIEF_CONFIG"]), True
    return store.with_name(CONFIG_NAME), False


def load(path: Path, *, required: bool = True) -> Config:
    """Read and check a settings file; a missing optional file is an empty :class:`Config`."""
    if not path.is_file():
        if required:
            raise NotFoundError(f"{path}: no such settings file")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the settings: {exc}", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    parsed: dict[str, Any] = {}
    for key, value in data.items():
        reader = SECTIONS.get(key)
        if reader is None:
            known = ", ".join(f"[{name}]" for name in SECTIONS)
            raise InputError(f"unknown table [{key}]; the known ones are {known}", file=path)
        parsed[key] = reader(path, value)
    return Config(
        path=path,
        alerts=parsed.get("alert", ()),
    )


def _text(path: Path, where: str, table: Mapping[str, Any], key: str, default: str | None) -> str:
    value = table.get(key, default)
    if value is None:
        raise InputError(f"{where} needs the key {key!r}", file=path, field=f"{where}.{key}")
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be a non-empty string", file=path, field=f"{where}.{key}")
    return value.strip()


def _choice(
    path: Path, where: str, table: Mapping[str, Any], key: str, allowed: tuple[str, ...]
) -> str:
    value = _text(path, where, table, key, allowed[0] if key == "lang" else "html")
    if value not in allowed:
        raise InputError(
            f"{value!r} is not one of {', '.join(allowed)}", file=path, field=f"{where}.{key}"
        )
    return value


ALERT_KEYS: Final = ("name", "watchlist", "rule", "lang", "format", "notify")


def _alerts(path: Path, value: Any) -> tuple[AlertRule, ...]:
    if not isinstance(value, list):
        raise InputError("write alerts as [[alert]] tables", file=path, field="alert")
    rules: list[AlertRule] = []
    for number, table in enumerate(value, start=1):
        where = f"alert[{number}]"
        if not isinstance(table, dict):
            raise InputError("must be a table", file=path, field=where)
        unknown = sorted(set(table) - set(ALERT_KEYS))
        if unknown:
            raise InputError(
                f"unknown key {unknown[0]!r}; an alert has {', '.join(ALERT_KEYS)}",
                file=path,
                field=f"{where}.{unknown[0]}",
            )
        name = _text(path, where, table, "name", None)
        if any(r.name == name for r in rules):
            raise InputError(f"a second alert named {name!r}", file=path, field=f"{where}.name")
        urls = table.get("notify", [])
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise InputError(
                "must be a URL or a list of URLs (Apprise syntax, e.g. mailto://...)",
                file=path,
                field=f"{where}.notify",
            )
        rules.append(
            AlertRule(
                name=name,
                watchlist=_text(path, where, table, "watchlist", None),
                rule=_text(path, where, table, "rule", NOTABLE_RULE),
                lang=_choice(path, where, table, "lang", LANGS),
                format=_choice(path, where, table, "format", FORMATS),
                notify=tuple(urls),
            )
        )
    return tuple(rules)


SECTIONS: Final[dict[str, Callable[[Path, Any], Any]]] = {
    "alert": _alerts,
}
"""The reader of each top-level table."""
