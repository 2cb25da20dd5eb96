"""What a figure of the bars is under each convention a writer may use.

The default of each metric is the project's (DESIGN §6: an SMA of N is the mean of the N closes
up to and including the day; typical volume is the mean of the 50 sessions before the day; a
52-week high is the highest intraday high of the last 252 sessions; RSI is Wilder's). Other
conventions are in wide use and are tried, and named, when the default misses: an average of
N *calendar* days (about 138 sessions for 200 days), average volume over 10, 20, 30, 50, 63 or 65
sessions before or including the day, or over three calendar months, 52-week extremes of closes
rather than intraday prices, or over 250, 253 or 260 sessions or 365 calendar days, an RSI of
plain averages (Cutler's) or of an exponential average.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray = npt.NDArray[np.float64]

VOLUME_WINDOWS: Final = (50, 10, 20, 30, 63, 65, 90)
"""Sessions of average volume tried when a note names none; 50 first (the project's)."""
WEEK_SESSIONS: Final = (250, 253, 260, 251)
"""Other session counts writers use for a 52-week window, after the default 252."""


@dataclass(frozen=True)
class Value:
    """One reading of a metric: the value, the convention (None for the default), the source."""

    value: float
    convention: str | None
    source: str


class Bars:
    """One ticker's daily bars up to the as-of session, as arrays for quick windows."""

    def __init__(self, ticker: str, frame: pl.DataFrame) -> None:
        frame = frame.sort("date")
        self.ticker = ticker
        self.dates: list[dt.date] = frame["date"].to_list()
        self.open: FloatArray = frame["open"].to_numpy().astype(np.float64)
        self.high: FloatArray = frame["high"].to_numpy().astype(np.float64)
        self.low: FloatArray = frame["low"].to_numpy().astype(np.float64)
        self.close: FloatArray = frame["close"].to_numpy().astype(np.float64)
        self.volume: FloatArray = frame["volume"].to_numpy().astype(np.float64)

    def __len__(self) -> int:
        return len(self.dates)

    def session(self, as_of: dt.date, *, back: int = 0, weekday: int | None = None) -> int | None:
        """Index of the as-of session (the last on or before ``as_of``), of one ``back``
        sessions earlier, or of the latest session on ``weekday`` within the week before."""
        i = (
            int(
                np.searchsorted(
                    np.array(self.dates, dtype="datetime64[D]"), np.datetime64(as_of), "right"
                )
            )
            - 1
        )
        if i < 0:
            return None
        if weekday is not None and self.dates[i].weekday() != weekday:
            for j in range(i, max(-1, i - 6), -1):
                if self.dates[j].weekday() == weekday and (self.dates[i] - self.dates[j]).days < 7:
                    return j
            return None
        i -= back
        return i if i >= 0 else None

    def span(self, first: int, last: int, what: str) -> str:
        """A source line: table, ticker, dates and formula."""
        first = max(first, 0)
        return f"bars {self.ticker} {self.dates[first]}..{self.dates[last]}: {what}"

    # -- averages ------------------------------------------------------------------------------

    def sma(self, n: int, i: int) -> Iterator[Value]:
        """SMA of N: sessions up to the day, then N calendar days, then sessions before it."""
        if i + 1 >= n:
            yield Value(
                float(self.close[i - n + 1 : i + 1].mean()),
                None,
                self.span(i - n + 1, i, f"mean of the {n} closes up to and including the day"),
            )
        first = self._calendar_start(i, n)
        if first is not None:
            yield Value(
                float(self.close[first : i + 1].mean()),
                f"{n} calendar days",
                self.span(
                    first,
                    i,
                    f"mean of the {i - first + 1} closes of the {n} calendar days to the day",
                ),
            )
        if i >= n:
            yield Value(
                float(self.close[i - n : i].mean()),
                f"{n} sessions before the day",
                self.span(i - n, i - 1, f"mean of the {n} closes before the day"),
            )

    def _calendar_start(self, i: int, days: int) -> int | None:
        start = self.dates[i] - dt.timedelta(days=days)
        if self.dates[0] > start:
            return None
        j = i
        while j > 0 and self.dates[j - 1] > start:
            j -= 1
        return j

    @cached_property
    def _ema_cache(self) -> dict[int, tuple[FloatArray, FloatArray]]:
        return {}

    def ema(self, n: int, i: int) -> Iterator[Value]:
        """EMA of N as TA-Lib seeds it (an SMA of the first N), then seeded by the first close."""
        if n not in self._ema_cache:
            self._ema_cache[n] = (
                _ema(self.close, n, sma_seed=True),
                _ema(self.close, n, sma_seed=False),
            )
        talib, first = self._ema_cache[n]
        if not np.isnan(talib[i]):
            yield Value(
                float(talib[i]), None, self.span(0, i, f"EMA {n}, k = 2/(N+1), seeded by an SMA")
            )
        yield Value(
            float(first[i]),
            "seeded by the first close",
            self.span(0, i, f"EMA {n} seeded by the first close"),
        )

    def average_volume(self, i: int, window: int | None, months: bool) -> Iterator[Value]:
        """Mean volume: the named window (or every common one), before or including the day."""
        windows = (window,) if window else VOLUME_WINDOWS
        for n in windows:
            if i >= n:
                label = None if (n == 50 and window is None) else f"{n} sessions before the day"
                yield Value(
                    float(self.volume[i - n : i].mean()),
                    label,
                    self.span(i - n, i - 1, f"mean volume of the {n} sessions before the day"),
                )
            if i + 1 >= n:
                yield Value(
                    float(self.volume[i - n + 1 : i + 1].mean()),
                    f"{n} sessions including the day",
                    self.span(
                        i - n + 1, i, f"mean volume of the {n} sessions up to and including the day"
                    ),
                )
        if months or window is None:
            for days, name in ((91, "3 calendar months"), (30, "1 calendar month")):
                first = self._calendar_start(i, days)
                if first is not None:
                    yield Value(
                        float(self.volume[first : i + 1].mean()),
                        name,
                        self.span(first, i, f"mean volume of the {name} to the day"),
                    )

    # -- 52 weeks ------------------------------------------------------------------------------

    def extreme_52w(self, i: int, high: bool) -> Iterator[Value]:
        """52-week high or low: 252 sessions of intraday extremes first, then other windows."""
        pick = np.max if high else np.min
        word = "high" if high else "low"
        intraday = self.high if high else self.low
        if i + 1 >= 252:
            yield Value(
                float(pick(intraday[i - 251 : i + 1])),
                None,
                self.span(
                    i - 251,
                    i,
                    f"{'highest' if high else 'lowest'} {word} of the last 252 sessions,"
                    " the day included",
                ),
            )
        n0 = min(252, i + 1)
        yield Value(
            float(pick(self.close[i - n0 + 1 : i + 1])),
            "closes, not intraday extremes",
            self.span(
                i - n0 + 1, i, f"{'highest' if high else 'lowest'} close of the last {n0} sessions"
            ),
        )
        for n in WEEK_SESSIONS:
            if i + 1 >= n:
                yield Value(
                    float(pick(intraday[i - n + 1 : i + 1])),
                    f"{n} sessions",
                    self.span(i - n + 1, i, f"{word} of the last {n} sessions"),
                )
                yield Value(
                    float(pick(self.close[i - n + 1 : i + 1])),
                    f"closes of {n} sessions",
                    self.span(i - n + 1, i, f"close {word} of the last {n} sessions"),
                )
        first = self._calendar_start(i, 365)
        if first is not None:
            yield Value(
                float(pick(intraday[first : i + 1])),
                "365 calendar days",
                self.span(first, i, f"{word} of the 365 calendar days to the day"),
            )
            yield Value(
                float(pick(self.close[first : i + 1])),
                "closes of 365 calendar days",
                self.span(first, i, f"close {word} of the 365 calendar days"),
            )
        if i >= 252:
            yield Value(
                float(pick(intraday[i - 252 : i])),
                "252 sessions before the day",
                self.span(i - 252, i - 1, f"{word} of the 252 sessions before the day"),
            )
        year = self.dates[i].year
        first_of_year = next((j for j in range(i, -1, -1) if self.dates[j].year < year), -1) + 1
        if first_of_year <= i:
            yield Value(
                float(pick(intraday[first_of_year : i + 1])),
                "since the start of the year",
                self.span(first_of_year, i, f"{word} since the start of {year}"),
            )

    # -- RSI -------------------------------------------------------------------------------

    def rsi(self, i: int, n: int = 14) -> Iterator[Value]:
        """RSI: Wilder's (TA-Lib's), then Cutler's plain averages, then an exponential one."""
        if i < n:
            return
        if "_wilder" not in self.__dict__:
            self.__dict__["_wilder"] = _rsi_wilder(self.close, n)
        wilder: FloatArray = self.__dict__["_wilder"]
        yield Value(float(wilder[i]), None, self.span(0, i, f"Wilder's RSI over {n} sessions"))
        d = np.diff(self.close[i - n : i + 1])
        gain, loss = d[d > 0].sum() / n, -d[d < 0].sum() / n
        if gain + loss > 0:
            yield Value(
                float(100 * gain / (gain + loss)),
                "plain averages (Cutler)",
                self.span(i - n, i, f"RSI of plain {n}-session averages"),
            )
        delta = np.diff(self.close[: i + 1])
        up = _ema(np.where(delta > 0, delta, 0.0), n, sma_seed=True)
        down = _ema(np.where(delta < 0, -delta, 0.0), n, sma_seed=True)
        if up[-1] + down[-1] > 0:
            yield Value(
                float(100 * up[-1] / (up[-1] + down[-1])),
                "exponential averages",
                self.span(0, i, f"RSI of {n}-session EMAs"),
            )


def _ema(x: FloatArray, n: int, *, sma_seed: bool) -> FloatArray:
    out = np.full(len(x), np.nan)
    if len(x) == 0:
        return out
    k = 2.0 / (n + 1)
    if sma_seed:
        if len(x) < n:
            return out
        acc = float(x[:n].mean())
        out[n - 1] = acc
        start = n
    else:
        acc = float(x[0])
        out[0] = acc
        start = 1
    for t in range(start, len(x)):
        acc = (x[t] - acc) * k + acc
        out[t] = acc
    return out


def _rsi_wilder(close: FloatArray, n: int) -> FloatArray:
    """Wilder's RSI as TA-Lib computes it from the first bar (the kernels' convention)."""
    out = np.full(len(close), np.nan)
    if len(close) <= n:
        return out
    d = np.diff(close)
    gains = np.where(d > 0, d, 0.0)
    losses = np.where(d < 0, -d, 0.0)
    ag, al = gains[:n].mean(), losses[:n].mean()
    out[n] = 100 * ag / (ag + al) if ag + al >= 1e-8 else 0.0
    for t in range(n + 1, len(close)):
        ag = (ag * (n - 1) + gains[t - 1]) / n
        al = (al * (n - 1) + losses[t - 1]) / n
        out[t] = 100 * ag / (ag + al) if ag + al >= 1e-8 else 0.0
    return out
