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
    providers: Providers | None = None
    """The ``[providers]`` table, ``None`` when the file has none."""


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
        providers=parsed.get("providers"),
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


PROVIDER_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "prices": ("yahoo",),
    "kpis": ("yahoo", "sec"),
    "news": ("yahoo", "feeds"),
}
"""Each kind of data and the providers that offer it."""

PROVIDER_SYNONYMS: Final = {"edgar": "sec"}

SEC_MAX_RATE: Final = 10.0
"""The SEC's limit of requests a second."""

PROVIDER_KEYS: Final = (
    *PROVIDER_CHOICES,
    "feeds",
    "sec_user_agent",
    "sec_requests_per_second",
    "yahoo_pause_seconds",
)


@dataclass(frozen=True)
class Providers:
    """The ``[providers]`` table: which provider to try for each kind of data, in order (the
    first one's figures stand), and how politely to ask."""

    prices: tuple[str, ...] = ("yahoo",)
    kpis: tuple[str, ...] = ("yahoo",)
    news: tuple[str, ...] = ("yahoo",)
    feeds: tuple[str, ...] = ()
    """RSS or Atom feed URLs read when ``news`` names ``feeds``."""
    sec_user_agent: str | None = None
    """Who asks SEC EDGAR (a name and an e-mail address), as the SEC requires."""
    sec_requests_per_second: float = 8.0
    yahoo_pause_seconds: float = 0.0
    """Seconds to wait between two tickers' Yahoo downloads."""

    @classmethod
    def of(cls, order: tuple[str, ...] | list[str]) -> Providers:
        """The plan of a plain provider list (``["yahoo", "sec"]``): Yahoo's prices and news
        when it is listed, KPIs in the order given."""
        names = tuple(dict.fromkeys(PROVIDER_SYNONYMS.get(n, n) for n in order))
        yahoo = ("yahoo",) if "yahoo" in names else ()
        return cls(prices=yahoo, kpis=names, news=yahoo)

    @property
    def downloads(self) -> tuple[str, ...]:
        """The providers to download from (feeds apart), in first-use order."""
        used = (*self.prices, *self.kpis, *self.news)
        return tuple(dict.fromkeys(n for n in used if n != "feeds"))


def _order(path: Path, table: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    where = f"providers.{kind}"
    allowed = PROVIDER_CHOICES[kind]
    value = table.get(kind, list(getattr(Providers(), kind)))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(
            f"must be a list of providers, e.g. {list(allowed)}", file=path, field=where
        )
    names = [PROVIDER_SYNONYMS.get(v.strip().lower(), v.strip().lower()) for v in value]
    for name in names:
        if name not in allowed:
            raise InputError(
                f"{name!r} does not offer {kind}; use {', '.join(allowed)}",
                file=path,
                field=where,
            )
    if len(set(names)) != len(names):
        raise InputError("names a provider twice", file=path, field=where)
    return tuple(names)


def _number(
    path: Path, table: Mapping[str, Any], key: str, default: float, low: float, high: float
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InputError(
            f"must be a number from {low:g} to {high:g}", file=path, field=f"providers.{key}"
        )
    return float(value)


def _providers(path: Path, value: Any) -> Providers:
    if not isinstance(value, dict):
        raise InputError("must be a table", file=path, field="providers")
    unknown = sorted(set(value) - set(PROVIDER_KEYS))
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r}; [providers] has {', '.join(PROVIDER_KEYS)}",
            file=path,
            field=f"providers.{unknown[0]}",
        )
    orders = {kind: _order(path, value, kind) for kind in PROVIDER_CHOICES}
    feeds = value.get("feeds", [])
    if isinstance(feeds, str):
        feeds = [feeds]
    if not isinstance(feeds, list) or not all(
        isinstance(f, str) and f.strip().lower().startswith(("http://", "https://")) for f in feeds
    ):
        raise InputError(
            "must be a list of feed URLs (http:// or https://)", file=path, field="providers.feeds"
        )
    if "feeds" in orders["news"] and not feeds:
        raise InputError(
            "news names feeds, but no feed URLs are given in providers.feeds",
            file=path,
            field="providers.news",
        )
    agent = None
    if "sec_user_agent" in value:
        agent = _text(path, "providers", value, "sec_user_agent", None)
        if "@" not in agent:
            raise InputError(
                "must name you and give an e-mail address, e.g. 'Jane Doe jane@example.com'",
                file=path,
                field="providers.sec_user_agent",
            )
    return Providers(
        **orders,
        feeds=tuple(f.strip() for f in feeds),
        sec_user_agent=agent,
        sec_requests_per_second=_number(
            path, value, "sec_requests_per_second", 8.0, 0.1, SEC_MAX_RATE
        ),
        yahoo_pause_seconds=_number(path, value, "yahoo_pause_seconds", 0.0, 0.0, 60.0),
    )


SECTIONS: Final[dict[str, Callable[[Path, Any], Any]]] = {
    "alert": _alerts,
    "providers": _providers,
}
"""The reader of each top-level table."""
