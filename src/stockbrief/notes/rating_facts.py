"""The technical rating of the day as facts: a cross-check a reader knows from TradingView.

The rating counts textbook signals; the verdict rests on the event study and never reads these
facts. Computed by :mod:`stockbrief.rating` over the ticker's bars up to the as-of session.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from stockbrief import rating

# The module, not its names: facts.py imports this one to hook the rating in.
from stockbrief.notes import facts

NAMES: Final[dict[str, str]] = {
    **{f"sma_{n}": f"SMA ({n})" for n in rating.MA_LENGTHS},
    **{f"ema_{n}": f"EMA ({n})" for n in rating.MA_LENGTHS},
    "ichimoku_base": "Ichimoku base line (9, 26, 52, 26)",
    "vwma_20": "VWMA (20)",
    "hull_9": "Hull MA (9)",
    "rsi_14": "RSI (14)",
    "stoch_14_3_3": "Stochastic %K (14, 3, 3)",
    "cci_20": "CCI (20)",
    "adx_14": "ADX (14)",
    "awesome_oscillator": "Awesome Oscillator",
    "momentum_10": "Momentum (10)",
    "macd_12_26_9": "MACD (12, 26, 9)",
    "stoch_rsi_3_3_14_14": "Stochastic RSI K (3, 3, 14, 14)",
    "williams_r_14": "Williams %R (14)",
    "bull_bear_power_13": "Bull Bear Power (13)",
    "ultimate_7_14_28": "Ultimate Oscillator (7, 14, 28)",
}
"""How the facts name each component (German in the glossary's text values)."""

VOTES: Final[dict[int, str]] = {1: "buy", 0: "neutral", -1: "sell"}

_METHOD: Final = "TradingView's Technical Ratings method; a cross-check, not the verdict"

MA_RULE: Final = (
    "each average votes buy when below the close, sell when above: SMA and EMA of 10, 20, 30,"
    " 50, 100 and 200 closes (EMA seeded by the SMA), the Ichimoku base line (midpoint of the 26"
    " sessions' highest high and lowest low), VWMA (20) and Hull MA (9); a component without a"
    " value on the day does not vote"
)
OSCILLATOR_RULE: Final = (
    "RSI (14): buy below 30 and rising, sell above 70 and falling; Stochastic (14, 3, 3): buy"
    " with %K and %D below 20 and %K above %D, sell with both above 80 and %K below %D;"
    " CCI (20): buy below -100 and rising, sell above 100 and falling; ADX (14): buy above 20"
    " and rising with +DI above -DI, sell likewise with +DI below -DI; Awesome Oscillator: buy on"
    " a cross above zero or a saucer above it, sell on a cross below or a saucer below;"
    " Momentum (10): buy rising, sell falling; MACD (12, 26, 9): buy above its signal line, sell"
    " below; Stochastic RSI: buy in a downtrend with K and D below 20 and K above D, sell in an"
    " uptrend with both above 80 and K below D; Williams %R (14): buy below -80 and rising, sell"
    " above -20 and falling; Bull Bear Power (13): buy in an uptrend with bear power below zero"
    " and rising, sell in a downtrend with bull power above zero and falling; Ultimate"
    " Oscillator (7, 14, 28): buy above 70, sell below 30; uptrend = close above its SMA (50);"
    " rising and falling against the session before"
)


def _bands(thresholds: rating.Thresholds) -> str:
    weak, strong = rating.NEUTRAL_BAND, rating.STRONG_BAND
    if thresholds == "tradingview":
        return (
            f"strong sell below -{strong:g}, sell from -{strong:g} to below -{weak:g}, neutral"
            f" from -{weak:g} to {weak:g}, buy above {weak:g} to {strong:g}, strong buy above"
            f" {strong:g}"
        )
    return (
        f"strong sell to -{strong:g}, sell above -{strong:g} to -{weak:g}, neutral between"
        f" -{weak:g} and {weak:g}, buy from {weak:g} to below {strong:g}, strong buy from"
        f" {strong:g}"
    )


def _votes(components: tuple[rating.Component, ...]) -> list[dict[str, Any]]:
    return [
        {
            "indicator": NAMES.get(c.name, c.name),
            "value": c.value,
            "vote": VOTES[c.vote] if c.vote is not None else None,
        }
        for c in components
    ]


def add_rating(
    sheet: facts.FactSheet,
    frame: pl.DataFrame,
    thresholds: rating.Thresholds = rating.DEFAULT_THRESHOLDS,
) -> None:
    """The summary, moving-average and oscillator ratings of the sheet's day with their labels,
    and every component's value and vote; nothing before the first bar with both groups."""
    if frame.height == 0:
        return
    high, low, close, volume = (
        frame[k].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        for k in ("high", "low", "close", "volume")
    )
    result = rating.rate(high, low, close, volume, thresholds=thresholds)
    if result.summary is None:
        return
    src = facts.Source("bars", (sheet.ticker,), frame["date"][0], sheet.as_of)
    labels = f"scheme {thresholds}: {_bands(thresholds)}"
    sheet.add(
        "rating_summary",
        result.summary,
        "index",
        src,
        f"mean of the moving-average and oscillator ratings, from -1 to 1 ({_METHOD})",
    )
    sheet.add("rating_label", result.label, "text", src, f"the summary rating in words; {labels}")
    sheet.add(
        "rating_ma",
        result.ma,
        "index",
        src,
        "mean of the votes of 15 moving averages (buy 1, neutral 0, sell -1)",
    )
    sheet.add("rating_ma_label", result.ma_label, "text", src, f"in words; {labels}")
    sheet.add(
        "rating_oscillators",
        result.oscillators,
        "index",
        src,
        "mean of the votes of 11 oscillators (buy 1, neutral 0, sell -1)",
    )
    sheet.add(
        "rating_oscillators_label", result.oscillators_label, "text", src, f"in words; {labels}"
    )
    sheet.add(
        "rating_ma_votes",
        _votes(result.group("ma")),
        "list",
        src,
        f"indicator, its value on the day, its vote: {MA_RULE}",
    )
    sheet.add(
        "rating_oscillator_votes",
        _votes(result.group("oscillator")),
        "list",
        src,
        f"indicator, its value on the day, its vote: {OSCILLATOR_RULE}",
    )
