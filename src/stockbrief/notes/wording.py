"""The one table of thresholds that turn numbers into words, and the functions that apply it.

Each function returns a key (``"just_above"``, ``"more_than_double"``); the language templates
turn keys into words, so a threshold is changed here for every language at once.
"""

from __future__ import annotations

from typing import Final

WORDING: Final[dict[str, float]] = {
    "just": 0.005,
    "well": 0.03,
    "volume_triple": 3.0,
    "volume_double": 2.0,
    "volume_about_double": 1.9,
    "volume_high": 1.3,
    "volume_low": 0.8,
    "move_big": 0.05,
    "move": 0.01,
    "move_none": 0.0005,
    "rsi_overbought": 70.0,
    "rsi_oversold": 30.0,
    "rsi_band": 5.0,
    "evidence_min_cases": 10,
}
"""Thresholds: margins under ``just`` (0.5%) are "just above/below", over ``well`` (3%) "well
above/below"; relative volume of at least ``volume_triple`` is "more than triple" typical, at least
``volume_double`` "more than double", at least ``volume_about_double`` "about double" (so 1.99x
is never merely "above typical"), at least ``volume_high`` "above typical", at most
``volume_low`` "below typical" (0.75x is a quarter below, not "close to typical"); daily moves
of at least ``move_big`` (5%) "jumped/slumped", at least ``move`` (1%) "rose/fell", less
"edged", and under ``move_none`` (what prints as 0.0%) "unchanged"; RSI at or over 70
"overbought", at or under 30 "oversold", and within ``rsi_band`` of 50 no reason either way;
an event study of fewer than ``evidence_min_cases`` past cases is "too few cases to judge"."""


def position(margin: float) -> str:
    """Where a close stands against a level, from ``close / level - 1``."""
    side = "above" if margin > 0 else "below"
    size = abs(margin)
    if size < WORDING["just"]:
        return f"just_{side}"
    if size > WORDING["well"]:
        return f"well_{side}"
    return side


def volume(rel_volume: float) -> str:
    """How a day's volume compares with the typical volume."""
    if rel_volume >= WORDING["volume_triple"]:
        return "more_than_triple"
    if rel_volume >= WORDING["volume_double"]:
        return "more_than_double"
    if rel_volume >= WORDING["volume_about_double"]:
        return "about_double"
    if rel_volume >= WORDING["volume_high"]:
        return "above_typical"
    if rel_volume <= WORDING["volume_low"]:
        return "below_typical"
    return "typical"


def move(change: float) -> str:
    """The verb of a daily move."""
    if abs(change) < WORDING["move_none"]:
        return "unchanged"
    side = "up" if change > 0 else "down"
    size = abs(change)
    if size >= WORDING["move_big"]:
        return f"big_{side}"
    if size >= WORDING["move"]:
        return side
    return f"small_{side}"


def rsi(value: float) -> str:
    """Overbought, oversold or neutral momentum."""
    if value >= WORDING["rsi_overbought"]:
        return "overbought"
    if value <= WORDING["rsi_oversold"]:
        return "oversold"
    return "neutral"
