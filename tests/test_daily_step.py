"""The daily update's array step: the same numbers and events as the kernels, without them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest

from helpers import load_yahoo
from stockbrief import compute as engine
from stockbrief import detectors as ev
from stockbrief import resume, steady
from stockbrief.compute import EngineState, compute, history_widths, update
from stockbrief.kernels import INDICATORS, Indicator, run_many

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _day_by_day(
    bars: pl.DataFrame, sessions: int, indicators: Mapping[str, Indicator] = INDICATORS
) -> tuple[engine.Computed, list[engine.Computed]]:
    """A full compute over all bars, and the last ``sessions`` dates added one at a time to a
    compute of the rest (through the state's stored form, as the store keeps it)."""
    dates = bars["date"].unique().sort()
    cut = dates[-sessions - 1]
    start = compute(bars.filter(pl.col("date") <= cut), indicators)
    state = EngineState.from_frames(start.state.to_frames())
    steps = []
    for day in dates.filter(dates > cut).to_list():
        step = update(state, bars.filter(pl.col("date") == day), indicators)
        state = step.state
        steps.append(step)
    return compute(bars, indicators), steps


def _assert_same(full: engine.Computed, steps: list[engine.Computed], since: dt.date) -> None:
    later = full.frame.filter(pl.col("date") > since)
    assert pl.concat([s.frame for s in steps]).sort("ticker", "date").equals(later)
    events = full.events.filter(pl.col("date") > since)
    assert pl.concat([s.events for s in steps]).sort("ticker", "date", "kind").equals(events)
    last = steps[-1].state
    for name, kernel in full.state.kernels.items():
        assert np.array_equal(last.kernels[name], kernel, equal_nan=True), name
    for column, history in full.state.history.items():
        assert np.array_equal(last.history[column], history, equal_nan=True), column
    assert last.recent.equals(full.state.recent)


def test_eighty_real_sessions_one_at_a_time_equal_a_full_compute(yahoo30: Path) -> None:
    # Thirty real tickers on three exchanges' calendars: on many dates some have no bar.
    bars = load_yahoo(yahoo30)
    full, steps = _day_by_day(bars, 80)
    since = bars["date"].unique().sort()[-81]
    _assert_same(full, steps, since)
    assert sum(s.events.height for s in steps) > 80
    # BABA's numbers on 2 January 2026, as a reader checks them, came from the daily step.
    baba = pl.concat([s.frame for s in steps]).filter(
        pl.col("ticker") == "BABA", pl.col("date") == dt.date(2026, 1, 2)
    )
    assert baba["sma_50"].item() == pytest.approx(159.36, abs=0.005)
    assert baba["sma_200"].item() == pytest.approx(137.00, abs=0.005)  # unadjusted closes
    assert baba["rel_volume"].item() == pytest.approx(1.4, abs=0.05)


def test_a_warm_universe_updates_without_the_kernels(
    yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars = load_yahoo(yahoo30).filter(pl.col("ticker").is_in(["AAPL", "MSFT", "NVDA", "SPY"]))
    last = bars["date"].max()
    state = compute(bars.filter(pl.col("date") < last)).state
    expected = compute(bars)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kernels ran for a warm ticker's one new session")

    monkeypatch.setattr(resume, "run_many", refuse)
    monkeypatch.setattr(ev, "detect", refuse)
    step = update(state, bars.filter(pl.col("date") == last))
    assert step.frame.equals(expected.frame.filter(pl.col("date") == last))
    assert step.events.equals(expected.events.filter(pl.col("date") == last))


def test_a_volume_missing_long_ago_keeps_the_kernels_idle(
    yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session without volume 100 sessions back is inside the kept rows (the 52-week high's
    # year) but outside every window that reads volume: the steady step still takes NVDA.
    bars = load_yahoo(yahoo30).filter(pl.col("ticker").is_in(["AAPL", "MSFT", "NVDA", "SPY"]))
    dates = bars["date"].unique().sort()
    gap = (pl.col("ticker") == "NVDA") & (pl.col("date") == dates[-101])
    bars = bars.with_columns(pl.when(gap).then(None).otherwise(pl.col("volume")).alias("volume"))
    state = compute(bars.filter(pl.col("date") < dates[-1])).state
    expected = compute(bars)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kernels ran for a warm ticker's one new session")

    monkeypatch.setattr(resume, "run_many", refuse)
    step = update(state, bars.filter(pl.col("date") == dates[-1]))
    assert step.frame.equals(expected.frame.filter(pl.col("date") == dates[-1]))
    # Running volume sums stay unknown since that session, as in a full compute; the prices'
    # indicators over the year that holds it are known.
    nvda = step.frame.filter(pl.col("ticker") == "NVDA")
    assert nvda.select("obv", "mfi_14", "rel_volume").null_count().row(0) == (1, 1, 1)
    assert nvda.select("high_52w", "stoch_k_14", "sar").null_count().row(0) == (0, 0, 0)


def _odd_universe() -> pl.DataFrame:
    """Tickers the steady step must hand back or get exactly right: flat closes (a zero
    volatility, so a move is 0/0), bars without range (high = low = close: flat windows, no
    true range), volume of 0 and missing volume (an index), one session without volume long
    ago (volume lines stay NaN), a late listing, a zero close, and an ordinary random walk."""
    rng = np.random.default_rng(11)
    days = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(330)]
    frames = []
    for ticker in ("FLAT", "STILL", "NOVOL", "INDEX", "GAP", "YOUNG", "ZERO", "WALK"):
        close = 30 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))
        volume: list[int | None] = [int(v) for v in rng.integers(1_000, 90_000, len(days))]
        spread = np.full(len(days), 0.01)
        if ticker == "FLAT":
            close[200:] = close[200]
        if ticker == "STILL":
            close[200:] = close[200]
            spread[200:] = 0.0
        if ticker == "NOVOL":
            volume = [0 if i > 250 else v for i, v in enumerate(volume)]
        if ticker == "INDEX":
            volume = [None] * len(days)
        if ticker == "GAP":
            volume[150] = None
        if ticker == "ZERO":
            close[300] = 0.0
        start = 120 if ticker == "YOUNG" else 0
        frames.append(
            pl.DataFrame(
                {
                    "ticker": ticker,
                    "date": days[start:],
                    "open": close[start:] * 1.001,
                    "high": close[start:] * (1 + spread[start:]),
                    "low": close[start:] * (1 - spread[start:]),
                    "close": close[start:],
                    "volume": volume[start:],
                },
                schema_overrides={"volume": pl.Int64},
            )
        )
    return pl.concat(frames).sort("ticker", "date")


def test_flat_prices_zero_and_missing_volume_equal_a_full_compute() -> None:
    bars = _odd_universe()
    full, steps = _day_by_day(bars, 60)
    _assert_same(full, steps, bars["date"].unique().sort()[-61])


FAMILIES = sorted({ind.family for ind in INDICATORS.values()})
INPUTS = ("open", "high", "low", "close", "volume")

# What the event detectors read: a full compute needs these beside the family under test.
_EVENT_BASE = {key: ind for key, ind in INDICATORS.items() if set(ind.outputs) & set(ev.INPUTS)}


def _family(name: str) -> dict[str, Indicator]:
    """The default set's indicators of one family."""
    return {key: ind for key, ind in INDICATORS.items() if ind.family == name}


def _count_steady(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many tickers each update hands to the steady step (appended as it runs)."""
    batches: list[int] = []
    advance = steady.advance

    def counting(
        indicators: Mapping[str, Indicator],
        states: Mapping[str, FloatArray],
        bar: Mapping[str, FloatArray],
        history: Mapping[str, FloatArray],
    ) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
        batches.append(next(iter(states.values())).shape[0])
        return advance(indicators, states, bar, history)

    monkeypatch.setattr(steady, "advance", counting)
    return batches


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_steps_real_sessions_as_a_full_compute(
    family: str, yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars = load_yahoo(yahoo30)
    batches = _count_steady(monkeypatch)
    full, steps = _day_by_day(bars, 15, {**_EVENT_BASE, **_family(family)})
    _assert_same(full, steps, bars["date"].unique().sort()[-16])
    # The steady step, not the kernels, moved most tickers on most days.
    assert sum(batches) > 15 * 20


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_steps_the_odd_tickers_as_a_full_compute(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars = _odd_universe()
    batches = _count_steady(monkeypatch)
    full, steps = _day_by_day(bars, 60, {**_EVENT_BASE, **_family(family)})
    _assert_same(full, steps, bars["date"].unique().sort()[-61])
    assert sum(batches) > 60 * 3


def _columns(frame: pl.DataFrame) -> tuple[dict[str, FloatArray], IntArray]:
    """The kernels' inputs of a bars frame sorted by ticker and date, and the ticker offsets."""
    lengths = frame.group_by("ticker", maintain_order=True).len()["len"].to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return {c: frame[c].cast(pl.Float64).to_numpy() for c in INPUTS}, offsets


def _kept(values: FloatArray, offsets: IntArray, width: int) -> FloatArray:
    """Each ticker's last ``width`` values, oldest first, NaN before its first bar."""
    at = offsets[1:, None] - width + np.arange(width)[None, :]
    inside = at >= offsets[:-1, None]
    return np.where(inside, values[np.maximum(at, 0)], np.nan)


def _head(bars: pl.DataFrame, without: int) -> pl.DataFrame:
    """Each ticker's bars but its last ``without`` ones."""
    length = pl.len().over("ticker").cast(pl.Int64)
    return bars.filter(pl.int_range(pl.len()).over("ticker") < length - without)


def _step_against_kernels(
    bars: pl.DataFrame, indicators: dict[str, Indicator], backs: Sequence[int]
) -> int:
    """Each ticker's bar ``back`` sessions before its last (for each of ``backs``, descending)
    by the steady step from the kernels' state and kept rows of the bars before it, checked
    bitwise against the kernels run through that bar; returns how many ticker-bars the
    steady step took."""
    widths = history_widths(indicators)
    order = list(indicators.values())
    taken = 0
    carried: tuple[int, list[str], dict[str, FloatArray]] | None = None
    for back in backs:
        upto = _head(bars, back)
        upto = upto.filter(pl.len().over("ticker") >= 2)
        before = _head(upto, 1)
        columns, offsets = _columns(upto)
        prior_columns, prior_offsets = _columns(before)
        tickers = before["ticker"].unique(maintain_order=True).to_list()
        if carried is not None and carried[0] == back + 1 and carried[1] == tickers:
            prior = carried[2]  # the previous bar's run ended where this one starts
        else:
            _, prior = run_many(order, prior_columns, prior_offsets)
        expected, expected_states = run_many(order, columns, offsets)
        carried = (back, upto["ticker"].unique(maintain_order=True).to_list(), expected_states)
        last = offsets[1:] - 1
        bar = {c: columns[c][last] for c in INPUTS}
        kept = {c: _kept(prior_columns[c], prior_offsets, w) for c, w in widths.items()}
        counts = next(iter(prior.values()))[:, 0]
        ok = steady.ready(indicators, counts, bar, kept)
        outputs, states = steady.advance(
            indicators,
            {name: state[ok] for name, state in prior.items()},
            {c: values[ok] for c, values in bar.items()},
            {c: values[ok] for c, values in kept.items()},
        )
        for name, values in outputs.items():
            assert np.array_equal(values, expected[name][last][ok], equal_nan=True), name
        for name, state in states.items():
            assert np.array_equal(state, expected_states[name][ok], equal_nan=True), name
        taken += int(ok.sum())
    return taken


@pytest.mark.parametrize(
    "name", INDICATORS, ids=[f"{ind.family}-{key}" for key, ind in INDICATORS.items()]
)
def test_each_indicator_alone_steps_from_its_first_steady_bar_as_its_kernel(name: str) -> None:
    # Alone, an indicator is ready as soon as its own warm-up ends: the step also meets the
    # kernels' early steady bars (an ADX still being seeded behind the directional
    # indicators), then the odd tickers' last sessions (a zero close, bars without range,
    # volume lines NaN since a session without volume).
    bars = _odd_universe()
    length = 330
    first = INDICATORS[name].lookback + 1
    early = range(length - 1 - first, length - 1 - first - 30, -1)
    taken = _step_against_kernels(bars, {name: INDICATORS[name]}, [*early, *range(39, -1, -1)])
    assert taken > 70 * 3


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_alone_steps_real_bars_as_its_kernel(family: str, yahoo30: Path) -> None:
    bars = load_yahoo(yahoo30)
    assert _step_against_kernels(bars, _family(family), range(14, -1, -1)) > 15 * 25


def test_an_index_without_volume_updates_without_the_kernels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bars = _odd_universe().filter(pl.col("ticker").is_in(["INDEX", "WALK"]))
    last = bars["date"].max()
    state = compute(bars.filter(pl.col("date") < last)).state
    expected = compute(bars)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kernels ran for a warm ticker's one new session")

    monkeypatch.setattr(resume, "run_many", refuse)
    monkeypatch.setattr(engine.ev, "detect", refuse)
    step = update(state, bars.filter(pl.col("date") == last))
    assert step.frame.equals(expected.frame.filter(pl.col("date") == last))
    assert step.frame.filter(pl.col("ticker") == "INDEX")["rel_volume"].is_null().all()


def test_a_missing_volume_empties_the_vwap_for_its_window_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The VWAP sums its 20 sessions afresh each day: a session without volume leaves it unknown
    # for those 20 sessions, then it is back, in the daily steps as in a full compute; the
    # running sums of the OBV stay unknown.
    bars = _odd_universe().filter(pl.col("ticker").is_in(["GAP", "WALK"]))
    dates = bars["date"].unique().sort()
    gap = (pl.col("ticker") == "GAP") & (pl.col("date") == dates[-30])
    bars = bars.with_columns(pl.when(gap).then(None).otherwise(pl.col("volume")).alias("volume"))
    batches = _count_steady(monkeypatch)
    chosen = {**_EVENT_BASE, **_family("vwap"), **_family("obv")}
    full, steps = _day_by_day(bars, 40, chosen)
    _assert_same(full, steps, dates[-41])
    assert sum(batches) >= 2 * 39
    days = pl.concat([s.frame for s in steps]).filter(pl.col("ticker") == "GAP")
    unknown = days.filter(pl.col("vwap_20").is_null())["date"].to_list()
    assert unknown == dates[-30:-10].to_list()
    assert days["obv"].is_null().all()
    last = days.row(-1, named=True)
    window = bars.filter(pl.col("ticker") == "GAP").tail(20)
    typical = (window["high"] + window["low"] + window["close"]) / 3
    expected = (typical * window["volume"]).sum() / window["volume"].sum()
    assert last["vwap_20"] == pytest.approx(expected, rel=1e-12)
