"""Trading sessions per exchange, from exchange_calendars (offline), the listing a ticker's
suffix implies, today's date at an exchange, and as-of clamping."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from zoneinfo import ZoneInfo

import polars as pl

from stockbrief.errors import InputError

if TYPE_CHECKING:
    import numpy as np

DateLike: TypeAlias = "str | dt.date | np.datetime64"
"""What a date parameter takes: an ISO string (``"2026-01-02"``), a ``datetime.date``, a
``datetime.datetime`` or ``pandas.Timestamp`` (its own calendar date is kept, never shifted to
another zone), or a ``numpy.datetime64``; see :func:`as_date`."""

DEFAULT_EXCHANGE: Final = "XNYS"
CALENDAR_START: Final = "1990-01-01"
LATEST_ZONE: Final = "Pacific/Kiritimati"
"""The time zone whose date changes first (UTC+14)."""

SUFFIX_EXCHANGES: Final[dict[str, str]] = {
    "AS": "XAMS",  # Euronext Amsterdam
    "AX": "XASX",  # ASX
    "BA": "XBUE",  # Buenos Aires
    "BD": "XBUD",  # Budapest
    "BK": "XBKK",  # Stock Exchange of Thailand
    "BO": "XBOM",  # BSE (Bombay)
    "BR": "XBRU",  # Euronext Brussels
    "CO": "XCSE",  # Nasdaq Copenhagen
    "DE": "XETR",  # Xetra
    "DU": "XDUS",  # Düsseldorf
    "F": "XFRA",  # Frankfurt
    "HE": "XHEL",  # Nasdaq Helsinki
    "HK": "XHKG",  # Hong Kong
    "HM": "XHAM",  # Hamburg
    "IC": "XICE",  # Nasdaq Iceland
    "IR": "XDUB",  # Euronext Dublin
    "IS": "XIST",  # Borsa Istanbul
    "JK": "XIDX",  # Indonesia
    "JO": "XJSE",  # Johannesburg
    "KL": "XKLS",  # Bursa Malaysia
    "KQ": "XKOS",  # KOSDAQ
    "KS": "XKRX",  # Korea Exchange (KOSPI)
    "L": "XLON",  # London
    "LS": "XLIS",  # Euronext Lisbon
    "MC": "XMAD",  # Madrid
    "ME": "XMOS",  # Moscow
    "MI": "XMIL",  # Borsa Italiana
    "MX": "XMEX",  # Mexico
    "NS": "XNSE",  # National Stock Exchange of India
    "NZ": "XNZE",  # NZX
    "OL": "XOSL",  # Oslo
    "PA": "XPAR",  # Euronext Paris
    "PR": "XPRA",  # Prague
    "PS": "XPHS",  # Philippines
    "RG": "XRIS",  # Nasdaq Riga
    "SA": "BVMF",  # B3 (São Paulo)
    "SG": "XSTU",  # Stuttgart
    "SI": "XSES",  # Singapore
    "SN": "XSGO",  # Santiago
    "SR": "XSAU",  # Saudi Exchange (Tadawul)
    "SS": "XSHG",  # Shanghai
    "ST": "XSTO",  # Nasdaq Stockholm
    "SW": "XSWX",  # SIX Swiss
    "SZ": "XSHE",  # Shenzhen
    "T": "XTKS",  # Tokyo
    "TL": "XTAL",  # Nasdaq Tallinn
    "TO": "XTSE",  # Toronto
    "TW": "XTAI",  # Taiwan Stock Exchange
    "TWO": "ROCO",  # Taipei Exchange (OTC)
    "V": "XTSX",  # TSX Venture
    "VI": "XWBO",  # Vienna
    "VS": "XLIT",  # Nasdaq Vilnius
    "WA": "XWAR",  # Warsaw
}
"""Yahoo's ticker suffixes and the ISO 10383 MIC of the listing exchange (``0700.HK`` -> XHKG).

A ticker without a suffix (``AAPL``, an index such as ``^VIX``, ``EURUSD=X``) is listed in New
York. Suffixes whose calendar exchange_calendars cannot build are left out (Tel Aviv ``.TA`` and
Athens ``.AT`` fail to load in exchange_calendars 4.13), so such tickers need ``--exchange``.
"""

SHARED_CALENDARS: Final[dict[str, str]] = {
    "XSHE": "XSHG",  # Shenzhen closes on Shanghai's holidays
    "XKOS": "XKRX",  # KOSDAQ is a market of the Korea Exchange
    "XNSE": "XBOM",  # NSE and BSE share India's exchange holidays
    "ROCO": "XTAI",  # the Taipei Exchange keeps the Taiwan Stock Exchange's sessions
}
"""MICs that exchange_calendars has no calendar for, and the calendar whose sessions they keep."""

EXCHANGE_CURRENCIES: Final[dict[str, str]] = {
    "XNYS": "USD",
    "XNAS": "USD",
    "XAMS": "EUR",
    "XASX": "AUD",
    "XBUE": "ARS",
    "XBUD": "HUF",
    "XBKK": "THB",
    "XBOM": "INR",
    "XBRU": "EUR",
    "XCSE": "DKK",
    "XETR": "EUR",
    "XDUS": "EUR",
    "XFRA": "EUR",
    "XHEL": "EUR",
    "XHKG": "HKD",
    "XHAM": "EUR",
    "XICE": "ISK",
    "XDUB": "EUR",
    "XIST": "TRY",
    "XIDX": "IDR",
    "XJSE": "ZAR",
    "XKLS": "MYR",
    "XKOS": "KRW",
    "XKRX": "KRW",
    "XLON": "GBP",
    "XLIS": "EUR",
    "XMAD": "EUR",
    "XMOS": "RUB",
    "XMIL": "EUR",
    "XMEX": "MXN",
    "XNSE": "INR",
    "XNZE": "NZD",
    "XOSL": "NOK",
    "XPAR": "EUR",
    "XPRA": "CZK",
    "XPHS": "PHP",
    "XRIS": "EUR",
    "BVMF": "BRL",
    "XSTU": "EUR",
    "XSES": "SGD",
    "XSGO": "CLP",
    "XSAU": "SAR",
    "XSHG": "CNY",
    "XSTO": "SEK",
    "XSWX": "CHF",
    "XSHE": "CNY",
    "XTKS": "JPY",
    "XTAL": "EUR",
    "XTSE": "CAD",
    "XTAI": "TWD",
    "ROCO": "TWD",
    "XTSX": "CAD",
    "XWBO": "EUR",
    "XLIT": "EUR",
    "XWAR": "PLN",
}
"""The trading currency (ISO 4217) of each exchange, for tickers without a stored securities row.

Yahoo quotes most London listings in pence and Johannesburg ones in cents; prices are stored as
given, so their briefs show amounts in the minor unit with the major unit's symbol.
"""

NO_CURRENCY: Final = "XXX"
"""ISO 4217's code for "no currency": a ticker listed on an exchange of unknown currency."""

MINOR_UNITS: Final[dict[str, str]] = {"GBp": "GBP", "GBX": "GBP", "ZAc": "ZAR", "ILA": "ILS"}
"""Quote units of a currency's hundredth that providers use in place of an ISO 4217 code."""

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


def _nearest(word: str, known: list[str], n: int = 3) -> str:
    """``; did you mean A, B?`` for the closest known words, or nothing."""
    close = difflib.get_close_matches(word, known, n=n, cutoff=0.5)
    return f"; did you mean {', '.join(close)}?" if close else ""


def exchange_for(ticker: str) -> str:
    """The exchange a ticker trades on, from its Yahoo-style suffix (``0700.HK`` -> ``XHKG``).

    A ticker without a dot trades in New York. An unknown suffix is an error rather than a
    guess: taking ``FOO.XX`` for a New York listing in dollars would check its dates against
    the wrong holidays and write its briefs in the wrong currency.

    Raises
    ------
    InputError
        For a suffix not in :data:`SUFFIX_EXCHANGES`, asking for ``--exchange``.
    """
    _, dot, suffix = ticker.rpartition(".")
    if not dot:
        return DEFAULT_EXCHANGE
    if suffix in SUFFIX_EXCHANGES:
        return SUFFIX_EXCHANGES[suffix]
    raise InputError(
        f"unknown ticker suffix .{suffix} in {ticker!r}, so its exchange is unknown; pass"
        " --exchange with the ISO MIC of its exchange (e.g. XHKG) or ingest a securities row"
        " naming it (a share class is written with a dash: BRK-B)",
        field="ticker",
    )


def currency_for(ticker: str) -> str:
    """The currency a ticker's prices are in, from its exchange (``0700.HK`` -> ``HKD``).

    :data:`NO_CURRENCY` when the suffix names no known exchange: such a ticker was stored with
    ``--exchange``, which does not say the currency.
    """
    try:
        return EXCHANGE_CURRENCIES.get(exchange_for(ticker), NO_CURRENCY)
    except InputError:
        return NO_CURRENCY


def known_exchanges() -> list[str]:
    """Every exchange code :func:`sessions` accepts: the MICs above and exchange_calendars'."""
    import exchange_calendars as xcals

    names = set(xcals.get_calendar_names(include_aliases=True))
    return sorted(names | set(SHARED_CALENDARS) | set(EXCHANGE_CURRENCIES))


def _known_code(raw: str, field: str = "exchange") -> str:
    """An exchange code upper-cased, if exchange_calendars or the tables above know it."""
    code = raw.strip().upper()
    known = known_exchanges()
    if code in known:
        return code
    raise InputError(
        f"unknown exchange {raw!r}; use an ISO MIC such as XNYS, XHKG or XLON"
        f"{_nearest(code, known)}",
        field=field,
    )


def check_exchange(raw: str, field: str = "exchange") -> str:
    """An exchange code upper-cased and checked, so a typo is refused before it is used or stored.

    The calendar is built too: a code exchange_calendars names but cannot build (Athens' ASEX
    in version 4.13) would otherwise fail later, far from the row that gave it.

    Raises
    ------
    InputError
        For a code that names no calendar, with the nearest known ones, or whose calendar
        cannot be built.
    """
    code = _known_code(raw, field)
    _calendar(code)
    return code


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes, current and historic, from Babel's CLDR data (offline)."""
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def check_currency(raw: str, field: str = "currency") -> str:
    """An ISO 4217 code as given, checked; case matters because ``GBp`` is pence, not pounds.

    Raises
    ------
    InputError
        For a code that is not ISO 4217, with the nearest known ones.
    """
    code = raw.strip()
    known = known_currencies()
    if code in known:
        return code
    if code in MINOR_UNITS:
        hint = (
            f"; {code} quotes hundredths of {MINOR_UNITS[code]}: give prices in"
            f" {MINOR_UNITS[code]} and currency {MINOR_UNITS[code]}"
        )
    else:
        hint = _nearest(code.upper(), sorted(known))
    raise InputError(f"unknown currency {raw!r}: not an ISO 4217 code{hint}", field=field)


def _open_calendar(name: str) -> Any:
    """The calendar from :data:`CALENDAR_START`, or from the first year it records.

    Some calendars begin later (Tokyo 1997, Saudi 2021); asking for 1990 fails for those, so
    their own lower bound, rounded up to a whole year, is used instead.
    """
    import exchange_calendars as xcals

    try:
        return xcals.get_calendar(name, start=CALENDAR_START)
    except ValueError:
        pass
    bound = type(xcals.get_calendar(name)).bound_min()
    year = bound.year + (0 if (bound.month, bound.day) == (1, 1) else 1)
    return xcals.get_calendar(name, start=f"{year}-01-01")


def calendar_name(exchange: str) -> str:
    """The trading calendar an exchange code keeps: XNAS and NYSE keep XNYS's sessions."""
    return str(_calendar(exchange.upper()).name)


@lru_cache(maxsize=64)
def _calendar(exchange: str) -> Any:
    import exchange_calendars as xcals

    name = SHARED_CALENDARS.get(exchange, exchange)
    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.13 still uses pandas APIs deprecated in pandas 3.1.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return _open_calendar(name)
    except xcals.errors.InvalidCalendarName:
        _known_code(exchange)
        raise
    except (ValueError, NotImplementedError):
        raise InputError(
            f"exchange_calendars cannot build the {exchange} calendar; name another exchange"
            " that keeps the same sessions",
            field="exchange",
        ) from None


@lru_cache(maxsize=64)
def sessions(exchange: str) -> pl.Series:
    """All sessions of an exchange's calendar as a sorted Date series."""
    cal = _calendar(exchange)
    return pl.Series("date", cal.sessions.values.astype("datetime64[D]"), dtype=pl.Date)


def now() -> dt.datetime:
    """The current time in UTC: the one clock every "not in the future" check reads.

    Tests replace this function to pin the date.
    """
    return dt.datetime.now(dt.UTC)


def today(exchange: str | None = None) -> dt.date:
    """Today's date at an exchange (in its time zone), or in UTC for no exchange."""
    zone = ZoneInfo("UTC") if exchange is None else _calendar(exchange).tz
    return now().astimezone(zone).date()


def today_anywhere() -> dt.date:
    """The latest date on Earth right now (UTC+14), for rows whose time zone is unknown."""
    return now().astimezone(ZoneInfo(LATEST_ZONE)).date()


def last_session_on_or_before(exchange: str, day: dt.date) -> dt.date:
    """Clamp a date to the latest session at or before it (a Saturday as-of means Friday)."""
    s = sessions(exchange)
    idx = s.search_sorted(day, side="right") - 1
    if idx < 0:
        raise InputError(f"{day} is before the first {exchange} session on record", field="as_of")
    value = s[int(idx)]
    assert isinstance(value, dt.date)
    return value


def session_close(exchange: str, day: dt.date) -> dt.datetime | None:
    """When a session ends (UTC, early closes included); None when ``day`` is no session.

    A bar of a session is final only after this moment: before it, the high, low, close and
    volume are still moving.
    """
    cal = _calendar(exchange)
    try:
        if not cal.is_session(day):
            return None
        close = cal.session_close(day)
    except ValueError:  # a day outside the calendar's range is no session it knows
        return None
    moment = close.to_pydatetime()
    assert isinstance(moment, dt.datetime)
    return moment.astimezone(dt.UTC)


def unfinished_session(
    exchange: str, at: dt.datetime | None = None
) -> tuple[dt.date, dt.datetime] | None:
    """The session of an exchange that has not closed at ``at`` (default :func:`now`).

    That is the session of the exchange-local day of ``at``, when the day is a session and its
    close is still ahead (before the open as well as during trading), with its close in UTC.
    Earlier sessions have closed; later days are in the future, which other checks refuse.
    """
    moment = now() if at is None else at
    day = moment.astimezone(_calendar(exchange).tz).date()
    close = session_close(exchange, day)
    return (day, close) if close is not None and moment < close else None


def local_time(exchange: str, moment: dt.datetime) -> str:
    """A moment as the exchange's wall-clock time with its zone: ``16:00 EDT``."""
    return moment.astimezone(_calendar(exchange).tz).strftime("%H:%M %Z")


def as_date(value: object, field: str) -> dt.date | None:
    """The calendar date a user means by ``value``, or None for None.

    Every public function that takes a date reads it through here, so a notebook user can pass
    what their other tools hand them (see :data:`DateLike`) and gets the same error for anything
    else. numpy and pandas are never imported for this: their values are told by type name.

    Raises
    ------
    InputError
        When ``value`` is not a date (or is NaT), naming ``field``.
    """
    if value is None:
        return None
    kind = type(value)
    if kind.__name__ == "NaTType" or (kind.__name__ == "float" and value != value):
        raise InputError("a missing date (NaT or NaN) is not a date; pass a real one", field=field)
    if isinstance(value, dt.datetime):  # before date: a datetime is a date, pandas.Timestamp too
        return value.date()
    if isinstance(value, dt.date):
        return value
    if kind.__name__ == "datetime64" and kind.__module__ == "numpy":
        day = value.astype("datetime64[D]").item()  # type: ignore[attr-defined]
        if not isinstance(day, dt.date):  # NaT, or a day outside datetime.date's range
            raise InputError(f"{value!r} is not a date; pass a real date", field=field)
        return day
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(text).date()
        except ValueError:
            raise InputError(
                f"{value!r} is not a date; expected YYYY-MM-DD, e.g. 2026-01-02", field=field
            ) from None
    raise InputError(
        f"{value!r} ({kind.__name__}) is not a date; pass YYYY-MM-DD text, a datetime.date, "
        "a datetime, a numpy.datetime64 or a pandas.Timestamp",
        field=field,
    )


def required_date(value: object, field: str) -> dt.date:
    """:func:`as_date` for a parameter that has no default: None is refused, naming ``field``."""
    day = as_date(value, field)
    if day is None:
        raise InputError("a date is required here, e.g. 2026-01-02", field=field)
    return day
