"""The TradingView-style technical rating: every component against TA-Lib on the 30 real yahoo
files, the label bounds of both schemes on each side, a day a reader can recount, no look-ahead,
the facts in both languages, and the ticker page's panel escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import talib

from stockbrief import rating
from stockbrief.notes import glossary, rating_facts
from stockbrief.notes.facts import FactSheet

Float = np.ndarray
END = dt.date(2026, 3, 25)  # the files' last row is an unfinished session
TOLERANCE = 1e-9


def _bars(path: Path, end: dt.date = END) -> pl.DataFrame:
    frame = pl.read_csv(path, try_parse_dates=True).rename(str.lower)
    return frame.filter(pl.col("date") <= end).sort("date")


def _columns(frame: pl.DataFrame) -> tuple[Float, Float, Float, Float]:
    h, lo, c, v = (frame[k].cast(pl.Float64).to_numpy() for k in ("high", "low", "close", "volume"))
    return h, lo, c, v


@pytest.fixture(scope="module")
def universe() -> dict[str, tuple[Float, Float, Float, Float]]:
    from conftest import shared_path

    folder = shared_path("yahoo-30")
    return {f.stem: _columns(_bars(f)) for f in sorted(folder.glob("*.csv"))}


Pair = Callable[[Float, Float, Float, Float], tuple[Float, Float]]


def _stoch(i: int) -> Pair:
    return lambda h, lo, c, v: (
        rating.stochastic(h, lo, c, 14, 3, 3)[i],
        talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[i],
    )


def _dmi(i: int, reference: Callable[..., Float]) -> Pair:
    return lambda h, lo, c, v: (rating.dmi(h, lo, c, 14)[i], reference(h, lo, c, 14))


def _macd(i: int) -> Pair:
    return lambda h, lo, c, v: (rating.macd(c, 12, 26, 9)[i], talib.MACD(c, 12, 26, 9)[i])


def _average(ours: Callable[..., Float], theirs: Callable[..., Float], n: int) -> Pair:
    return lambda h, lo, c, v: (ours(c, n), theirs(c, n))


def _hull_reference(c: Float) -> Float:
    return talib.WMA(2 * talib.WMA(c, 4) - talib.WMA(c, 9), 3)


def _stoch_rsi(h: Float, lo: Float, c: Float, v: Float, i: int) -> tuple[Float, Float]:
    # TradingView's K is the 3-bar mean of the raw stochastic of RSI: TA-Lib's fast %D.
    fast_d = talib.STOCHRSI(c, 14, 14, 3, 0)[1]
    reference = fast_d if i == 0 else talib.SMA(fast_d, 3)
    return rating.stochastic_rsi(c, 14, 14, 3, 3)[i], reference


REFERENCES: dict[str, Pair] = {
    **{f"sma_{n}": _average(rating.sma, talib.SMA, n) for n in rating.MA_LENGTHS},
    **{f"ema_{n}": _average(rating.ema, talib.EMA, n) for n in rating.MA_LENGTHS},
    "ichimoku_base": lambda h, lo, c, v: (rating.midprice(h, lo, 26), talib.MIDPRICE(h, lo, 26)),
    "hull_9": lambda h, lo, c, v: (rating.hull(c, 9), _hull_reference(c)),
    "rsi_14": lambda h, lo, c, v: (rating.rsi(c, 14), talib.RSI(c, 14)),
    "stoch_k": _stoch(0),
    "stoch_d": _stoch(1),
    "cci_20": lambda h, lo, c, v: (rating.cci(h, lo, c, 20), talib.CCI(h, lo, c, 20)),
    "adx_14": _dmi(0, talib.ADX),
    "plus_di_14": _dmi(1, talib.PLUS_DI),
    "minus_di_14": _dmi(2, talib.MINUS_DI),
    "awesome_oscillator": lambda h, lo, c, v: (
        rating.awesome(h, lo),
        talib.SMA((h + lo) / 2, 5) - talib.SMA((h + lo) / 2, 34),
    ),
    "momentum_10": lambda h, lo, c, v: (rating.momentum(c, 10), talib.MOM(c, 10)),
    "macd_line": _macd(0),
    "macd_signal": _macd(1),
    "stoch_rsi_k": lambda h, lo, c, v: _stoch_rsi(h, lo, c, v, 0),
    "stoch_rsi_d": lambda h, lo, c, v: _stoch_rsi(h, lo, c, v, 1),
    "williams_r_14": lambda h, lo, c, v: (
        rating.williams_r(h, lo, c, 14),
        talib.WILLR(h, lo, c, 14),
    ),
    "bull_bear_power_13": lambda h, lo, c, v: (
        np.add(*rating.bull_bear_power(h, lo, c, 13)),
        h + lo - 2 * talib.EMA(c, 13),
    ),
    "ultimate_7_14_28": lambda h, lo, c, v: (
        rating.ultimate(h, lo, c, (7, 14, 28)),
        talib.ULTOSC(h, lo, c, 7, 14, 28),
    ),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_components_match_talib_on_the_30_real_files(
    name: str, universe: dict[str, tuple[Float, Float, Float, Float]]
) -> None:
    for ticker, (h, lo, c, v) in universe.items():
        ours, theirs = REFERENCES[name](h, lo, c, v)
        has = ~np.isnan(theirs)
        assert has.sum() > 0 or ticker == "2513.HK", (ticker, name)
        # Wherever TA-Lib has a value, so do we, and the same one; before TA-Lib's first value
        # we may have one only for the stochastic %K, which TA-Lib holds back until %D starts.
        assert not np.isnan(ours[has]).any(), (ticker, name)
        np.testing.assert_allclose(ours[has], theirs[has], rtol=0, atol=TOLERANCE, err_msg=ticker)
        if name != "stoch_k":
            assert np.isnan(ours[~has]).all(), (ticker, name)


def test_vwma_is_the_volume_weighted_mean_and_missing_without_volume(
    universe: dict[str, tuple[Float, Float, Float, Float]],
) -> None:
    _, _, c, v = universe["BABA"]
    expected = (
        pl.DataFrame({"c": c, "v": v})
        .select((pl.col("c") * pl.col("v")).rolling_sum(20) / pl.col("v").rolling_sum(20))
        .to_series()
        .to_numpy()
    )
    ours = rating.vwma(c, v, 20)
    np.testing.assert_allclose(ours[19:], expected[19:], rtol=1e-12)
    assert np.isnan(ours[:19]).all()
    # VIX reports no volume, but for its bad bar of 2026-03-25 (README: doctor finds it).
    vix = tuple(a[:-1] for a in universe["VIX"])
    assert np.isnan(rating.vwma(vix[2], vix[3], 20)).all()
    result = rating.rate(*vix)
    vwma = next(p for p in result.components if p.name == "vwma_20")
    assert vwma.value is None
    assert vwma.vote is None
    votes = [p.vote for p in result.group("ma") if p.vote is not None]
    assert len(votes) == 14
    assert result.ma == pytest.approx(sum(votes) / 14)


@pytest.mark.parametrize(
    ("value", "current", "legacy"),
    [
        (-1.0, "strong sell", "strong sell"),
        (-0.5000001, "strong sell", "strong sell"),
        (-0.5, "sell", "strong sell"),
        (-0.4999999, "sell", "sell"),
        (-0.1000001, "sell", "sell"),
        (-0.1, "neutral", "sell"),
        (-0.0999999, "neutral", "neutral"),
        (0.0, "neutral", "neutral"),
        (0.0999999, "neutral", "neutral"),
        (0.1, "neutral", "buy"),
        (0.1000001, "buy", "buy"),
        (0.4999999, "buy", "buy"),
        (0.5, "buy", "strong buy"),
        (0.5000001, "strong buy", "strong buy"),
        (1.0, "strong buy", "strong buy"),
    ],
)
def test_labels_on_each_side_of_each_bound(value: float, current: str, legacy: str) -> None:
    assert rating.label(value) == current
    assert rating.label(value, "tradingview") == current
    assert rating.label(value, "tradingview_legacy") == legacy


def test_a_mean_on_a_bound_is_read_as_the_bound() -> None:
    # 3 of 15 averages net to buy and every oscillator buys: (-0.8 + 1) / 2 is 0.1 in exact
    # arithmetic, 0.09999999999999998 in floating point.
    value = (-12 / 15 + 11 / 11) / 2
    assert value != 0.1
    assert rating.label(value) == "neutral"
    assert rating.label(value, "tradingview_legacy") == "buy"


def test_an_unknown_scheme_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="tradingview, tradingview_legacy"):
        rating.label(0.2, "tradingview_2021")  # type: ignore[arg-type]


def test_baba_on_2_january_2026_recounted() -> None:
    """The day of the golden note: BABA closed at 155.74 below its 50- and 100-day averages and
    its Ichimoku base line, above every other average (15 - 3 = 12 buys)."""
    from conftest import shared_path

    frame = _bars(shared_path("yahoo-30", "BABA.csv"), dt.date(2026, 1, 2))
    result = rating.rate(*_columns(frame))
    close = frame["close"][-1]
    mas = {p.name: p for p in result.group("ma")}
    for part in mas.values():
        assert part.value is not None
        assert part.vote == (1 if part.value < close else -1), part
    sells = sorted(n for n, p in mas.items() if p.vote == -1)
    assert sells == ["ichimoku_base", "sma_100", "sma_50"]
    assert result.ma == pytest.approx(12 / 15 - 3 / 15)
    assert mas["sma_50"].value == pytest.approx(frame["close"].tail(50).mean(), abs=1e-9)
    oscillators = result.group("oscillator")
    assert len(oscillators) == 11
    assert all(p.vote is not None for p in oscillators)
    assert result.oscillators == pytest.approx(sum(p.vote or 0 for p in oscillators) / 11)
    assert result.summary == pytest.approx((result.ma + result.oscillators) / 2)
    assert result.label == rating.label(result.summary)
    assert result.ma_label == "strong buy"  # 0.6 > 0.5


def test_nothing_looks_ahead(universe: dict[str, tuple[Float, Float, Float, Float]]) -> None:
    """The rating of a day from the bars up to it equals that day's values in the full series,
    and adding later bars does not change it."""
    h, lo, c, v = universe["NVDA"]
    day = 900
    cut = tuple(a[: day + 1] for a in (h, lo, c, v))
    early = rating.rate(*cut)
    for name, pair in REFERENCES.items():
        full, _ = pair(h, lo, c, v)
        short, _ = pair(*cut)
        assert np.array_equal(full[: day + 1], short, equal_nan=True), name
    again = rating.rate(*(a[: day + 1].copy() for a in (h, lo, c, v)))
    assert early == again
    assert rating.rate(h, lo, c, v) != early  # a later day has its own rating


def test_too_short_a_history_votes_with_what_it_has() -> None:
    # 11 closes, the last far above: three averages have a value, all below the close; no
    # oscillator has two values, so none votes.
    bars = np.linspace(10.0, 12.0, 11)
    bars[-1] = 20.0
    result = rating.rate(bars + 0.5, bars - 0.5, bars, np.full(11, 1000.0))
    voted = {p.name for p in result.components if p.vote is not None}
    assert voted == {"sma_10", "ema_10", "hull_9"}
    assert result.ma == 1.0
    assert result.oscillators is None
    assert result.summary is None
    with pytest.raises(ValueError, match="at least one bar"):
        rating.rate(np.empty(0), np.empty(0), np.empty(0), np.empty(0))


def _sheet(ticker: str, day: dt.date) -> FactSheet:
    from conftest import shared_path

    frame = _bars(shared_path("yahoo-30", f"{ticker}.csv"), day)
    sheet = FactSheet(ticker, frame["date"][-1], "USD", ticker)
    rating_facts.add_rating(sheet, frame)
    return sheet


def test_facts_with_formulas_labels_and_german() -> None:
    sheet = _sheet("BABA", dt.date(2026, 1, 2))
    names = [n for n in sheet.facts if n.startswith("rating")]
    assert names == [
        "rating_summary",
        "rating_label",
        "rating_ma",
        "rating_ma_label",
        "rating_oscillators",
        "rating_oscillators_label",
        "rating_ma_votes",
        "rating_oscillator_votes",
    ]
    assert sheet.value("rating_ma") == pytest.approx(0.6)
    assert sheet.value("rating_ma_label") == "strong buy"
    assert sheet.value("rating_label") == rating.label(sheet.value("rating_summary"))
    votes = sheet.value("rating_ma_votes")
    assert votes[3] == {
        "indicator": "SMA (50)",
        "value": pytest.approx(159.3618, abs=1e-3),
        "vote": "sell",
    }
    assert len(votes) == 15
    assert len(sheet.value("rating_oscillator_votes")) == 11
    fact = sheet.facts["rating_summary"]
    assert fact.source.table == "bars"
    assert fact.source.end == dt.date(2026, 1, 2)
    assert "TradingView" in fact.formula
    assert "not the verdict" in fact.formula
    assert "neutral from -0.1 to 0.1" in sheet.facts["rating_label"].formula
    for name in names:
        assert glossary.fact_label(name, "en") != name
        assert glossary.fact_label(name, "de") != name
        german = glossary.formula(sheet.facts[name], "de", lambda d: d.isoformat())
        assert german != sheet.facts[name].formula, name
    for vote in ("buy", "sell", "neutral", "strong buy", "strong sell"):
        assert glossary.text_value(vote, "de") in {
            "Kaufen",
            "Verkaufen",
            "neutral",
            "starker Kauf",
            "starker Verkauf",
        }
    assert glossary.text_value("Ichimoku base line (9, 26, 52, 26)", "de").startswith(
        "Ichimoku-Basislinie"
    )
    assert set(rating_facts.NAMES) == {p.name for p in rating.rate(*_vix()).components}


def _vix() -> tuple[Float, Float, Float, Float]:
    from conftest import shared_path

    return _columns(_bars(shared_path("yahoo-30", "VIX.csv")))


def test_a_day_without_enough_bars_adds_no_rating() -> None:
    frame = pl.DataFrame(
        {
            "date": [dt.date(2024, 1, 2) + dt.timedelta(days=i) for i in range(5)],
            "high": [11.0] * 5,
            "low": [9.0] * 5,
            "close": [10.0] * 5,
            "volume": [100] * 5,
        }
    )
    sheet = FactSheet("X", frame["date"][-1], "USD", "X")
    rating_facts.add_rating(sheet, frame)
    assert not [n for n in sheet.facts if n.startswith("rating")]


def test_ticker_page_panel_escapes_its_text() -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from stockbrief.web import pages

    hostile = "<script>alert(1)</script>"
    facts = {
        name: fact.to_json() for name, fact in _sheet("BABA", dt.date(2026, 1, 2)).facts.items()
    }
    facts["rating_ma_votes"]["value"][0]["indicator"] = hostile
    view = pages._rating(facts)
    assert view is not None
    assert view.summary == f"{facts['rating_summary']['value']:+.2f}"
    assert view.ma == "+0.60"
    assert view.ma_label == "strong buy"
    page = pages.TickerPage(
        ticker="BABA",
        name="Alibaba",
        as_of=dt.date(2026, 1, 2),
        lang="en",
        headline="h",
        lean="neutral",
        strength="weak",
        events=[],
        sections=[],
        evidence=[],
        evidence_method=None,
        consensus=None,
        news=[],
        news_days=7,
        facts=[],
        rating=view,
    )
    html = pages.render("ticker.html.j2", page=page)
    assert hostile not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="technical-rating"' in html
    assert '<td>SMA (50)</td><td class="num">159.36</td><td>sell</td>' in html
    assert "not the verdict" in html


def test_the_ticker_page_shows_the_rating_of_the_brief(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from conftest import shared_path
    from stockbrief import api
    from stockbrief.web import pages

    store = tmp_path / "rating.duckdb"
    api.ingest("prices", [shared_path("yahoo-30", "BABA.csv")], store=store, end=END)
    page = pages.ticker_page(store, "BABA", dt.date(2026, 1, 2), "en")
    assert page.rating is not None
    assert page.rating.ma == "+0.60"
    assert [row.vote for row in page.rating.ma_votes].count("sell") == 3
    assert len(page.rating.oscillator_votes) == 11
    html = pages.render("ticker.html.j2", page=page)
    assert "<dt>Moving averages</dt><dd>strong buy (+0.60)</dd>" in html
    assert "Labels by scheme tradingview: strong sell below -0.5," in html
    assert "rating_ma_votes" not in html  # lists have their panel, not rows of the facts table


def _reference_votes(h: Float, lo: Float, c: Float, t: int) -> dict[str, int]:
    """The oscillator rules of the module's Notes, read off TA-Lib's series on day ``t``."""

    def gt(a: float, b: float) -> bool:  # above by more than rounding noise
        return bool(a - b > rating.TIE * max(1.0, abs(a), abs(b)))

    def rising(x: Float) -> bool:
        return gt(x[t], x[t - 1])

    def falling(x: Float) -> bool:
        return gt(x[t - 1], x[t])

    def vote(buy: bool, sell: bool) -> int:
        return 1 if buy else -1 if sell else 0

    trend = talib.SMA(c, 50)
    up, down = gt(c[t], trend[t]), gt(trend[t], c[t])
    rsi = talib.RSI(c, 14)
    k, d = talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)
    cci = talib.CCI(h, lo, c, 20)
    adx, pdi, mdi = (
        talib.ADX(h, lo, c, 14),
        talib.PLUS_DI(h, lo, c, 14),
        talib.MINUS_DI(h, lo, c, 14),
    )
    ao = talib.SMA((h + lo) / 2, 5) - talib.SMA((h + lo) / 2, 34)
    mom = talib.MOM(c, 10)
    macd, signal, _ = talib.MACD(c, 12, 26, 9)
    srk = talib.STOCHRSI(c, 14, 14, 3, 0)[1]
    srd = talib.SMA(srk, 3)
    wr = talib.WILLR(h, lo, c, 14)
    ema13 = talib.EMA(c, 13)
    bull, bear = h - ema13, lo - ema13
    uo = talib.ULTOSC(h, lo, c, 7, 14, 28)
    a0, a1, a2 = ao[t], ao[t - 1], ao[t - 2]
    return {
        "rsi_14": vote(rsi[t] < 30 and rising(rsi), rsi[t] > 70 and falling(rsi)),
        "stoch_14_3_3": vote(
            k[t] < 20 and d[t] < 20 and gt(k[t], d[t]), k[t] > 80 and d[t] > 80 and gt(d[t], k[t])
        ),
        "cci_20": vote(cci[t] < -100 and rising(cci), cci[t] > 100 and falling(cci)),
        "adx_14": vote(
            adx[t] > 20 and rising(adx) and gt(pdi[t], mdi[t]),
            adx[t] > 20 and rising(adx) and gt(mdi[t], pdi[t]),
        ),
        "awesome_oscillator": vote(
            (a1 <= 0 < a0) or (min(a0, a1, a2) > 0 and gt(a2, a1) and gt(a0, a1)),
            (a1 >= 0 > a0) or (max(a0, a1, a2) < 0 and gt(a1, a2) and gt(a1, a0)),
        ),
        "momentum_10": vote(rising(mom), falling(mom)),
        "macd_12_26_9": vote(gt(macd[t], signal[t]), gt(signal[t], macd[t])),
        "stoch_rsi_3_3_14_14": vote(
            down and srk[t] < 20 and srd[t] < 20 and gt(srk[t], srd[t]),
            up and srk[t] > 80 and srd[t] > 80 and gt(srd[t], srk[t]),
        ),
        "williams_r_14": vote(wr[t] < -80 and rising(wr), wr[t] > -20 and falling(wr)),
        "bull_bear_power_13": vote(
            up and bear[t] < 0 and gt(bear[t], bear[t - 1]),
            down and bull[t] > 0 and gt(bull[t - 1], bull[t]),
        ),
        "ultimate_7_14_28": vote(uo[t] > 70, uo[t] < 30),
    }


@pytest.mark.parametrize("ticker", ["BABA", "NVDA", "TLT"])
def test_oscillator_votes_follow_the_documented_rules(
    ticker: str, universe: dict[str, tuple[Float, Float, Float, Float]]
) -> None:
    """On 60 real days each and the days RSI stood beyond 30 or 70, the votes equal the rules
    applied to TA-Lib's values, and every rule votes both ways on some day (none is dead)."""
    h, lo, c, v = universe[ticker]
    seen: dict[str, set[int]] = {}
    rsi = talib.RSI(c, 14)
    extremes = np.flatnonzero((rsi < 30) | (rsi > 70))
    days = np.union1d(np.linspace(260, c.size - 1, 60).astype(int), extremes[extremes >= 260])
    for t in days:
        result = rating.rate(h[: t + 1], lo[: t + 1], c[: t + 1], v[: t + 1])
        ours = {p.name: p.vote for p in result.group("oscillator")}
        assert ours == _reference_votes(h, lo, c, int(t)), (ticker, t)
        for name, vote in ours.items():
            seen.setdefault(name, set()).add(vote or 0)
    assert all(len(votes) >= 2 for votes in seen.values()), seen
