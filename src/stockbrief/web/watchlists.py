"""Named watchlists edited from the dashboard, kept in the store's ``watchlists`` table.

A write opens the store for writing only for the moment it takes (a few milliseconds), through
the same lock as every writer, so a browsing dashboard never keeps the daily run out for long.
Names and tickers are checked before anything is opened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from stockbrief import api
from stockbrief.errors import InputError, NotFoundError

NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,39}")
"""A list's name: letters, digits, spaces and ``_ . -``, at most 40 characters."""

TICKER: Final = re.compile(r"\^?[A-Za-z0-9][A-Za-z0-9.\-=]{0,19}")

MAX_TICKERS: Final = 1000


def name_of(raw: Any) -> str:
    """A valid list name, trimmed, or an :class:`InputError` saying what is allowed."""
    if not isinstance(raw, str) or not NAME.fullmatch(raw.strip()):
        shown = raw[:60] if isinstance(raw, str) else type(raw).__name__
        raise InputError(
            f"invalid list name {shown!r}: use letters, digits, spaces and _ . - "
            "(at most 40 characters, starting with a letter or digit)",
            field="name",
        )
    return raw.strip()


def tickers_of(raw: Any) -> list[str]:
    """Upper-cased tickers in their order, without repeats; each must look like a ticker."""
    if isinstance(raw, str):
        raw = re.split(r"[\s,;]+", raw)
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise InputError("tickers must be a list of strings", field="tickers")
    tickers = [t.strip().upper() for t in raw if t.strip()]
    for ticker in tickers:
        if not TICKER.fullmatch(ticker):
            raise InputError(
                f"invalid ticker {ticker[:30]!r}: use letters, digits and . - = ^", field="tickers"
            )
    unique = list(dict.fromkeys(tickers))
    if len(unique) > MAX_TICKERS:
        raise InputError(f"{len(unique):,} tickers; a list holds at most {MAX_TICKERS:,}")
    return unique


def stored(store: Path) -> dict[str, list[str]]:
    """Every stored list by name."""
    with api.using_store(store, read_only=True) as db:
        return db.watchlists()


def one(store: Path, name: str) -> list[str]:
    """The tickers of one list; a :class:`NotFoundError` when there is none of that name."""
    with api.using_store(store, read_only=True) as db:
        tickers = db.watchlist(name)
    if not tickers:
        raise NotFoundError(f"no watchlist named {name!r}")
    return tickers


def save(store: Path, name: Any, tickers: Any) -> tuple[str, list[str]]:
    """Store a list (replacing one of that name) after checking that every ticker is stored.

    Raises
    ------
    InputError
        A bad name, a bad or unknown ticker (with the nearest stored ones), or no ticker.
    """
    valid, symbols = name_of(name), tickers_of(tickers)
    if not symbols:
        raise InputError("a watchlist needs at least one ticker", field="tickers")
    known = set(api.info(store)["ticker"].to_list())
    unknown = [t for t in symbols if t not in known]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(known), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"unknown ticker {unknown[0]!r}: no bars stored{hint}", field="tickers")
    with api.using_store(store) as db:
        db.save_watchlist(valid, symbols)
    return valid, symbols


def delete(store: Path, name: Any) -> str:
    """Remove a list; a :class:`NotFoundError` when there is none of that name."""
    valid = name_of(name)
    with api.using_store(store) as db:
        if not db.delete_watchlist(valid):
            raise NotFoundError(f"no watchlist named {valid!r}")
    return valid
