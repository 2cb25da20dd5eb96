"""The frame-based event detectors, kept as the reference the array detectors must match.

Each event kind is a Polars expression over shifted helper columns, and ``detail`` is a JSON
object of the numbers behind the event and the parameters used: the definitions and output of
``stockbrief.detectors`` before detection moved into numba kernels and typed columns. Tests compare
``stockbrief.detectors.with_detail(stockbrief.detectors.detect(frame))`` with :func:`detect` here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from stockbrief.detectors import THRESHOLDS

EVENTS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "kind": pl.String(),
    "value": pl.Float64(),
    "detail": pl.String(),
}


CONFIRM: Final = int(THRESHOLDS["breakout_confirm_sessions"].value)
DIVERGENCE: Final = int(THRESHOLDS["obv_divergence_sessions"].value)
LOOKBACK: Final = max(CONFIRM + 1, DIVERGENCE)
"""Rows before the current one that any detector reads."""

AVERAGES: Final = ("sma_50", "sma_200")


PREVIOUS: Final = (
    "close",
    "high",
    "low",
    "sma_50",
    "sma_200",
    "high_52w",
    "low_52w",
    "volatility_60",
    "adx_14",
    "stoch_k_14",
    "stoch_d_14",
    "sar",
    "donchian_high_20",
    "donchian_low_20",
)
"""Columns whose previous-session value detectors read."""

BACK: Final = ("close", "obv")
"""Columns whose values of each of the DIVERGENCE sessions before detectors read."""


def _prepare(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add the shifted helper columns every detector reads, computed once.

    The frame is sorted by ticker and date, so "n rows earlier for the same ticker" is a plain
    shift masked where the ticker changes; no window groups are needed.
    """
    same = {n: pl.col("ticker") == pl.col("ticker").shift(n) for n in range(1, LOOKBACK + 1)}
    staged = frame.with_columns(
        *(same[n].alias(f"__same_{n}") for n in same),
        *(
            (pl.col("close") > pl.col(level)).fill_null(False).alias(f"__above_{level}")
            for level in AVERAGES
        ),
        *(
            (pl.col("close") <= pl.col(level)).fill_null(False).alias(f"__below_{level}")
            for level in AVERAGES
        ),
    )
    return staged.with_columns(
        *(
            pl.when(pl.col(f"__same_{n}"))
            .then(pl.col(f"__{side}_{level}").shift(n))
            .otherwise(False)
            .alias(f"__{side}_{level}_{n}")
            for side in ("above", "below")
            for level in AVERAGES
            for n in range(1, LOOKBACK + 1)
        ),
        *(
            pl.when(pl.col("__same_1")).then(pl.col(c).shift(1)).alias(f"__prev_{c}")
            for c in PREVIOUS
        ),
        *(
            pl.when(pl.col(f"__same_{n}")).then(pl.col(c).shift(n)).alias(f"__back_{c}_{n}")
            for c in BACK
            for n in range(1, DIVERGENCE + 1)
        ),
    )


def _back(column: str) -> list[pl.Expr]:
    """The column's values 1..DIVERGENCE rows earlier (null across tickers)."""
    return [pl.col(f"__back_{column}_{n}") for n in range(1, DIVERGENCE + 1)]


def _prev(column: str) -> pl.Expr:
    return pl.col(f"__prev_{column}")


@dataclass(frozen=True)
class EventKind:
    """One kind of event: when it fires, its value, the numbers kept beside it, and the
    parameters it was detected with (written into every event's ``detail``)."""

    name: str
    meaning: str
    fires: pl.Expr
    value: pl.Expr
    detail: Mapping[str, pl.Expr]
    params: Mapping[str, float] = field(default_factory=dict)


def _above(level: str, n: int = 0) -> pl.Expr:
    """Closed above ``level`` ``n`` rows ago."""
    return pl.col(f"__above_{level}" + (f"_{n}" if n else ""))


def _below(level: str, n: int) -> pl.Expr:
    """Closed at or below ``level`` ``n`` rows ago, the average being defined then."""
    return pl.col(f"__below_{level}" + (f"_{n}" if n else ""))


def _cross_above(level: str, n: int = 0) -> pl.Expr:
    """Crossed above ``level`` ``n`` rows ago."""
    return _above(level, n) & _below(level, n + 1)


def _streak(level: str, n: int = 0) -> pl.Expr:
    """Consecutive closes above ``level`` ending ``n`` rows ago, counted up to CONFIRM."""
    acc = _above(level, n).cast(pl.Int32)
    total = acc
    for j in range(1, CONFIRM):
        acc = acc * _above(level, n + j).cast(pl.Int32)
        total = total + acc
    return total


def _crossing_kinds(level: str) -> list[EventKind]:
    margin = pl.col("close") / pl.col(level) - 1
    days = level.split("_")[1]
    crossed_below = _below(level, 0) & _above(level, 1)
    confirmed = (_streak(level) == CONFIRM) & _cross_above(level, CONFIRM - 1)
    prev_streak = _streak(level, 1)
    failed = crossed_below & pl.any_horizontal(
        (prev_streak == k) & _cross_above(level, k) for k in range(1, CONFIRM)
    )
    level_detail = {"level": pl.col(level), "close": pl.col("close")}
    window = {"window": float(days)}
    confirm = {**window, "confirm_sessions": float(CONFIRM)}
    return [
        EventKind(
            f"cross_above_{level}",
            f"close crossed above its {days}-day average",
            _cross_above(level),
            margin,
            level_detail,
            window,
        ),
        EventKind(
            f"cross_below_{level}",
            f"close crossed below its {days}-day average",
            crossed_below,
            margin,
            level_detail,
            window,
        ),
        EventKind(
            f"breakout_confirmed_{level}",
            f"{CONFIRM} closes in a row above the {days}-day average after crossing it",
            confirmed,
            margin,
            level_detail,
            confirm,
        ),
        EventKind(
            f"breakout_failed_{level}",
            f"close fell back below the {days}-day average within {CONFIRM - 1} sessions"
            " of crossing above it",
            failed,
            margin,
            {**level_detail, "sessions_held": prev_streak},
            confirm,
        ),
    ]


def _kinds() -> dict[str, EventKind]:
    sigma = THRESHOLDS["large_move_sigma"].value
    gap = THRESHOLDS["gap_min"].value
    surge = THRESHOLDS["volume_surge_rel_volume"].value
    spread = pl.col("sma_50") / pl.col("sma_200") - 1
    prior_vol = _prev("volatility_60")
    move = (pl.col("return_1d") / prior_vol).fill_nan(None)
    gap_size = pl.col("open") / _prev("close") - 1
    kinds = [kind for level in AVERAGES for kind in _crossing_kinds(level)]
    kinds += [
        EventKind(
            "golden_cross",
            "50-day average crossed above the 200-day average",
            (spread > 0) & (_prev("sma_50") <= _prev("sma_200")),
            spread,
            {"sma_50": pl.col("sma_50"), "sma_200": pl.col("sma_200")},
            {"fast": 50.0, "slow": 200.0},
        ),
        EventKind(
            "death_cross",
            "50-day average crossed below the 200-day average",
            (spread < 0) & (_prev("sma_50") >= _prev("sma_200")),
            spread,
            {"sma_50": pl.col("sma_50"), "sma_200": pl.col("sma_200")},
            {"fast": 50.0, "slow": 200.0},
        ),
        EventKind(
            "volume_surge",
            f"volume at least {surge:g}x the typical volume",
            pl.col("rel_volume") >= surge,
            pl.col("rel_volume"),
            {"volume": pl.col("volume"), "typical_volume": pl.col("typical_volume_50")},
            {"min_rel_volume": surge, "window": 50.0},
        ),
        EventKind(
            "large_move_up",
            f"daily gain beyond {sigma:g} standard deviations of recent returns",
            move >= sigma,
            pl.col("return_1d"),
            {"sigma": move, "volatility": prior_vol},
            {"min_sigma": sigma, "window": 60.0},
        ),
        EventKind(
            "large_move_down",
            f"daily loss beyond {sigma:g} standard deviations of recent returns",
            move <= -sigma,
            pl.col("return_1d"),
            {"sigma": move, "volatility": prior_vol},
            {"min_sigma": sigma, "window": 60.0},
        ),
        EventKind(
            "gap_up",
            f"opened above the previous high, at least {gap:.0%} above the previous close",
            (pl.col("open") > _prev("high")) & (gap_size >= gap),
            gap_size,
            {"open": pl.col("open"), "previous_high": _prev("high")},
            {"min_gap": gap},
        ),
        EventKind(
            "gap_down",
            f"opened below the previous low, at least {gap:.0%} below the previous close",
            (pl.col("open") < _prev("low")) & (gap_size <= -gap),
            gap_size,
            {"open": pl.col("open"), "previous_low": _prev("low")},
            {"min_gap": gap},
        ),
        EventKind(
            "new_52w_high",
            "traded above the highest high of the previous 52 weeks",
            pl.col("high") > _prev("high_52w"),
            pl.col("high"),
            {"previous_high_52w": _prev("high_52w")},
            {"window": 252.0},
        ),
        EventKind(
            "new_52w_low",
            "traded below the lowest low of the previous 52 weeks",
            pl.col("low") < _prev("low_52w"),
            pl.col("low"),
            {"previous_low_52w": _prev("low_52w")},
            {"window": 252.0},
        ),
    ]
    kinds += _indicator_kinds()
    return {k.name: k for k in kinds}


def _indicator_kinds() -> list[EventKind]:
    adx = THRESHOLDS["adx_trend_level"].value
    low, high = THRESHOLDS["stoch_oversold"].value, THRESHOLDS["stoch_overbought"].value
    k, d, close = pl.col("stoch_k_14"), pl.col("stoch_d_14"), pl.col("close")
    stoch = {"period": 14.0, "slow_k": 3.0, "slow_d": 3.0}
    stoch_detail = {"stoch_d": d, "stoch_k": k}
    sar = {"acceleration": 0.02, "maximum": 0.2}
    closes, obvs = _back("close"), _back("obv")
    lowest = pl.all_horizontal(close < c for c in closes)
    highest = pl.all_horizontal(close > c for c in closes)
    obv_not_lowest = pl.any_horizontal(pl.col("obv") > o for o in obvs)
    obv_not_highest = pl.any_horizontal(pl.col("obv") < o for o in obvs)
    low_close, high_close = pl.min_horizontal(closes), pl.max_horizontal(closes)
    upper, lower = _prev("donchian_high_20"), _prev("donchian_low_20")
    days = {"window": float(DIVERGENCE)}
    return [
        EventKind(
            "adx_trend_start",
            "",
            (pl.col("adx_14") > adx) & (_prev("adx_14") <= adx),
            pl.col("adx_14"),
            {"di_spread": pl.col("plus_di_14") - pl.col("minus_di_14")},
            {"window": 14.0, "level": adx},
        ),
        EventKind(
            "stoch_oversold_cross",
            "",
            (k > d) & (_prev("stoch_k_14") <= _prev("stoch_d_14")) & (k < low) & (d < low),
            k - d,
            stoch_detail,
            {**stoch, "level": low},
        ),
        EventKind(
            "stoch_overbought_cross",
            "",
            (k < d) & (_prev("stoch_k_14") >= _prev("stoch_d_14")) & (k > high) & (d > high),
            k - d,
            stoch_detail,
            {**stoch, "level": high},
        ),
        EventKind(
            "sar_flip_up",
            "",
            (pl.col("sar") < close) & (_prev("sar") >= _prev("close")),
            close / pl.col("sar") - 1,
            {"sar": pl.col("sar"), "close": close},
            sar,
        ),
        EventKind(
            "sar_flip_down",
            "",
            (pl.col("sar") > close) & (_prev("sar") <= _prev("close")),
            close / pl.col("sar") - 1,
            {"sar": pl.col("sar"), "close": close},
            sar,
        ),
        EventKind(
            "obv_divergence_bull",
            "",
            lowest & obv_not_lowest,
            close / low_close - 1,
            {"previous_low_close": low_close, "close": close},
            days,
        ),
        EventKind(
            "obv_divergence_bear",
            "",
            highest & obv_not_highest,
            close / high_close - 1,
            {"previous_high_close": high_close, "close": close},
            days,
        ),
        EventKind(
            "donchian_breakout_up",
            "",
            close > upper,
            close / upper - 1,
            {"previous_upper": upper, "close": close},
            {"window": 20.0},
        ),
        EventKind(
            "donchian_breakout_down",
            "",
            close < lower,
            close / lower - 1,
            {"previous_lower": lower, "close": close},
            {"window": 20.0},
        ),
    ]


EVENT_KINDS: Final[Mapping[str, EventKind]] = _kinds()
"""Every detector over bars and indicators, by name."""


def detect(
    frame: pl.DataFrame,
    kinds: Mapping[str, EventKind] | None = None,
    *,
    since: dt.date | None = None,
) -> pl.DataFrame:
    """Events found in a universe frame of bars and indicators.

    Parameters
    ----------
    frame
        Sorted by ticker and date, with the columns of the default indicator set.
    kinds
        Which detectors to run (default: all of :data:`EVENT_KINDS`).
    since
        Keep only events dated on or after this date (the rows before are context).

    Returns
    -------
    polars.DataFrame
        ``ticker, date, kind, value, detail`` sorted by ticker, date and kind; ``detail`` is a
        JSON object of the numbers behind the event and the thresholds used.
    """
    chosen = EVENT_KINDS if kinds is None else kinds
    if frame.is_empty() or not chosen:
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    parts = [_detect_chunk(chunk, chosen, since) for chunk in _ticker_chunks(frame)]
    return pl.concat(parts).sort("ticker", "date", "kind")


CHUNK_ROWS: Final = 1_000_000
"""Rows evaluated at once; bounds the memory of the wide intermediate frame."""


def _ticker_chunks(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Slices of about CHUNK_ROWS rows that never split a ticker."""
    if frame.height <= CHUNK_ROWS:
        return [frame]
    ends = frame.group_by("ticker", maintain_order=True).len()["len"].cum_sum().to_list()
    chunks, start, limit = [], 0, CHUNK_ROWS
    for end in ends:
        if end >= limit or end == ends[-1]:
            chunks.append(frame.slice(start, end - start))
            start, limit = end, end + CHUNK_ROWS
    return chunks


def _detect_chunk(
    frame: pl.DataFrame, chosen: Mapping[str, EventKind], since: dt.date | None
) -> pl.DataFrame:
    # One pass computes every flag, value and detail (they read earlier rows, so before any
    # filtering); the common sub-expressions (shifted columns) are shared.
    wide = _prepare(frame.lazy()).select(
        "ticker",
        "date",
        *(k.fires.fill_null(False).alias(f"fires:{n}") for n, k in chosen.items()),
        *(k.value.cast(pl.Float64).alias(f"value:{n}") for n, k in chosen.items()),
        *(
            pl.struct(
                [
                    *(expr.alias(key) for key, expr in k.detail.items()),
                    *(pl.lit(value, pl.Float64).alias(key) for key, value in k.params.items()),
                ]
            ).alias(f"detail:{n}")
            for n, k in chosen.items()
        ),
    )
    if since is not None:
        wide = wide.filter(pl.col("date") >= since)
    flagged = wide.filter(pl.any_horizontal(pl.col(f"fires:{n}") for n in chosen)).collect()
    flagged_lazy = flagged.lazy()
    return pl.concat(
        [
            flagged_lazy.filter(pl.col(f"fires:{n}")).select(
                "ticker",
                "date",
                pl.lit(n).alias("kind"),
                pl.col(f"value:{n}").alias("value"),
                pl.col(f"detail:{n}").struct.json_encode().alias("detail"),
            )
            for n in chosen
        ]
    ).collect()
