"""Event detectors over a computed universe, the thresholds they use, and their parameters.

A detector reads bars plus indicators and flags the rows where something a market note would
mention happened. Detection runs in numba kernels over contiguous arrays laid out as in
:mod:`stockbrief.kernels` (every column one ``float64`` array of all tickers back to back,
``offsets`` delimiting them; NaN means missing), parallel across tickers: one pass per ticker
flags every row with a bit mask of the kinds that fire, a second writes the flagged rows' events
into preallocated columns. Every detector looks back at most :data:`LOOKBACK` rows, so an
incremental update only needs that many rows of context, and no detector ever reads a later row.

An event is a row of fixed, typed columns (:data:`EVENTS_SCHEMA`): what it is measured against
(``level``), the day's number compared with it (``observed``) and the id of the parameters it
was detected with (``params_id``, a key of :data:`EVENT_PARAMS`). :func:`with_detail` spells an
event out as the JSON object a person reads.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief import consensus, jit
from stockbrief.errors import InputError

if TYPE_CHECKING:
    import numba

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EVENTS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "kind": pl.String(),
    "value": pl.Float64(),
    "level": pl.Float64(),
    "observed": pl.Float64(),
    "sessions": pl.Int32(),
    "label": pl.String(),
    "prev_label": pl.String(),
    "params_id": pl.Int32(),
}
"""Columns of every events frame, bar-based or from analysts.

``value`` is the event's headline number, ``level`` the reference it is measured against,
``observed`` the day's number compared with it; ``sessions``, ``label`` and ``prev_label`` are
null where a kind has no use for them. ``params_id`` keys :data:`EVENT_PARAMS`.

===========================  ======================  ====================  =================
kind                         value                   level                 observed
===========================  ======================  ====================  =================
``cross_*``, ``breakout_*``  close / sma_N - 1       sma_N                 close
``golden/death_cross``       sma_50 / sma_200 - 1    sma_200               sma_50
``volume_surge``             rel_volume              typical_volume_50     volume
``large_move_up/down``       return_1d               prior volatility_60   return_1d / level
``gap_up`` (``_down``)       open / prior close - 1  prior high (low)      open
``new_52w_high`` (low)       high (low)              prior high_52w (low)  high (low)
``adx_trend_start``          adx_14                  25 (the threshold)    plus_di - minus_di
``stoch_*_cross``            stoch_k - stoch_d       stoch_d               stoch_k
``sar_flip_up`` (``_down``)  close / sar - 1         sar                   close
``obv_divergence_bull``      close / level - 1       prior 20-close low    close
``obv_divergence_bear``      close / level - 1       prior 20-close high   close
``donchian_breakout_*``      close / level - 1       prior donchian band   close
``consensus_up/downgrade``   mean score              prior mean score      mean score
``target_raised/lowered``    target / prior - 1      prior target          consensus target
===========================  ======================  ====================  =================

"Prior" is the session (or, for analysts, the rating date) before. ``sessions`` is the closes
above the average a ``breakout_failed_*`` held; ``label`` and ``prev_label`` are the consensus
labels after and before a label change. The sign of an ``adx_trend_start``'s ``observed``
gives the trend's direction: positive when +DI leads -DI (buyers lead), negative otherwise.
"""


@dataclass(frozen=True)
class Threshold:
    """A number that turns a measurement into an event, with what it means."""

    value: float
    meaning: str


THRESHOLDS: Final[Mapping[str, Threshold]] = {
    "breakout_confirm_sessions": Threshold(
        3, "closes above the average, the crossing day included, that confirm a breakout"
    ),
    "volume_surge_rel_volume": Threshold(
        2.0, "volume at least this multiple of the mean volume of the 50 sessions before"
    ),
    "large_move_sigma": Threshold(
        2.5, "daily return beyond this many standard deviations of the 60 returns before"
    ),
    "gap_min": Threshold(
        0.01,
        "open beyond the previous high (low) and at least this fraction from the previous close",
    ),
    "adx_trend_level": Threshold(
        25, "ADX(14) above this, after being at or below it the session before: a trend starts"
    ),
    "stoch_oversold": Threshold(
        20, "%K and %D both below this on the day %K crosses above %D: an oversold cross"
    ),
    "stoch_overbought": Threshold(
        80, "%K and %D both above this on the day %K crosses below %D: an overbought cross"
    ),
    "obv_divergence_sessions": Threshold(
        20, "sessions before the day whose closes and OBV a divergence compares the day with"
    ),
}

CONFIRM: Final = int(THRESHOLDS["breakout_confirm_sessions"].value)
DIVERGENCE: Final = int(THRESHOLDS["obv_divergence_sessions"].value)
LOOKBACK: Final = max(CONFIRM + 1, DIVERGENCE)
"""Rows before the current one that any detector reads."""

AVERAGES: Final = ("sma_50", "sma_200")

INPUTS: Final = (
    "open",
    "high",
    "low",
    "close",
    "volume",
    "sma_50",
    "sma_200",
    "rel_volume",
    "typical_volume_50",
    "return_1d",
    "volatility_60",
    "high_52w",
    "low_52w",
    "adx_14",
    "plus_di_14",
    "minus_di_14",
    "stoch_k_14",
    "stoch_d_14",
    "sar",
    "obv",
    "donchian_high_20",
    "donchian_low_20",
)
"""Columns the detectors read, in the order the kernel takes them."""

TypedColumn = Literal["level", "observed", "sessions", "label", "prev_label"]
"""A typed events column that a ``detail`` key is read from."""


@dataclass(frozen=True)
class DetailKey:
    """One key of an event's ``detail`` object and the typed column it is read from."""

    key: str
    column: TypedColumn
    dtype: pl.DataType = field(default_factory=pl.Float64)


@dataclass(frozen=True)
class EventKind:
    """One kind of event over bars and indicators: what it means, the numbers ``detail``
    shows, and the parameters it is detected with (shown in ``detail`` too)."""

    name: str
    meaning: str
    detail: tuple[DetailKey, ...]
    params: Mapping[str, float] = field(default_factory=dict)

    @property
    def params_id(self) -> int:
        """Id of :attr:`params` in :data:`EVENT_PARAMS`."""
        return params_id(self.name, self.params)


def params_id(kind: str, params: Mapping[str, float | str]) -> int:
    """The stable id of an event kind's parameters.

    Notes
    -----
    CRC-32 of the canonical JSON ``[kind, params]`` (keys sorted, numbers as floats), folded
    to a positive ``Int32``: the same parameters give the same id in every run and version, and
    changed thresholds give a new id, so stored events keep pointing at the parameters they were
    found with.
    """
    numbers = {k: v if isinstance(v, str) else float(v) for k, v in params.items()}
    canonical = json.dumps([kind, numbers], sort_keys=True, separators=(",", ":"))
    return zlib.crc32(canonical.encode()) & 0x7FFF_FFFF


def _crossing_kinds(level: str) -> list[EventKind]:
    days = level.split("_")[1]
    against = (DetailKey("level", "level"), DetailKey("close", "observed"))
    window = {"window": float(days)}
    confirm = {**window, "confirm_sessions": float(CONFIRM)}
    return [
        EventKind(
            f"cross_above_{level}",
            f"close crossed above its {days}-day average",
            against,
            window,
        ),
        EventKind(
            f"cross_below_{level}",
            f"close crossed below its {days}-day average",
            against,
            window,
        ),
        EventKind(
            f"breakout_confirmed_{level}",
            f"{CONFIRM} closes in a row above the {days}-day average after crossing it",
            against,
            confirm,
        ),
        EventKind(
            f"breakout_failed_{level}",
            f"close fell back below the {days}-day average within {CONFIRM - 1} sessions"
            " of crossing above it",
            (*against, DetailKey("sessions_held", "sessions", pl.Int32())),
            confirm,
        ),
    ]


def _kinds() -> list[EventKind]:
    """Every detector over bars and indicators."""
    sigma = THRESHOLDS["large_move_sigma"].value
    gap = THRESHOLDS["gap_min"].value
    surge = THRESHOLDS["volume_surge_rel_volume"].value
    averages = (DetailKey("sma_50", "observed"), DetailKey("sma_200", "level"))
    move = (DetailKey("sigma", "observed"), DetailKey("volatility", "level"))
    return [
        *(kind for level in AVERAGES for kind in _crossing_kinds(level)),
        EventKind(
            "golden_cross",
            "50-day average crossed above the 200-day average",
            averages,
            {"fast": 50.0, "slow": 200.0},
        ),
        EventKind(
            "death_cross",
            "50-day average crossed below the 200-day average",
            averages,
            {"fast": 50.0, "slow": 200.0},
        ),
        EventKind(
            "volume_surge",
            f"volume at least {surge:g}x the typical volume",
            (DetailKey("volume", "observed", pl.Int64()), DetailKey("typical_volume", "level")),
            {"min_rel_volume": surge, "window": 50.0},
        ),
        EventKind(
            "large_move_up",
            f"daily gain beyond {sigma:g} standard deviations of recent returns",
            move,
            {"min_sigma": sigma, "window": 60.0},
        ),
        EventKind(
            "large_move_down",
            f"daily loss beyond {sigma:g} standard deviations of recent returns",
            move,
            {"min_sigma": sigma, "window": 60.0},
        ),
        EventKind(
            "gap_up",
            f"opened above the previous high, at least {gap:.0%} above the previous close",
            (DetailKey("open", "observed"), DetailKey("previous_high", "level")),
            {"min_gap": gap},
        ),
        EventKind(
            "gap_down",
            f"opened below the previous low, at least {gap:.0%} below the previous close",
            (DetailKey("open", "observed"), DetailKey("previous_low", "level")),
            {"min_gap": gap},
        ),
        EventKind(
            "new_52w_high",
            "traded above the highest high of the previous 52 weeks",
            (DetailKey("previous_high_52w", "level"),),
            {"window": 252.0},
        ),
        EventKind(
            "new_52w_low",
            "traded below the lowest low of the previous 52 weeks",
            (DetailKey("previous_low_52w", "level"),),
            {"window": 252.0},
        ),
        *_indicator_kinds(),
    ]


def _indicator_kinds() -> list[EventKind]:
    """Detectors over ADX, the stochastics, the parabolic SAR, OBV and the Donchian channel."""
    adx = THRESHOLDS["adx_trend_level"].value
    low, high = THRESHOLDS["stoch_oversold"].value, THRESHOLDS["stoch_overbought"].value
    stoch = {"period": 14.0, "slow_k": 3.0, "slow_d": 3.0}
    stoch_detail = (DetailKey("stoch_d", "level"), DetailKey("stoch_k", "observed"))
    sar = {"acceleration": 0.02, "maximum": 0.2}
    sar_detail = (DetailKey("sar", "level"), DetailKey("close", "observed"))
    band = {"window": 20.0}
    days = {"window": float(DIVERGENCE)}
    return [
        EventKind(
            "adx_trend_start",
            f"ADX(14) rose above {adx:g} after being at or below it the session before; the"
            " trend is up when +DI is above -DI, down otherwise",
            (DetailKey("di_spread", "observed"),),
            {"window": 14.0, "level": adx},
        ),
        EventKind(
            "stoch_oversold_cross",
            f"slow %K (14, 3, 3) crossed above %D, at or below it the session before, with both"
            f" below {low:g}",
            stoch_detail,
            {**stoch, "level": low},
        ),
        EventKind(
            "stoch_overbought_cross",
            f"slow %K (14, 3, 3) crossed below %D, at or above it the session before, with both"
            f" above {high:g}",
            stoch_detail,
            {**stoch, "level": high},
        ),
        EventKind(
            "sar_flip_up",
            "the parabolic SAR (0.02, 0.2) moved below the close, after being at or above it the"
            " session before",
            sar_detail,
            sar,
        ),
        EventKind(
            "sar_flip_down",
            "the parabolic SAR (0.02, 0.2) moved above the close, after being at or below it the"
            " session before",
            sar_detail,
            sar,
        ),
        EventKind(
            "obv_divergence_bull",
            f"closed below each of the {DIVERGENCE} closes before (a new {DIVERGENCE}-session"
            f" closing low) while OBV stayed above at least one of its {DIVERGENCE} values"
            " before (no new low of OBV)",
            (DetailKey("previous_low_close", "level"), DetailKey("close", "observed")),
            days,
        ),
        EventKind(
            "obv_divergence_bear",
            f"closed above each of the {DIVERGENCE} closes before (a new {DIVERGENCE}-session"
            f" closing high) while OBV stayed below at least one of its {DIVERGENCE} values"
            " before (no new high of OBV)",
            (DetailKey("previous_high_close", "level"), DetailKey("close", "observed")),
            days,
        ),
        EventKind(
            "donchian_breakout_up",
            "closed above the upper 20-day Donchian band of the session before (the highest high"
            " of the 20 sessions up to it)",
            (DetailKey("previous_upper", "level"), DetailKey("close", "observed")),
            band,
        ),
        EventKind(
            "donchian_breakout_down",
            "closed below the lower 20-day Donchian band of the session before (the lowest low"
            " of the 20 sessions up to it)",
            (DetailKey("previous_lower", "level"), DetailKey("close", "observed")),
            band,
        ),
    ]


EVENT_KINDS: Final[Mapping[str, EventKind]] = {k.name: k for k in _kinds()}
"""Every detector over bars and indicators, by name."""

MEANINGS: Final[Mapping[str, str]] = {
    **{name: kind.meaning for name, kind in EVENT_KINDS.items()},
    **consensus.CONSENSUS_EVENT_KINDS,
}
"""Every event kind stockbrief reports, bar-based or from analysts, and what it means."""

_LABEL_DETAIL: Final = (
    DetailKey("label", "label", pl.String()),
    DetailKey("prev_label", "prev_label", pl.String()),
    DetailKey("score", "observed"),
)
_TARGET_DETAIL: Final = (DetailKey("target_mean", "observed"), DetailKey("prev_target", "level"))

DETAILS: Final[Mapping[str, tuple[DetailKey, ...]]] = {
    **{name: kind.detail for name, kind in EVENT_KINDS.items()},
    "consensus_upgrade": _LABEL_DETAIL,
    "consensus_downgrade": _LABEL_DETAIL,
    "target_raised": _TARGET_DETAIL,
    "target_lowered": _TARGET_DETAIL,
}
"""The keys of each kind's ``detail`` object (before its parameters) and their columns."""


def _consensus_params() -> dict[int, tuple[str, Mapping[str, float | str]]]:
    """Parameters of the consensus changes: the scheme that named the labels and its window."""
    entries: dict[int, tuple[str, Mapping[str, float | str]]] = {}
    for name, scheme in consensus.SCHEMES.items():
        params: dict[str, float | str] = {"scheme": name, "window_days": float(scheme.window_days)}
        for kind in consensus.CONSENSUS_EVENT_KINDS:
            entries[params_id(kind, params)] = (kind, params)
    return entries


EVENT_PARAMS: Final[Mapping[int, tuple[str, Mapping[str, float | str]]]] = {
    **{kind.params_id: (kind.name, kind.params) for kind in EVENT_KINDS.values()},
    **_consensus_params(),
}
"""``params_id -> (kind, parameters)`` of every event this version detects.

Ids come from :func:`params_id`, so they are stable across runs and change with the thresholds;
a store keeps the entries of the events it holds (``event_params``), so an event found under
older thresholds keeps its parameters.
"""


def params_frame() -> pl.DataFrame:
    """:data:`EVENT_PARAMS` as ``id, kind, params`` (``params`` a JSON object), sorted by id,
    the rows a store writes beside the events."""
    rows = [(i, kind, json.dumps(dict(p))) for i, (kind, p) in sorted(EVENT_PARAMS.items())]
    return pl.DataFrame(
        rows, schema={"id": pl.Int32, "kind": pl.String, "params": pl.String}, orient="row"
    )


# --------------------------------------------------------------------------------------------
# the kernels
# --------------------------------------------------------------------------------------------


_step = jit.step
_kernel = jit.kernel


_OPEN, _HIGH, _LOW, _CLOSE, _VOLUME = 0, 1, 2, 3, 4
_SMA_50, _SMA_200, _REL_VOLUME, _TYPICAL = 5, 6, 7, 8
_RETURN, _VOLATILITY, _HIGH_52W, _LOW_52W = 9, 10, 11, 12
_ADX, _PLUS_DI, _MINUS_DI, _STOCH_K, _STOCH_D = 13, 14, 15, 16, 17
_SAR, _OBV, _DONCHIAN_HIGH, _DONCHIAN_LOW = 18, 19, 20, 21

_NAMES: Final = tuple(sorted(EVENT_KINDS))
"""Kinds by their bit in the kernels' row masks: alphabetical, so the set bits of a row read
from low to high list its events in the order of the ``kind`` column."""
_BIT: Final = {name: bit for bit, name in enumerate(_NAMES)}
_KINDS_MASK: Final = (1 << len(_NAMES)) - 1


def _crossing_bits(level: str) -> tuple[int, int, int, int]:
    kinds = ("cross_above", "cross_below", "breakout_confirmed", "breakout_failed")
    up, down, confirmed, failed = (_BIT[f"{k}_{level}"] for k in kinds)
    return up, down, confirmed, failed


_UP_FAST, _DOWN_FAST, _CONFIRMED_FAST, _FAILED_FAST = _crossing_bits("sma_50")
_UP_SLOW, _DOWN_SLOW, _CONFIRMED_SLOW, _FAILED_SLOW = _crossing_bits("sma_200")
_GOLDEN, _DEATH, _SURGE = _BIT["golden_cross"], _BIT["death_cross"], _BIT["volume_surge"]
_MOVE_UP, _MOVE_DOWN = _BIT["large_move_up"], _BIT["large_move_down"]
_GAP_UP, _GAP_DOWN = _BIT["gap_up"], _BIT["gap_down"]
_NEW_HIGH, _NEW_LOW = _BIT["new_52w_high"], _BIT["new_52w_low"]
_ADX_START = _BIT["adx_trend_start"]
_STOCH_LOW, _STOCH_HIGH = _BIT["stoch_oversold_cross"], _BIT["stoch_overbought_cross"]
_SAR_UP, _SAR_DOWN = _BIT["sar_flip_up"], _BIT["sar_flip_down"]
_OBV_BULL, _OBV_BEAR = _BIT["obv_divergence_bull"], _BIT["obv_divergence_bear"]
_BAND_UP, _BAND_DOWN = _BIT["donchian_breakout_up"], _BIT["donchian_breakout_down"]
_ADX_LEVEL: Final = float(THRESHOLDS["adx_trend_level"].value)
_HELD_FAST, _HELD_SLOW = 48, 52
"""Mask bits (4 each) holding the sessions a failed breakout of each average held."""
if len(_NAMES) > 32 or CONFIRM > 15:
    # 32: the kinds' bits are counted as a 32-bit word (_popcount).
    raise ImportError("the kernels' int64 row masks hold 32 kinds and breakouts of 15 sessions")

_R_FAST, _R_SLOW, _R_AVERAGES, _R_SURGE, _R_MOVE = 0, 1, 2, 3, 4
_R_GAP_UP, _R_GAP_DOWN, _R_HIGH, _R_LOW = 5, 6, 7, 8
_R_ADX, _R_STOCH, _R_SAR, _R_OBV_BULL, _R_OBV_BEAR, _R_BAND_UP, _R_BAND_DOWN = (
    9, 10, 11, 12, 13, 14, 15,
)  # fmt: skip
_ROLE_OF: Final = {
    **{_NAMES[b]: _R_FAST for b in _crossing_bits("sma_50")},
    **{_NAMES[b]: _R_SLOW for b in _crossing_bits("sma_200")},
    "golden_cross": _R_AVERAGES,
    "death_cross": _R_AVERAGES,
    "volume_surge": _R_SURGE,
    "large_move_up": _R_MOVE,
    "large_move_down": _R_MOVE,
    "gap_up": _R_GAP_UP,
    "gap_down": _R_GAP_DOWN,
    "new_52w_high": _R_HIGH,
    "new_52w_low": _R_LOW,
    "adx_trend_start": _R_ADX,
    "stoch_oversold_cross": _R_STOCH,
    "stoch_overbought_cross": _R_STOCH,
    "sar_flip_up": _R_SAR,
    "sar_flip_down": _R_SAR,
    "obv_divergence_bull": _R_OBV_BULL,
    "obv_divergence_bear": _R_OBV_BEAR,
    "donchian_breakout_up": _R_BAND_UP,
    "donchian_breakout_down": _R_BAND_DOWN,
}
_ROLES: Final = np.array([_ROLE_OF[name] for name in _NAMES], dtype=np.int64)
"""Per kind bit, which numbers make its value, level and observed."""


@_step
def _bit(flag: bool) -> int:
    return 1 if flag else 0


@_step
def _gt(a: float, b: float) -> bool:
    # Polars orders NaN (a ratio 0/0) above every number; the detectors are defined on that order.
    return (a > b) | (math.isnan(a) & (not math.isnan(b)))


@_step
def _ge(a: float, b: float) -> bool:
    return (a >= b) | math.isnan(a)


@_step
def _present(a: float, b: float) -> bool:
    return (not math.isnan(a)) & (not math.isnan(b))


@_step
def _popcount(x: int) -> int:
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return ((x * 0x01010101) & 0xFFFFFFFF) >> 24


@_step
def _lowest(x: int) -> int:
    # The index of the lowest set bit (of a 32-bit word): the count of the bits below it.
    return _popcount((x & -x) - 1)


@_step
def _held(above: int, n: int, confirm: int) -> int:
    # Consecutive closes above the average ending n rows ago, counted up to confirm.
    k = 0
    while k < confirm and (above >> (n + k)) & 1:
        k += 1
    return k


@_step
def _crossings(
    above: int, below: int, confirm: int, up: int, down: int, confirmed: int, failed: int, at: int
) -> int:
    # Bit n of above/below: the close n rows ago was above / at or below the average (both 0
    # where the average is missing or the row is another ticker's). Returns the kind bits that
    # fire, and the sessions a failed breakout held in bits at..at+3.
    run = (1 << confirm) - 1
    crossed_down = below & (above >> 1) & 1
    fired = ((above & (below >> 1) & 1) << up) | (crossed_down << down)
    fired |= (_bit((above & run) == run) & (below >> confirm)) << confirmed
    if crossed_down:
        held = _held(above, 1, confirm)
        if held < confirm and (below >> (held + 1)) & 1:
            fired |= (1 << failed) | (held << at)
    return fired


@_step
def _others(
    cols: tuple[FloatArray, ...], j: int, first: bool, surge: float, sigma: float, gap: float
) -> int:
    # Bits of the kinds other than crossings of an average that fire on row j; `first`: row j
    # is its ticker's first, so no row precedes it.
    fired = _bit(cols[_REL_VOLUME][j] >= surge) << _SURGE
    if first:
        return fired
    p = j - 1
    fast, slow = cols[_SMA_50][j], cols[_SMA_200][j]
    pfast, pslow = cols[_SMA_50][p], cols[_SMA_200][p]
    averages = _present(fast, slow) & _present(pfast, pslow)
    spread = fast / slow - 1
    fired |= _bit(averages & _gt(spread, 0.0) & (pfast <= pslow)) << _GOLDEN
    fired |= _bit(averages & _gt(0.0, spread) & (pfast >= pslow)) << _DEATH
    ret, prior = cols[_RETURN][j], cols[_VOLATILITY][p]
    move = ret / prior
    # No return after 60 flat sessions (a suspension) is 0/0: no move, not an infinite one.
    moved = _present(ret, prior) & (not math.isnan(move))
    fired |= _bit(moved & _ge(move, sigma)) << _MOVE_UP
    fired |= _bit(moved & _ge(-sigma, move)) << _MOVE_DOWN
    open_, close = cols[_OPEN][j], cols[_CLOSE][p]
    size = open_ / close - 1
    opened = _present(open_, close)
    fired |= _bit(opened & (open_ > cols[_HIGH][p]) & _ge(size, gap)) << _GAP_UP
    fired |= _bit(opened & (open_ < cols[_LOW][p]) & _ge(-gap, size)) << _GAP_DOWN
    fired |= _bit(cols[_HIGH][j] > cols[_HIGH_52W][p]) << _NEW_HIGH
    fired |= _bit(cols[_LOW][j] < cols[_LOW_52W][p]) << _NEW_LOW
    return fired


@_step
def _block_extremes(close: FloatArray, start: int, end: int, block: int) -> FloatArray:
    # Rows 0/1: the lowest/highest close from the start of each block of `block` rows (counted
    # from `start`) up to each row; rows 2/3: from each row to the end of its block. Any
    # `block` consecutive rows span at most two blocks, so two lookups give their extremes
    # (van Herk, Gil and Werman). A missing close counts as no value; windows holding one are
    # refused by the caller.
    n = end - start
    ext = np.empty((4, n))
    for i in range(n):
        v = close[start + i]
        lo, hi = (np.inf, -np.inf) if math.isnan(v) else (v, v)
        if i % block:
            lo, hi = min(lo, ext[0, i - 1]), max(hi, ext[1, i - 1])
        ext[0, i], ext[1, i] = lo, hi
    for i in range(n - 1, -1, -1):
        v = close[start + i]
        lo, hi = (np.inf, -np.inf) if math.isnan(v) else (v, v)
        if (i + 1) % block and i + 1 < n:
            lo, hi = min(lo, ext[2, i + 1]), max(hi, ext[3, i + 1])
        ext[2, i], ext[3, i] = lo, hi
    return ext


@_step
def _divergence(
    obv: FloatArray, j: int, window: int, c: float, ext: FloatArray, i: int, clean: bool
) -> int:
    # A close beyond each of the `window` closes before while OBV is not beyond each of its
    # values before: the bits of obv_divergence_bull / _bear. Missing values compare false
    # (`clean`: no close before is missing). Row j is row i of its ticker, i >= window; `ext`
    # holds the ticker's block extremes of the closes. OBV is read only for a new closing low
    # or high, and its scan stops at the first value the day's OBV is beyond.
    a, b = i - window, i - 1
    lowest = clean & (c < min(ext[2, a], ext[0, b]))
    highest = clean & (c > max(ext[3, a], ext[1, b]))
    if not (lowest | highest):
        return 0
    o = obv[j]
    beyond = False
    n = 1
    while n <= window and not beyond:
        beyond = (o > obv[j - n]) if lowest else (o < obv[j - n])
        n += 1
    fired = _bit(lowest & beyond) << _OBV_BULL
    return fired | (_bit(highest & beyond) << _OBV_BEAR)


@_step
def _indicator_events(
    cols: tuple[FloatArray, ...],
    j: int,
    start: int,
    adx_level: float,
    oversold: float,
    overbought: float,
) -> int:
    # Bits of the kinds over ADX, stochastics, SAR and Donchian that fire on row j of the
    # ticker whose first row is `start`; every comparison with a missing value is false.
    if j == start:
        return 0
    p = j - 1
    adx, padx = cols[_ADX][j], cols[_ADX][p]
    fired = _bit((adx > adx_level) & (padx <= adx_level)) << _ADX_START
    k, d, pk, pd = cols[_STOCH_K][j], cols[_STOCH_D][j], cols[_STOCH_K][p], cols[_STOCH_D][p]
    low = (k > d) & (pk <= pd) & (k < oversold) & (d < oversold)
    high = (k < d) & (pk >= pd) & (k > overbought) & (d > overbought)
    fired |= (_bit(low) << _STOCH_LOW) | (_bit(high) << _STOCH_HIGH)
    c, pc, sar, psar = cols[_CLOSE][j], cols[_CLOSE][p], cols[_SAR][j], cols[_SAR][p]
    fired |= _bit((sar < c) & (psar >= pc)) << _SAR_UP
    fired |= _bit((sar > c) & (psar <= pc)) << _SAR_DOWN
    fired |= _bit(c > cols[_DONCHIAN_HIGH][p]) << _BAND_UP
    fired |= _bit(c < cols[_DONCHIAN_LOW][p]) << _BAND_DOWN
    return fired


@_kernel
def _flag_kernel(
    cols: tuple[FloatArray, ...],
    offsets: IntArray,
    dates: npt.NDArray[np.int32],
    since: int,
    enabled: int,
    confirm: int,
    thresholds: FloatArray,
    masks: IntArray,
    counts: IntArray,
    ordered: npt.NDArray[np.bool_],
) -> None:
    # One pass per ticker: each row's mask of fired kinds (0 before `since`), the number of
    # events per ticker, and whether its dates ascend. Comparisons are combined without
    # branches: whether a gap or a surge fires is as unpredictable as the market.
    surge, sigma, gap = thresholds[0], thresholds[1], thresholds[2]
    adx_level, oversold, overbought = thresholds[3], thresholds[4], thresholds[5]
    divergence = int(thresholds[6])
    window = (1 << (confirm + 2)) - 1
    close, fast, slow = cols[_CLOSE], cols[_SMA_50], cols[_SMA_200]
    obv = cols[_OBV]
    for t in numba.prange(offsets.shape[0] - 1):
        start, end = offsets[t], offsets[t + 1]
        above_fast = below_fast = above_slow = below_slow = 0
        count = 0
        ascending = True
        ext = _block_extremes(close, start, end, max(divergence, 1))
        missing = start - divergence - 1  # the last row before j whose close is missing
        for j in range(start, end):
            c = close[j]
            above_fast = ((above_fast << 1) | _bit(c > fast[j])) & window
            below_fast = ((below_fast << 1) | _bit(c <= fast[j])) & window
            above_slow = ((above_slow << 1) | _bit(c > slow[j])) & window
            below_slow = ((below_slow << 1) | _bit(c <= slow[j])) & window
            if j > start:
                ascending = ascending & (dates[j] > dates[j - 1])
            m = 0
            if dates[j] >= since:
                m = _crossings(
                    above_fast, below_fast, confirm,
                    _UP_FAST, _DOWN_FAST, _CONFIRMED_FAST, _FAILED_FAST, _HELD_FAST,
                ) | _crossings(
                    above_slow, below_slow, confirm,
                    _UP_SLOW, _DOWN_SLOW, _CONFIRMED_SLOW, _FAILED_SLOW, _HELD_SLOW,
                )  # fmt: skip
                m |= _others(cols, j, j == start, surge, sigma, gap)
                m |= _indicator_events(cols, j, start, adx_level, oversold, overbought)
                if divergence > 0 and j - start >= divergence:
                    clean = missing < j - divergence
                    m |= _divergence(obv, j, divergence, c, ext, j - start, clean)
                m = (m & enabled) | (m & ~_KINDS_MASK)
            if math.isnan(c):
                missing = j
            masks[j] = m
            count += _popcount(m & _KINDS_MASK)
        counts[t] = count
        ordered[t] = ascending


@_step
def _numbers(cols: tuple[FloatArray, ...], j: int, role: int) -> tuple[float, float, float]:
    # value, level and observed of an event on row j whose kind has this role.
    if role in (_R_FAST, _R_SLOW):
        level = cols[_SMA_50][j] if role == _R_FAST else cols[_SMA_200][j]
        observed = cols[_CLOSE][j]
        return observed / level - 1, level, observed
    if role == _R_AVERAGES:
        level, observed = cols[_SMA_200][j], cols[_SMA_50][j]
        return observed / level - 1, level, observed
    if role == _R_SURGE:
        return cols[_REL_VOLUME][j], cols[_TYPICAL][j], cols[_VOLUME][j]
    if role == _R_MOVE:
        ret, level = cols[_RETURN][j], cols[_VOLATILITY][j - 1]
        return ret, level, ret / level
    if role in (_R_GAP_UP, _R_GAP_DOWN):
        level = cols[_HIGH][j - 1] if role == _R_GAP_UP else cols[_LOW][j - 1]
        observed = cols[_OPEN][j]
        return observed / cols[_CLOSE][j - 1] - 1, level, observed
    if role == _R_HIGH:
        return cols[_HIGH][j], cols[_HIGH_52W][j - 1], cols[_HIGH][j]
    if role == _R_LOW:
        return cols[_LOW][j], cols[_LOW_52W][j - 1], cols[_LOW][j]
    if role == _R_ADX:
        return cols[_ADX][j], _ADX_LEVEL, cols[_PLUS_DI][j] - cols[_MINUS_DI][j]
    if role == _R_STOCH:
        k, d = cols[_STOCH_K][j], cols[_STOCH_D][j]
        return k - d, d, k
    observed = cols[_CLOSE][j]
    if role == _R_SAR:
        level = cols[_SAR][j]
    elif role == _R_BAND_UP:
        level = cols[_DONCHIAN_HIGH][j - 1]
    elif role == _R_BAND_DOWN:
        level = cols[_DONCHIAN_LOW][j - 1]
    else:  # a divergence: the lowest (highest) of the closes before
        level = cols[_CLOSE][j - 1]
        for n in range(2, DIVERGENCE + 1):
            before = cols[_CLOSE][j - n]
            level = min(level, before) if role == _R_OBV_BULL else max(level, before)
    return observed / level - 1, level, observed


@_kernel
def _emit_kernel(
    cols: tuple[FloatArray, ...],
    offsets: IntArray,
    dates: npt.NDArray[np.int32],
    masks: IntArray,
    starts: IntArray,
    out_segment: npt.NDArray[np.uint32],
    out_date: npt.NDArray[np.int32],
    out_kind: npt.NDArray[np.uint32],
    out_value: FloatArray,
    out_level: FloatArray,
    out_observed: FloatArray,
    out_sessions: npt.NDArray[np.int32],
) -> None:
    # Each ticker's events from starts[t] on, by date, then by kind bit (the name order).
    for t in numba.prange(offsets.shape[0] - 1):
        at = starts[t]
        for j in range(offsets[t], offsets[t + 1]):
            m = masks[j]
            kinds = m & _KINDS_MASK
            while kinds:
                k = _lowest(kinds)
                kinds &= kinds - 1
                value, level, observed = _numbers(cols, j, _ROLES[k])
                out_segment[at] = t
                out_date[at] = dates[j]
                out_kind[at] = k
                out_value[at] = value
                out_level[at] = level
                out_observed[at] = observed
                out_sessions[at] = -1
                if k == _FAILED_FAST:
                    out_sessions[at] = (m >> _HELD_FAST) & 15
                elif k == _FAILED_SLOW:
                    out_sessions[at] = (m >> _HELD_SLOW) & 15
                at += 1


# --------------------------------------------------------------------------------------------
# frames in and out
# --------------------------------------------------------------------------------------------

_KIND_NAMES: Final = pl.Series("kind", _NAMES, dtype=pl.String)
_KIND_PARAMS: Final = pl.Series(
    "params_id", [EVENT_KINDS[n].params_id for n in _NAMES], dtype=pl.Int32
)
_EPOCH: Final = dt.date(1970, 1, 1)


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A read-only view, so every call has the kernels' one compiled signature."""
    view = array.view()
    view.flags.writeable = False
    return view


def _enabled(kinds: Mapping[str, object] | Sequence[str] | None) -> int:
    """The mask bits of the chosen kinds."""
    names = list(EVENT_KINDS) if kinds is None else list(kinds)
    unknown = [n for n in names if n not in EVENT_KINDS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(EVENT_KINDS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"no detector for event kind {unknown[0]!r}{hint}", field="kinds")
    mask = 0
    for name in names:
        mask |= 1 << _BIT[name]
    return mask


def _run(
    cols: tuple[FloatArray, ...],
    offsets: IntArray,
    days: npt.NDArray[np.int32],
    since: int,
    enabled: int,
) -> tuple[dict[str, npt.NDArray[Any]], bool]:
    """Flag every row, then write the events of each ticker back to back.

    Returns the events as arrays (``segment``, ``date`` in days, ``kind`` bit, ``value``,
    ``level``, ``observed``, ``sessions`` or -1) and whether every segment's dates ascend.
    """
    n = offsets.size - 1
    thresholds = np.array(
        [
            THRESHOLDS["volume_surge_rel_volume"].value,
            THRESHOLDS["large_move_sigma"].value,
            THRESHOLDS["gap_min"].value,
            THRESHOLDS["adx_trend_level"].value,
            THRESHOLDS["stoch_oversold"].value,
            THRESHOLDS["stoch_overbought"].value,
            THRESHOLDS["obv_divergence_sessions"].value,
        ]
    )
    masks = np.empty(int(offsets[-1]), dtype=np.int64)
    counts = np.empty(n, dtype=np.int64)
    ordered = np.empty(n, dtype=np.bool_)
    _flag_kernel(cols, offsets, days, since, enabled, CONFIRM, thresholds, masks, counts, ordered)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    total = int(counts.sum())
    segment = np.empty(total, dtype=np.uint32)
    date = np.empty(total, dtype=np.int32)
    kind = np.empty(total, dtype=np.uint32)
    value, level, observed = np.empty(total), np.empty(total), np.empty(total)
    sessions = np.empty(total, dtype=np.int32)
    _emit_kernel(
        cols, offsets, days, _readonly(masks), starts,
        segment, date, kind, value, level, observed, sessions,
    )  # fmt: skip
    out: dict[str, npt.NDArray[Any]] = {
        "segment": segment,
        "date": date,
        "kind": kind,
        "value": value,
        "level": level,
        "observed": observed,
        "sessions": sessions,
    }
    return out, bool(ordered.all())


def _strictly_ascending(values: pl.Series) -> bool:
    """Each value after the one before (each ticker one segment, in ticker order)."""
    if values.len() < 2:
        return True
    return bool((values.slice(1) > values.slice(0, values.len() - 1)).all())


def _check_layout(
    tickers: pl.Series, offsets: IntArray, dates: pl.Series, columns: Mapping[str, FloatArray]
) -> int:
    """The rows the offsets delimit; arrays of another length are refused, as the kernels would
    read past them."""
    rows = int(offsets[-1]) if offsets.size else 0
    if tickers.len() != max(offsets.size - 1, 0):
        raise InputError(
            f"{tickers.len()} tickers for {offsets.size - 1} segments of the offsets",
            field="tickers",
        )
    for name, n in {"date": dates.len(), **{c: len(columns[c]) for c in INPUTS}}.items():
        if n != rows:
            raise InputError(f"{name} has {n} rows, the offsets delimit {rows}", field=name)
    return rows


def detect_arrays(
    tickers: pl.Series,
    offsets: IntArray,
    dates: pl.Series,
    columns: Mapping[str, FloatArray],
    kinds: Mapping[str, object] | Sequence[str] | None = None,
    *,
    since: dt.date | None = None,
) -> pl.DataFrame:
    """Events over a universe laid out as contiguous arrays, the engine's own layout.

    Parameters
    ----------
    tickers
        Ticker of each segment (``offsets.size - 1`` of them).
    offsets
        ``int64``; segment ``i`` is rows ``offsets[i]:offsets[i + 1]``, one ticker's rows in
        date order.
    dates
        ``Date`` of every row.
    columns
        Every name of :data:`INPUTS` -> a ``float64`` array of every row, NaN where missing (as
        the indicator kernels leave warm-up rows).
    kinds
        Names of the detectors to run (default: all of :data:`EVENT_KINDS`).
    since
        Keep only events dated on or after this date (the rows before are context).

    Returns
    -------
    polars.DataFrame
        In :data:`EVENTS_SCHEMA`, sorted by ticker, date and kind.

    Notes
    -----
    A row is compared only with rows of its own segment, at most :data:`LOOKBACK` before it.
    Comparisons of inputs treat NaN as missing (no event). A ratio of present inputs that is
    NaN (``0 / 0``) compares above every number, as Polars orders NaN, so these detectors find
    exactly what the same definitions over a frame find.
    """
    missing = [c for c in INPUTS if c not in columns]
    if missing:
        raise InputError(f"events need column(s) {', '.join(missing)}", field=missing[0])
    enabled = _enabled(kinds)
    rows = _check_layout(tickers, offsets, dates, columns)
    if rows == 0 or not enabled:
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    cols = tuple(_readonly(np.ascontiguousarray(columns[c], dtype=np.float64)) for c in INPUTS)
    days = _readonly(np.ascontiguousarray(dates.to_physical().to_numpy(), dtype=np.int32))
    first = np.iinfo(np.int32).min if since is None else (since - _EPOCH).days
    offsets = _readonly(np.ascontiguousarray(offsets, dtype=np.int64))
    found, ordered = _run(cols, offsets, days, first, enabled)
    kind = pl.Series(found["kind"])
    frame = pl.DataFrame(
        [
            tickers.cast(pl.String).gather(pl.Series(found["segment"])).alias("ticker"),
            pl.Series("date", found["date"]).cast(pl.Date),
            _KIND_NAMES.gather(kind),
            *(pl.Series(name, found[name]) for name in ("value", "level", "observed")),
            pl.Series("sessions", found["sessions"]),
            pl.Series("label", dtype=pl.String).extend_constant(None, kind.len()),
            pl.Series("prev_label", dtype=pl.String).extend_constant(None, kind.len()),
            _KIND_PARAMS.gather(kind),
        ]
    ).with_columns(pl.when(pl.col("sessions") >= 0).then(pl.col("sessions")).alias("sessions"))
    if not (ordered and _strictly_ascending(tickers)):
        frame = frame.sort("ticker", "date", "kind", maintain_order=True)
    return frame


def detect(
    frame: pl.DataFrame,
    kinds: Mapping[str, object] | Sequence[str] | None = None,
    *,
    since: dt.date | None = None,
) -> pl.DataFrame:
    """Events found in a universe frame of bars and indicators.

    Parameters
    ----------
    frame
        Sorted by ticker and date, with the columns of :data:`INPUTS` (the default indicator
        set adds them).
    kinds
        Names of the detectors to run, or a mapping keyed by them such as a subset of
        :data:`EVENT_KINDS` (default: all).
    since
        Keep only events dated on or after this date (the rows before are context).

    Returns
    -------
    polars.DataFrame
        In :data:`EVENTS_SCHEMA`, sorted by ticker, date and kind; :func:`with_detail` adds the
        JSON ``detail`` a person reads.

    Notes
    -----
    Each run of equal tickers is one segment; nulls are missing values. The conventions are
    those of :func:`detect_arrays`, which the engine may call on its arrays directly.
    """
    missing = [c for c in ("ticker", "date", *INPUTS) if c not in frame.columns]
    if missing:
        raise InputError(f"events need column(s) {', '.join(missing)}", field=missing[0])
    if frame.is_empty():
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    runs = frame.select(pl.col("ticker").rle()).unnest("ticker")
    offsets = np.zeros(runs.height + 1, dtype=np.int64)
    np.cumsum(runs["len"].to_numpy(), out=offsets[1:])
    # Filling nulls first is a third of the time of letting to_numpy do it.
    columns = {c: frame[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in INPUTS}
    return detect_arrays(runs["value"], offsets, frame["date"], columns, kinds, since=since)


# --------------------------------------------------------------------------------------------
# detail, for people
# --------------------------------------------------------------------------------------------


def _known_params(params: pl.DataFrame | None) -> dict[int, tuple[str, Mapping[str, Any]]]:
    known: dict[int, tuple[str, Mapping[str, Any]]] = dict(EVENT_PARAMS)
    if params is not None:
        for i, kind, text in params.select("id", "kind", "params").iter_rows():
            known[int(i)] = (kind, json.loads(text))
    return known


def _detail(kind: str, params: Mapping[str, Any]) -> pl.Expr:
    """The JSON ``detail`` of events of one kind detected with ``params``."""
    keys = [pl.col(k.column).cast(k.dtype, strict=False).alias(k.key) for k in DETAILS[kind]]
    if kind in EVENT_KINDS:
        keys += [
            pl.lit(v, pl.String if isinstance(v, str) else pl.Float64).alias(name)
            for name, v in params.items()
        ]
    return pl.struct(keys).struct.json_encode()


def with_detail(frame: pl.DataFrame, params: pl.DataFrame | None = None) -> pl.DataFrame:
    """Events with a ``detail`` column added: a JSON object of the numbers behind each event and,
    for bar-based kinds, the parameters it was detected with.

    Parameters
    ----------
    frame
        Events in :data:`EVENTS_SCHEMA` (from :func:`detect`, ``consensus.changes`` or a store).
    params
        ``id, kind, params`` rows of parameter sets not in :data:`EVENT_PARAMS` (a store's
        ``event_params``, which keeps those of events found under older thresholds).

    Returns
    -------
    polars.DataFrame
        ``frame`` in its order with ``detail`` (a String) last. Keys are, in order, the kind's
        :data:`DETAILS` then its parameters, e.g. ``{"level":100.0,"close":101.0,"window":200.0}``
        for ``cross_above_sma_200``; missing or non-finite numbers are ``null``.

    Raises
    ------
    InputError
        For a kind without a detail layout, or a ``params_id`` neither known nor given.
    """
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, pl.String).alias("detail"))
    known = _known_params(params)
    indexed = frame.with_row_index("__row")
    parts = []
    for (kind, pid), part in indexed.partition_by("kind", "params_id", as_dict=True).items():
        if kind not in DETAILS:
            raise InputError(f"no detail layout for event kind {kind!r}", field="kind")
        if pid not in known and kind in EVENT_KINDS:
            raise InputError(
                f"{kind} events carry params_id {pid}, which this version does not know; "
                "pass the store's event_params",
                field="params_id",
            )
        used = known[pid][1] if pid in known else {}
        parts.append(part.with_columns(_detail(str(kind), used).alias("detail")))
    return pl.concat(parts).sort("__row").drop("__row")
