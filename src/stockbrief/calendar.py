"""Trading sessions per exchange, from exchange_calendars (offline), and as-of clamping."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from functools import lru_cache
from typing import Any, Final

import polars as pl

from stockbrief.errors import InputError

DEFAULT_EXCHANGE: Final = "XNYS"
CALENDAR_START: Final = "1990-01-01"

# Yahoo-style ticker suffixes -> ISO 10383 MIC of the listing exchange.
SUFFIX_EXCHANGES: Final[dict[str, str]] = {
    "HK": "XHKG",
    "L": "XLON",
    "T": "XTKS",
    "DE": "XETR",
    "PA": "XPAR",
    "AS": "XAMS",
    "TO": "XTSE",
    "AX": "XASX",
    "SS": "XSHG",
    "SZ": "XSHG",
    "SW": "XSWX",
}

# The trading currency of each exchange above, for tickers without a stored securities row.
EXCHANGE_CURRENCIES: Final[dict[str, str]] = {
    "XNYS": "USD",
    "XHKG": "HKD",
    "XLON": "GBP",
    "XTKS": "JPY",
    "XETR": "EUR",
    "XPAR": "EUR",
    "XAMS": "EUR",
    "XTSE": "CAD",
    "XASX": "AUD",
    "XSHG": "CNY",
    "XSWX": "CHF",
}

_TICKER = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,19}$")


def normalize_ticker(raw: str) -> str:
    """Upper-case and check a ticker, so that it is safe in SQL parameters, paths and HTML.

    Raises
    ------
    InputError
        When the ticker has characters other than letters, digits, ``. - = ^`` or is too long.
    """
    ticker = raw.strip().upper()
    if not _TICKER.fullmatch(ticker):
        raise InputError(
            f"invalid ticker {raw!r}: use letters, digits and . - = ^ (at most 20 characters)",
            field="ticker",
        )
    return ticker


def exchange_for(ticker: str) -> str:
    """The exchange a ticker trades on, from its Yahoo-style suffix (``0700.HK`` -> ``XHKG``)."""
    _, dot, suffix = ticker.rpartition(".")
    return SUFFIX_EXCHANGES.get(suffix, DEFAULT_EXCHANGE) if dot else DEFAULT_EXCHANGE


def currency_for(ticker: str) -> str:
    """The currency a ticker's prices are in, from its exchange (``0700.HK`` -> ``HKD``)."""
    return EXCHANGE_CURRENCIES[exchange_for(ticker)]


@lru_cache(maxsize=16)
def _calendar(exchange: str) -> Any:
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.13 still uses pandas APIs deprecated in pandas 3.1.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return xcals.get_calendar(exchange, start=CALENDAR_START)
    except xcals.errors.InvalidCalendarName:
        known = ", ".join(sorted(set(SUFFIX_EXCHANGES.values()) | {DEFAULT_EXCHANGE}))
        raise InputError(
            f"unknown exchange {exchange!r}; use an ISO MIC such as {known}", field="exchange"
        ) from None


@lru_cache(maxsize=16)
def sessions(exchange: str) -> pl.Series:
    """All sessions of an exchange's calendar as a sorted Date series."""
    cal = _calendar(exchange)
    return pl.Series("date", cal.sessions.values.astype("datetime64[D]"), dtype=pl.Date)


def last_session_on_or_before(exchange: str, day: dt.date) -> dt.date:
    """Clamp a date to the latest session at or before it (a Saturday as-of means Friday)."""
    s = sessions(exchange)
    idx = s.search_sorted(day, side="right") - 1
    if idx < 0:
        raise InputError(f"{day} is before the first {exchange} session on record", field="as_of")
    value = s[int(idx)]
    assert isinstance(value, dt.date)
    return value
