"""Indicator kernels against TA-Lib, published worked examples, and their own full runs."""

from __future__ import annotations

import csv
import dataclasses
import doctest
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from stockbrief import kernels as indicators
from stockbrief.kernels import (
    INDICATORS,
    Indicator,
    ad,
    adx,
    atr,
    bbands,
    cci,
    dmi,
    ema,
    highest,
    lowest,
    macd,
    mfi,
    obv,
    roc,
    rsi,
    run,
    run_many,
    sar,
    sma,
    stoch,
    willr,
)

FloatArray = npt.NDArray[np.float64]
Columns = dict[str, FloatArray]

DEFAULT = list(INDICATORS.values())
MAX_WINDOW = max(ind.window for ind in DEFAULT)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _dmi_reference(ind: Indicator, cols: Mapping[str, FloatArray]) -> tuple[FloatArray, ...]:
    h, lo, c = cols["high"], cols["low"], cols["close"]
    n, directional = ind.periods
    if directional:
        return talib.PLUS_DI(h, lo, c, n), talib.MINUS_DI(h, lo, c, n)
    return (talib.ADX(h, lo, c, n),)


def _keltner_reference(ind: Indicator, cols: Mapping[str, FloatArray]) -> tuple[FloatArray, ...]:
    n_ema, n_atr = ind.periods
    middle = talib.EMA(cols["close"], n_ema)
    band = ind.factors[0] * talib.ATR(cols["high"], cols["low"], cols["close"], n_atr)
    upper, lower = middle + band, middle - band
    return np.where(np.isnan(band), np.nan, middle), upper, lower


def _tsi_reference(ind: Indicator, cols: Mapping[str, FloatArray]) -> tuple[FloatArray]:
    # Blau's double smoothing with TA-Lib's EMA (seeded by an SMA, StockCharts' convention);
    # a flat history (smoothed size below 1e-8) reads 0.
    n_long, n_short = ind.periods
    move = np.full(cols["close"].shape, np.nan)
    move[1:] = np.diff(cols["close"])
    smooth = talib.EMA(talib.EMA(move, n_long), n_short)
    size = talib.EMA(talib.EMA(np.abs(move), n_long), n_short)
    flat = np.abs(size) < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(flat, 0.0, 100.0 * smooth / size),)


def _vwap_reference(ind: Indicator, cols: Mapping[str, FloatArray]) -> tuple[FloatArray]:
    (n,) = ind.periods
    typical = (cols["high"] + cols["low"] + cols["close"]) / 3.0
    shares = talib.SUM(cols["volume"], n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(shares > 0, talib.SUM(typical * cols["volume"], n) / shares, np.nan),)


OSCILLATOR_REFERENCES: dict[str, Callable[[Indicator, Mapping[str, FloatArray]], Any]] = {
    "dmi": _dmi_reference,
    "stoch": lambda ind, x: talib.STOCH(
        x["high"], x["low"], x["close"], ind.periods[0], ind.periods[1], 0, ind.periods[2], 0
    ),
    "willr": lambda ind, x: (talib.WILLR(x["high"], x["low"], x["close"], ind.periods[0]),),
    "cci": lambda ind, x: (talib.CCI(x["high"], x["low"], x["close"], ind.periods[0]),),
    "mfi": lambda ind, x: (
        talib.MFI(x["high"], x["low"], x["close"], x["volume"], ind.periods[0]),
    ),
    "donchian": lambda ind, x: (
        talib.MAX(x["high"], ind.periods[0]),
        talib.MIN(x["low"], ind.periods[0]),
    ),
    "obv": lambda ind, x: (talib.OBV(x["close"], x["volume"]),),
    "ad": lambda ind, x: (talib.AD(x["high"], x["low"], x["close"], x["volume"]),),
    "adosc": lambda ind, x: (
        talib.ADOSC(x["high"], x["low"], x["close"], x["volume"], *ind.periods),
    ),
    "sar": lambda ind, x: (talib.SAR(x["high"], x["low"], *ind.factors),),
    "kama": lambda ind, x: (talib.KAMA(x["close"], ind.periods[0]),),
    "ultosc": lambda ind, x: (talib.ULTOSC(x["high"], x["low"], x["close"], *ind.periods),),
    "ppo": lambda ind, x: (talib.PPO(x["close"], *ind.periods, 1),),
    "stochrsi": lambda ind, x: talib.STOCHRSI(x["close"], *ind.periods, 0),
    "tsi": _tsi_reference,
    "keltner": _keltner_reference,
    "vwap": _vwap_reference,
}
"""TA-Lib's function for each family with a kernel of its own, by family; for those TA-Lib
lacks, the published formula on TA-Lib's building blocks."""

# The Chaikin oscillator and the PPO are differences of two EMAs and cross zero: TA-Lib may
# round their updates once (FMA builds) where the kernels round twice, so near zero the two
# agree to the last bits of the series' magnitude, not of the value.
# The stochastic RSI divides the RSI's last-bit differences by its 14-day range, and its %D
# of a run of zeros is a running sum's rounding residue (1e-14 either side of 0, TA-Lib's too).
CANCELLING = {"adosc_3_10", "ppo_12_26", "stochrsi_k_14", "stochrsi_d_14"}


def talib_reference(ind: Indicator, cols: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """What TA-Lib gives for `ind` on ONE ticker's columns, by output name."""
    c = cols["close"]
    p = ind.periods
    values: tuple[FloatArray, ...]
    if ind.family == "sma":
        values = (talib.SMA(c, p[0]),)
    elif ind.family == "ema":
        values = (talib.EMA(c, p[0]),)
    elif ind.family == "macd":
        values = talib.MACD(c, p[0], p[1], p[2])
    elif ind.family == "rsi":
        values = (talib.RSI(c, p[0]),)
    elif ind.family == "atr":
        values = (talib.ATR(cols["high"], cols["low"], c, p[0]),)
    elif ind.family == "bbands":
        up, dn = ind.factors
        values = talib.BBANDS(c, p[0], up, dn, talib.MA_Type.SMA)
    elif ind.family == "roc":
        values = (talib.ROCP(c, p[0]),)
    elif ind.family == "volatility":
        values = (talib.STDDEV(talib.ROCP(c, 1), p[0], 1),)
    elif ind.family == "extreme":
        x = cols[ind.inputs[0]]
        values = (talib.MAX(x, p[0]) if ind.factors[0] > 0 else talib.MIN(x, p[0]),)
    elif ind.family == "rel_volume":
        v = cols["volume"]
        typical = np.full(v.shape, np.nan)
        typical[1:] = talib.SMA(v, p[0])[:-1]
        rel = np.full(v.shape, np.nan)
        ok = typical > 0
        rel[ok] = v[ok] / typical[ok]
        values = (typical, rel)
    elif ind.family in OSCILLATOR_REFERENCES:
        values = OSCILLATOR_REFERENCES[ind.family](ind, cols)
    else:  # pragma: no cover - a new family needs its reference here
        raise AssertionError(f"no TA-Lib reference for family {ind.family!r}")
    return dict(zip(ind.outputs, values, strict=True))


def assert_close(
    got: FloatArray, expected: FloatArray, rtol: float, atol: float, what: str
) -> None:
    """Same NaN positions, values within rtol (plus atol)."""
    assert got.shape == expected.shape, what
    nan_got, nan_exp = np.isnan(got), np.isnan(expected)
    if not np.array_equal(nan_got, nan_exp):
        first = int(np.flatnonzero(nan_got != nan_exp)[0])
        raise AssertionError(f"{what}: NaN pattern differs first at row {first}")
    np.testing.assert_allclose(
        got[~nan_got], expected[~nan_exp], rtol=rtol, atol=atol, err_msg=what
    )


def concat(segments: Sequence[Columns]) -> tuple[Columns, npt.NDArray[np.int64]]:
    """One contiguous universe (columns + offsets) from per-ticker columns."""
    lengths = [len(seg["close"]) for seg in segments]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    names = segments[0].keys() if segments else ("open", "high", "low", "close", "volume")
    columns = {
        name: np.concatenate([seg[name] for seg in segments]) if segments else np.empty(0)
        for name in names
    }
    return columns, offsets


def synthetic_ticker(rng: np.random.Generator, n: int, kind: str) -> Columns:
    """Daily bars: a random walk (rounded to cents, so ties occur), a flat line, or zero volume."""
    if kind == "flat":
        close = np.full(n, 42.0)
    else:
        close = np.round(50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n))), 2)
    spread = np.round(np.abs(rng.normal(0.0, 0.01, n)) * close, 2)
    high = close + spread
    low = close - np.round(np.abs(rng.normal(0.0, 0.01, n)) * close, 2)
    open_ = np.round(low + (high - low) * rng.random(n), 2)
    volume = np.zeros(n) if kind == "novolume" else np.round(rng.lognormal(13.0, 0.5, n), -2)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def synthetic_universe(seed: int, lengths: Sequence[int]) -> tuple[Columns, npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["walk", "walk", "walk", "flat", "novolume"], size=len(lengths))
    return concat([synthetic_ticker(rng, n, str(k)) for n, k in zip(lengths, kinds, strict=True)])


def segment(columns: Columns, offsets: npt.NDArray[np.int64], i: int) -> Columns:
    s = slice(int(offsets[i]), int(offsets[i + 1]))
    return {name: col[s] for name, col in columns.items()}


def take_rows(
    columns: Columns, offsets: npt.NDArray[np.int64], lo: Sequence[int], hi: Sequence[int]
) -> tuple[Columns, npt.NDArray[np.int64]]:
    """Per ticker i, rows lo[i]:hi[i] of its segment, as a new universe."""
    segs = []
    for i in range(len(offsets) - 1):
        s = segment(columns, offsets, i)
        segs.append({name: col[lo[i] : hi[i]] for name, col in s.items()})
    return concat(segs)


@functools.cache
def load_yahoo(folder: Path) -> tuple[tuple[str, ...], Columns, npt.NDArray[np.int64]]:
    """All yahoo-30 files as one universe, sorted by ticker; the partial last bar dropped."""
    tickers, segs = [], []
    for path in sorted(folder.glob("*.csv")):
        data = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=(1, 2, 3, 4, 5))[:-1]
        tickers.append(path.stem)
        segs.append(
            {
                "close": data[:, 0].copy(),
                "high": data[:, 1].copy(),
                "low": data[:, 2].copy(),
                "open": data[:, 3].copy(),
                "volume": data[:, 4].copy(),
            }
        )
    columns, offsets = concat(segs)
    return tuple(tickers), columns, offsets


@functools.cache
def run_yahoo(folder: Path) -> dict[str, FloatArray]:
    _, columns, offsets = load_yahoo(folder)
    outputs, _ = run_many(DEFAULT, columns, offsets)
    return outputs


def read_csv(path: Path) -> dict[str, FloatArray]:
    """Numeric columns of a small CSV by header name (blank cells -> NaN)."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    result = {}
    for name in rows[0]:
        try:
            result[name] = np.array([float(r[name]) if r[name] else np.nan for r in rows])
        except ValueError:
            continue
    return result


# --------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------

EXPECTED_SHAPE = {
    # name: (outputs, lookback, window, n_state)
    "sma_20": (("sma_20",), 19, 19, 2),
    "sma_50": (("sma_50",), 49, 49, 2),
    "sma_200": (("sma_200",), 199, 199, 2),
    "ema_12": (("ema_12",), 11, 0, 2),
    "ema_26": (("ema_26",), 25, 0, 2),
    "ema_50": (("ema_50",), 49, 0, 2),
    "ema_200": (("ema_200",), 199, 0, 2),
    "rsi_14": (("rsi_14",), 14, 0, 4),
    "atr_14": (("atr_14",), 14, 0, 3),
    "macd": (("macd", "macd_signal", "macd_hist"), 33, 0, 4),
    "bbands": (("bb_upper", "bb_middle", "bb_lower"), 19, 19, 3),
    "roc_12": (("roc_12",), 12, 12, 1),
    "high_52w": (("high_52w",), 251, 251, 1),
    "low_52w": (("low_52w",), 251, 251, 1),
    "return_1d": (("return_1d",), 1, 1, 1),
    "volatility_60": (("volatility_60",), 60, 60, 3),
    "rel_volume": (("typical_volume_50", "rel_volume"), 50, 49, 3),
    "adx_14": (("adx_14",), 27, 0, 8),
    "dmi_14": (("plus_di_14", "minus_di_14"), 14, 0, 8),
    "stoch_14": (("stoch_k_14", "stoch_d_14"), 17, 13, 9),
    "willr_14": (("willr_14",), 13, 13, 1),
    "cci_20": (("cci_20",), 19, 19, 1),
    "mfi_14": (("mfi_14",), 14, 15, 4),
    "obv": (("obv",), 0, 0, 3),
    "sar": (("sar",), 1, 0, 7),
    "donchian_20": (("donchian_high_20", "donchian_low_20"), 19, 19, 1),
    "ad": (("ad",), 0, 0, 2),
    "adosc_3_10": (("adosc_3_10",), 9, 0, 4),
    "kama_10": (("kama_10",), 10, 11, 3),
    "ultosc_7_14_28": (("ultosc_7_14_28",), 28, 28, 7),
    "ppo_12_26": (("ppo_12_26",), 25, 0, 3),
    "stochrsi_14": (("stochrsi_k_14", "stochrsi_d_14"), 29, 0, 22),
    "keltner_20": (("keltner_mid_20", "keltner_upper_20", "keltner_lower_20"), 19, 0, 4),
    "tsi_25_13": (("tsi_25_13",), 37, 0, 6),
    "vwap_20": (("vwap_20",), 19, 19, 5),
}


def test_default_set_names_outputs_and_history_needs() -> None:
    assert {
        name: (i.outputs, i.lookback, i.window, i.n_state) for name, i in INDICATORS.items()
    } == (EXPECTED_SHAPE)
    for name, ind in INDICATORS.items():
        assert ind.name == name
        assert set(ind.inputs) <= {"open", "high", "low", "close", "volume"}
        assert ind.initial_state(3).shape == (3, ind.n_state)
    outputs = [o for ind in DEFAULT for o in ind.outputs]
    assert len(outputs) == len(set(outputs))


@pytest.mark.parametrize("ind", DEFAULT, ids=lambda i: i.name)
def test_leading_nans_equal_lookback(ind: Indicator) -> None:
    columns, offsets = concat([synthetic_ticker(np.random.default_rng(7), 600, "walk")])
    outputs, _ = run(ind, columns, offsets)
    for name in ind.outputs:
        nan = np.isnan(outputs[name])
        assert nan[: ind.lookback].all(), name
        assert not nan[ind.lookback :].any(), name


def test_factories_reject_impossible_parameters() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        sma(1)
    with pytest.raises(ValueError, match="longer than fast"):
        macd(26, 12, 9)
    with pytest.raises(ValueError, match="reads \\('close',\\)"):
        dataclasses.replace(sma(5), inputs=("volume",))
    # a rolling extreme may read any one column
    assert dataclasses.replace(highest(5), inputs=("close",)).inputs == ("close",)


# --------------------------------------------------------------------------------------------
# TA-Lib on real data: every ticker of yahoo-30, one universe run
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ind", DEFAULT, ids=lambda i: i.name)
def test_matches_talib_on_every_yahoo30_ticker(ind: Indicator, yahoo30: Path) -> None:
    tickers, columns, offsets = load_yahoo(yahoo30)
    outputs = run_yahoo(yahoo30)
    for i, ticker in enumerate(tickers):
        s = slice(int(offsets[i]), int(offsets[i + 1]))
        expected = talib_reference(ind, segment(columns, offsets, i))
        for name in ind.outputs:
            atol = 1e-12 * np.nanmax(np.abs(expected[name]), initial=0.0)
            atol = atol if name in CANCELLING else 0.0
            assert_close(outputs[name][s], expected[name], 1e-9, atol, f"{name} on {ticker}")


def test_one_pass_equals_one_indicator_at_a_time(yahoo30: Path) -> None:
    _, columns, offsets = load_yahoo(yahoo30)
    together = run_yahoo(yahoo30)
    for ind in DEFAULT:
        alone, _ = run(ind, columns, offsets)
        for name in ind.outputs:
            assert np.array_equal(alone[name], together[name], equal_nan=True), name


def test_more_indicators_of_a_family_than_slots_take_more_passes() -> None:
    columns, offsets = synthetic_universe(3, [0, 300, 120, 260])
    many = [sma(p) for p in (2, 5, 10, 20, 30)] + [ema(p) for p in (3, 5, 8, 13, 21, 34)]
    many += [rsi(7), rsi(14), highest(10, "max_10"), lowest(10, "min_10"), highest(30, "max_30")]
    outputs, states = run_many(many, columns, offsets)
    for ind in many:
        alone, state = run(ind, columns, offsets)
        assert np.array_equal(states[ind.name], state)
        for name in ind.outputs:
            assert np.array_equal(alone[name], outputs[name], equal_nan=True), name


# --------------------------------------------------------------------------------------------
# TA-Lib on synthetic universes with gaps
# --------------------------------------------------------------------------------------------

EDGE_LENGTHS = sorted(
    {0, 1, 2, 3}
    | {n for ind in DEFAULT for k in (-1, 0, 1, 2) if (n := ind.lookback + k) >= 0}
    | {n for ind in DEFAULT for k in (0, 1) if (n := ind.window + k) >= 0}
)


def check_universe_against_talib(columns: Columns, offsets: npt.NDArray[np.int64]) -> None:
    outputs, _ = run_many(DEFAULT, columns, offsets)
    scale = float(np.max(np.abs(columns["close"]), initial=1.0))
    for i in range(len(offsets) - 1):
        s = slice(int(offsets[i]), int(offsets[i + 1]))
        seg = segment(columns, offsets, i)
        for ind in DEFAULT:
            expected = talib_reference(ind, seg)
            for name in ind.outputs:
                # TA-Lib picks an FMA build on CPUs that have it, so MACD and band differences
                # that cancel to ~0 may differ from ours in the last bits of the inputs' scale.
                # Volume lines (OBV, A/D) have the scale of volumes, not of prices.
                magnitude = max(scale, float(np.nanmax(np.abs(expected[name]), initial=0.0)))
                atol = 1e-12 * magnitude if name != "typical_volume_50" else 0.0
                assert_close(outputs[name][s], expected[name], 1e-9, atol, f"{name} ticker {i}")


def test_edge_lengths_match_talib() -> None:
    columns, offsets = synthetic_universe(11, [0, *EDGE_LENGTHS, 0, 0])
    check_universe_against_talib(columns, offsets)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lengths=st.lists(st.one_of(st.sampled_from(EDGE_LENGTHS), st.integers(0, 400)), max_size=8),
)
def test_random_universes_match_talib(seed: int, lengths: list[int]) -> None:
    columns, offsets = synthetic_universe(seed, lengths)
    check_universe_against_talib(columns, offsets)


def test_empty_universe() -> None:
    columns, offsets = synthetic_universe(0, [])
    outputs, states = run_many(DEFAULT, columns, offsets)
    assert all(v.shape == (0,) for v in outputs.values())
    assert all(s.shape == (0, INDICATORS[k].n_state) for k, s in states.items())


# --------------------------------------------------------------------------------------------
# resumability and look-ahead
# --------------------------------------------------------------------------------------------


def resume(
    indicators: Sequence[Indicator],
    columns: Columns,
    offsets: npt.NDArray[np.int64],
    cuts: Sequence[Sequence[int]],
    extra_context: int = 0,
) -> dict[str, FloatArray]:
    """Run in pieces: rows up to cuts[0][i], then up to cuts[1][i], ..., then to the end.

    Each later piece gets the last `window` (+ extra) processed rows as context and the state
    the previous piece returned; returns the new rows of every piece stitched together.
    """
    window = max(ind.window for ind in indicators)
    lengths = np.diff(offsets)
    n_tickers = len(lengths)
    stitched = {
        name: np.full(len(columns["close"]), np.nan) for i in indicators for name in i.outputs
    }
    done = [0] * n_tickers
    states = None
    for piece in [*cuts, list(lengths)]:
        lo = [max(0, d - window - extra_context) for d in done]
        part, part_offsets = take_rows(columns, offsets, lo, piece)
        context = np.array([d - s for d, s in zip(done, lo, strict=True)], dtype=np.int64)
        packed, packed_states = run_many(
            indicators, part, part_offsets, context, states, new_rows_only=True
        )
        outputs, states = run_many(indicators, part, part_offsets, context, states)
        fresh = np.concatenate(
            [np.arange(part_offsets[i] + context[i], part_offsets[i + 1]) for i in range(n_tickers)]
        ).astype(np.int64)
        for name, values in outputs.items():
            np.testing.assert_array_equal(packed[name], values[fresh])  # new rows only, packed
        for name, state in states.items():
            np.testing.assert_array_equal(packed_states[name], state)
        for i in range(n_tickers):
            new = slice(int(part_offsets[i] + context[i]), int(part_offsets[i + 1]))
            ctx = slice(int(part_offsets[i]), int(part_offsets[i] + context[i]))
            dest = slice(int(offsets[i] + done[i]), int(offsets[i] + piece[i]))
            for name, values in outputs.items():
                assert np.isnan(values[ctx]).all(), "context rows must stay NaN"
                stitched[name][dest] = values[new]
        done = list(piece)
    return stitched


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lengths=st.lists(st.integers(0, 700), min_size=1, max_size=5),
    fractions=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2),
    extra=st.sampled_from([0, 0, 3]),
)
def test_resumed_runs_are_bitwise_equal_to_a_full_run(
    seed: int, lengths: list[int], fractions: list[float], extra: int
) -> None:
    columns, offsets = synthetic_universe(seed, lengths)
    full, _ = run_many(DEFAULT, columns, offsets)
    first, second = sorted(fractions)
    rng = np.random.default_rng(seed)
    cut1 = [int(n * first) for n in lengths]
    cut2 = [int(c + (n - c) * second * rng.random()) for c, n in zip(cut1, lengths, strict=True)]
    pieces = resume(DEFAULT, columns, offsets, [cut1, cut2], extra)
    for name, values in full.items():
        assert np.array_equal(pieces[name], values, equal_nan=True), name


@pytest.mark.parametrize("ind", DEFAULT, ids=lambda i: i.name)
def test_each_indicator_resumes_with_exactly_its_window(ind: Indicator) -> None:
    columns, offsets = synthetic_universe(5, [0, 3, ind.window, ind.lookback + 1, 320, 640])
    lengths = np.diff(offsets)
    full, _ = run(ind, columns, offsets)
    for frac in (0.2, 0.5, 0.9):
        cut = [int(n * frac) for n in lengths]
        pieces = resume([ind], columns, offsets, [cut])
        for name in ind.outputs:
            assert np.array_equal(pieces[name], full[name], equal_nan=True), (name, frac)


def test_daily_update_one_bar_at_a_time(yahoo30: Path) -> None:
    _, columns, offsets = load_yahoo(yahoo30)
    full = run_yahoo(yahoo30)
    lengths = np.diff(offsets)
    cuts = [[max(0, n - k) for n in lengths] for k in (5, 4, 3, 2, 1)]
    pieces = resume(DEFAULT, columns, offsets, cuts)
    for name, values in full.items():
        assert np.array_equal(pieces[name], values, equal_nan=True), name


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lengths=st.lists(st.integers(0, 500), max_size=5))
def test_no_look_ahead(seed: int, lengths: list[int]) -> None:
    columns, offsets = synthetic_universe(seed, lengths)
    full, _ = run_many(DEFAULT, columns, offsets)
    rng = np.random.default_rng(seed)
    keep = [int(rng.integers(0, n + 1)) for n in lengths]
    short, short_offsets = take_rows(columns, offsets, [0] * len(lengths), keep)
    truncated, _ = run_many(DEFAULT, short, short_offsets)
    for i, k in enumerate(keep):
        for name, values in truncated.items():
            head = values[short_offsets[i] : short_offsets[i + 1]]
            assert np.array_equal(head, full[name][offsets[i] : offsets[i] + k], equal_nan=True)


# --------------------------------------------------------------------------------------------
# the contract of run / run_many
# --------------------------------------------------------------------------------------------


def test_errors_say_what_to_fix() -> None:
    columns, offsets = synthetic_universe(1, [30, 40])
    with pytest.raises(ValueError, match="needs column 'high'"):
        run(INDICATORS["atr_14"], {"close": columns["close"]}, offsets)
    with pytest.raises(ValueError, match="offsets"):
        run(INDICATORS["sma_20"], columns, offsets[::-1])
    with pytest.raises(ValueError, match="shape"):
        run(INDICATORS["sma_20"], columns, offsets[:-1])
    _, state = run(INDICATORS["sma_20"], columns, offsets)
    with pytest.raises(ValueError, match="needs the last 19 processed rows"):
        run(INDICATORS["sma_20"], columns, offsets, np.array([5, 5]), state)
    with pytest.raises(ValueError, match="state"):
        run(INDICATORS["sma_20"], columns, offsets, np.array([0, 0]), state[:, :1])
    with pytest.raises(ValueError, match="unique"):
        run_many([sma(5), sma(5)], columns, offsets)
    _, rsi_state = run(INDICATORS["rsi_14"], columns, offsets)
    with pytest.raises(ValueError, match="disagree"):
        run_many(
            [INDICATORS["sma_20"], INDICATORS["rsi_14"]],
            columns,
            offsets,
            np.array([19, 19]),
            {"sma_20": state, "rsi_14": rsi_state[::-1]},
        )
    with pytest.raises(ValueError, match="no state for 'rsi_14'"):
        run_many([INDICATORS["rsi_14"]], columns, offsets, np.array([0, 0]), {"sma_20": state})


def test_inputs_are_not_modified() -> None:
    columns, offsets = synthetic_universe(2, [300, 280])
    before = {k: v.copy() for k, v in columns.items()}
    state = INDICATORS["macd"].initial_state(2)
    run(INDICATORS["macd"], columns, offsets, state=state)
    assert all(np.array_equal(before[k], columns[k]) for k in columns)
    assert not state.any()


# --------------------------------------------------------------------------------------------
# published worked examples (StockCharts ChartSchool sheets, via ../shared/data/stockcharts)
# --------------------------------------------------------------------------------------------


def one_ticker(**cols: FloatArray) -> tuple[Columns, npt.NDArray[np.int64]]:
    return dict(cols), np.array([0, len(next(iter(cols.values())))], dtype=np.int64)


def test_rsi_reproduces_stockcharts_published_values() -> None:
    sheet = read_csv(shared_path("stockcharts", "cs-rsi.csv"))
    columns, offsets = one_ticker(close=sheet["Close"])
    got = run(rsi(14), columns, offsets)[0]["rsi_14"]
    published = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71]
    published += [50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77]
    assert np.isnan(got[:14]).all()
    np.testing.assert_allclose(got[14:], published, atol=0.005)
    # The sheet's own RSI column is the `ta` library's convention (Wilder averaging from row 1,
    # no 14-bar seed), not StockCharts': it is 71.86 where StockCharts and TA-Lib say 70.53.
    assert abs(sheet["RSI"][14] - got[14]) > 1.0


def test_macd_converges_to_stockcharts_sheet() -> None:
    sheet = read_csv(shared_path("stockcharts", "cs-macd.csv"))
    columns, offsets = one_ticker(close=sheet["Close"])
    outputs, _ = run_many([ema(12), ema(26), macd()], columns, offsets)
    # The sheet seeds its EMAs with the first close, TA-Lib with an SMA: the same recursion
    # from a different start, so the gap shrinks by exactly (1 - k) per bar.
    for name, n, sheet_col in (("ema_12", 12, "short_ema"), ("ema_26", 26, "long_ema")):
        gap = outputs[name] - sheet[sheet_col]
        t0 = n - 1
        decay = (1 - 2 / (n + 1)) ** np.arange(len(gap) - t0)
        np.testing.assert_allclose(gap[t0:], gap[t0] * decay, atol=2e-8)
    # ... and after 124 rows the MACD lines agree to the sheet's last rows within 2e-4.
    for name, sheet_col in (
        ("macd", "MACD_line"),
        ("macd_signal", "MACD_signal"),
        ("macd_hist", "MACD_diff"),
    ):
        np.testing.assert_allclose(outputs[name][-5:], sheet[sheet_col][-5:], atol=2e-4)
    assert abs(outputs["macd"][33] - sheet["MACD_line"][33]) > 0.05  # early rows differ


def test_bbands_match_stockcharts_sheet() -> None:
    sheet = read_csv(shared_path("stockcharts", "cs-bbands.csv"))
    columns, offsets = one_ticker(close=sheet["Close"])
    got = run(bbands(20, 2.0), columns, offsets)[0]
    for name, sheet_col in (
        ("bb_middle", "MiddleBand"),
        ("bb_upper", "HighBand"),
        ("bb_lower", "LowBand"),
    ):
        assert_close(got[name], sheet[sheet_col], 0.0, 1e-6, name)  # sheet has 6 decimals


def test_roc_matches_stockcharts_sheet_as_a_fraction() -> None:
    sheet = read_csv(shared_path("stockcharts", "cs-roc.csv"))
    columns, offsets = one_ticker(close=sheet["Close"])
    got = run(roc(12), columns, offsets)[0]["roc_12"]
    assert_close(100 * got, sheet["ROC"], 0.0, 1e-8, "roc_12")  # sheet: percent, 8 decimals


def test_atr_seeds_one_bar_later_than_stockcharts_sheet() -> None:
    sheet = read_csv(shared_path("stockcharts", "cs-atr.csv"))
    columns, offsets = one_ticker(high=sheet["High"], low=sheet["Low"], close=sheet["Close"])
    got = run(atr(14), columns, offsets)[0]["atr_14"]
    tr = sheet["TR"]
    # TA-Lib: first ATR on bar 14 = mean of the true ranges of bars 1..14.
    assert np.isnan(got[:14]).all()
    assert got[14] == pytest.approx(tr[1:15].mean(), abs=1e-12)
    # The sheet: first ATR on bar 13 = mean of bars 0..13, counting bar 0's high - low.
    assert sheet["ATR"][13] == pytest.approx(tr[0:14].mean(), abs=1e-12)
    # Same Wilder recursion afterwards, so the gap shrinks by exactly 13/14 per bar.
    gap = got[14:] - sheet["ATR"][14:]
    np.testing.assert_allclose(gap, gap[0] * (13 / 14) ** np.arange(len(gap)), atol=1e-9)
    assert abs(gap[0]) > 0.01


# --------------------------------------------------------------------------------------------
# the TA-Lib reference file (BABA, TA-Lib 0.8.2 outputs with 10 significant digits)
# --------------------------------------------------------------------------------------------

BABA_COLUMNS = {
    # reference column: (indicator, output, scale)
    "SMA_20": (sma(20), "sma_20", 1.0),
    "SMA_50": (sma(50), "sma_50", 1.0),
    "SMA_200": (sma(200), "sma_200", 1.0),
    "EMA_12": (ema(12), "ema_12", 1.0),
    "EMA_26": (ema(26), "ema_26", 1.0),
    "EMA_50": (ema(50), "ema_50", 1.0),
    "EMA_200": (ema(200), "ema_200", 1.0),
    "RSI_14": (rsi(14), "rsi_14", 1.0),
    "MACD_12_26_9": (macd(), "macd", 1.0),
    "MACDsignal_12_26_9": (macd(), "macd_signal", 1.0),
    "MACDhist_12_26_9": (macd(), "macd_hist", 1.0),
    "ATR_14": (atr(14), "atr_14", 1.0),
    "BBupper_20_2": (bbands(20, 2.0), "bb_upper", 1.0),
    "BBmiddle_20_2": (bbands(20, 2.0), "bb_middle", 1.0),
    "BBlower_20_2": (bbands(20, 2.0), "bb_lower", 1.0),
    "ROC_12": (roc(12), "roc_12", 100.0),  # TA-Lib ROC is percent
    "MAX_20_high": (highest(20, "max_20"), "max_20", 1.0),
    "MIN_20_low": (lowest(20, "min_20"), "min_20", 1.0),
    "ADX_14": (adx(14), "adx_14", 1.0),
    "PLUS_DI_14": (dmi(14), "plus_di_14", 1.0),
    "MINUS_DI_14": (dmi(14), "minus_di_14", 1.0),
    "STOCH_slowk_14_3_3": (stoch(14, 3, 3), "stoch_k_14", 1.0),
    "STOCH_slowd_14_3_3": (stoch(14, 3, 3), "stoch_d_14", 1.0),
    "WILLR_14": (willr(14), "willr_14", 1.0),
    "CCI_20": (cci(20), "cci_20", 1.0),
    "MFI_14": (mfi(14), "mfi_14", 1.0),
    "OBV": (obv(), "obv", 1.0),
    "AD": (ad(), "ad", 1.0),
    "SAR_0.02_0.2": (sar(0.02, 0.2), "sar", 1.0),
}


@pytest.mark.parametrize("column", list(BABA_COLUMNS))
def test_matches_talib_reference_file(column: str) -> None:
    ref = read_csv(shared_path("talib-reference", "BABA_talib.csv"))
    ind, output, scale = BABA_COLUMNS[column]
    columns, offsets = one_ticker(
        high=ref["high"], low=ref["low"], close=ref["close"], volume=ref["volume"]
    )
    got = run(ind, columns, offsets)[0][output]
    assert_close(scale * got, ref[column], 1e-8, 1e-12, column)


def test_stddev_of_reference_file_is_the_bands_half_width() -> None:
    ref = read_csv(shared_path("talib-reference", "BABA_talib.csv"))
    columns, offsets = one_ticker(close=ref["close"])
    bands = run(bbands(20, 1.0), columns, offsets)[0]
    assert_close(bands["bb_upper"] - bands["bb_middle"], ref["STDDEV_20"], 1e-8, 1e-12, "sd")


def test_baba_spot_values_from_the_data_readme() -> None:
    ref = read_csv(shared_path("talib-reference", "BABA_talib.csv"))
    with shared_path("talib-reference", "BABA_talib.csv").open() as fh:
        dates = [line.split(",", 1)[0] for line in fh][1:]
    row = dates.index("2026-01-02")
    columns, offsets = one_ticker(
        high=ref["high"], low=ref["low"], close=ref["close"], volume=ref["volume"]
    )
    out, _ = run_many(DEFAULT, columns, offsets)
    assert ref["close"][row] == pytest.approx(155.74, abs=0.005)
    assert out["sma_50"][row] == pytest.approx(159.36, abs=0.005)
    assert out["sma_200"][row] == pytest.approx(137.00, abs=0.005)
    assert out["rsi_14"][row] == pytest.approx(53.10, abs=0.005)
    assert out["atr_14"][row] == pytest.approx(4.393, abs=0.0005)
    assert out["macd"][row] == pytest.approx(-2.488, abs=0.0005)
    assert out["return_1d"][row] == pytest.approx(0.0625, abs=0.0005)


def test_rolling_extreme_of_any_column() -> None:
    columns, offsets = synthetic_universe(9, [40, 0, 75])
    ind = dataclasses.replace(highest(30, "max_close_30"), inputs=("close",))
    ind = dataclasses.replace(ind, outputs=("max_close_30",))
    got = run(ind, columns, offsets)[0]["max_close_30"]
    for i in range(len(offsets) - 1):
        s = slice(int(offsets[i]), int(offsets[i + 1]))
        assert_close(got[s], talib.MAX(columns["close"][s], 30), 0.0, 0.0, f"ticker {i}")


def test_module_examples_run() -> None:
    assert doctest.testmod(indicators).failed == 0
