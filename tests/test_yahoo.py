"""The Yahoo Finance provider: parsing stored payloads, and downloads that never leave the machine.

The payloads in ``tests/data/yahoo/`` are written by hand in the shape ``fetch_raw`` records (see
``tests/data/yahoo/README.md``); no test talks to Yahoo.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

from stockbrief import calendar, model
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources import yahoo
from stockbrief.sources.validate import FILE, ROW
from stockbrief.sources.yahoo import YahooSource
from stockbrief.sources.yahoo_payload import YahooData, parse_payload, year_on_year

DATA = Path(__file__).parent / "data" / "yahoo"

PAUSES: list[float] = []
"""How long the retries would have waited, in seconds (the tests never wait)."""


def payload(name: str) -> dict[str, Any]:
    """A stored payload, freshly read so that a test may change it."""
    with (DATA / f"{name}.json").open() as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


@pytest.fixture
def aapl() -> dict[str, Any]:
    """AAPL around its 2020-08-31 4-for-1 split, fetched on Saturday 2020-09-05."""
    return payload("aapl-2020-09-05")


@pytest.fixture
def baba() -> dict[str, Any]:
    """BABA fetched on Monday 2026-01-05 at 10:00 New York time, mid-session."""
    return payload("baba-2026-01-05")


def on(frame: pl.DataFrame, day: str) -> dict[str, Any]:
    rows = frame.filter(pl.col("date") == dt.date.fromisoformat(day))
    assert rows.height == 1
    return rows.row(0, named=True)


def yahoo_row(raw: dict[str, Any], ticker: str, day: str) -> dict[str, Any]:
    return next(r for r in raw["tickers"][ticker]["history"] if r["Date"] == day)


# -- parse: bars as traded -----------------------------------------------------------------------


def test_bars_before_a_split_are_restored_to_traded_prices_and_volume(aapl: dict[str, Any]) -> None:
    data = parse_payload(aapl)
    yahoo = yahoo_row(aapl, "AAPL", "2020-08-28")
    bar = on(data.bars, "2020-08-28")
    assert yahoo["Close"] == pytest.approx(124.8075)  # Yahoo's split-adjusted close
    assert bar["close"] == pytest.approx(4 * yahoo["Close"])
    assert bar["close"] == 499.23  # the float32 noise is gone, not just approximately
    assert (bar["open"], bar["high"], bar["low"]) == (504.05, 505.77, 498.31)
    assert bar["volume"] == yahoo["Volume"] // 4 == 46_907_500


def test_bars_from_the_split_on_are_kept_as_yahoo_gives_them(aapl: dict[str, Any]) -> None:
    data = parse_payload(aapl)
    bar = on(data.bars, "2020-08-31")
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (127.58, 131.0, 126.0, 129.04)
    assert bar["volume"] == yahoo_row(aapl, "AAPL", "2020-08-31")["Volume"]
    assert data.bars.height == len(aapl["tickers"]["AAPL"]["history"]) == 25
    assert data.partial_bars == 0


def test_split_and_dividend_become_actions_with_the_dividend_as_paid(
    aapl: dict[str, Any],
) -> None:
    data = parse_payload(aapl)
    assert yahoo_row(aapl, "AAPL", "2020-08-07")["Dividends"] == 0.205  # split-adjusted by Yahoo
    assert data.actions.select("ticker", "date", "kind", "value").rows() == [
        ("AAPL", dt.date(2020, 8, 7), "dividend", 0.82),
        ("AAPL", dt.date(2020, 8, 31), "split", 4.0),
    ]


def test_each_bar_is_scaled_by_the_product_of_the_later_splits(aapl: dict[str, Any]) -> None:
    yahoo_row(aapl, "AAPL", "2020-08-17")["Stock Splits"] = 2.0  # a fictional second split
    data = parse_payload(aapl)
    for day, factor in (("2020-08-14", 8), ("2020-08-17", 4), ("2020-08-28", 4), ("2020-08-31", 1)):
        yahoo = yahoo_row(aapl, "AAPL", day)
        bar = on(data.bars, day)
        assert bar["close"] == pytest.approx(yahoo["Close"] * factor, rel=1e-6), day
        assert bar["volume"] == round(yahoo["Volume"] / factor), day
    assert data.actions.select("date", "kind", "value").rows() == [
        (dt.date(2020, 8, 7), "dividend", 1.64),
        (dt.date(2020, 8, 17), "split", 2.0),
        (dt.date(2020, 8, 31), "split", 4.0),
    ]


def test_an_empty_history_gives_no_bars(aapl: dict[str, Any]) -> None:
    aapl["tickers"]["AAPL"]["history"] = []
    data = parse_payload(aapl)
    assert data.bars.is_empty()
    assert data.actions.is_empty()
    assert list(data.bars.columns) == [*model.BARS, ROW, FILE]
    assert data.consensus.height == 1


def test_every_frame_has_the_model_schema_and_provenance(
    aapl: dict[str, Any], baba: dict[str, Any]
) -> None:
    both = copy.deepcopy(aapl)
    both["tickers"]["BABA"] = baba["tickers"]["BABA"]
    data = parse_payload(both)
    for frame, schema in (
        (data.bars, model.BARS),
        (data.actions, model.ACTIONS),
        (data.ratings, model.RATINGS),
        (data.consensus, model.CONSENSUS),
    ):
        assert frame.schema == pl.Schema({**schema, ROW: pl.Int64(), FILE: pl.Categorical()})
        assert frame[ROW].null_count() == 0
    assert sorted(data.bars["ticker"].unique()) == ["AAPL", "BABA"]
    assert on(data.bars.filter(pl.col("ticker") == "AAPL"), "2020-08-07")[FILE] == (
        "yahoo:AAPL:history"
    )


def test_parse_returns_the_bars_and_counts_the_unfinished_session(
    baba: dict[str, Any],
) -> None:
    parsed = YahooSource(["BABA"], dt.date(2025, 12, 29)).parse(baba)
    assert parsed.filtered == 1
    assert parsed.frame["date"].max() == dt.date(2026, 1, 2)
    bar = on(parsed.frame, "2026-01-02")
    assert (bar["close"], bar["volume"]) == (155.74, 15_778_300)
    assert on(parsed.frame, "2025-12-31")["close"] == 146.58


def test_the_download_day_bar_is_kept_once_its_session_has_ended(baba: dict[str, Any]) -> None:
    baba["fetched_at"] = "2026-01-05T21:30:00Z"  # 16:30 in New York, after the close
    data = parse_payload(baba)
    assert data.partial_bars == 0
    assert on(data.bars, "2026-01-05")["close"] == 158.31


def test_without_a_session_end_the_download_day_bar_is_left_out(baba: dict[str, Any]) -> None:
    baba["fetched_at"] = "2026-01-05T23:00:00Z"
    del baba["tickers"]["BABA"]["session_end"]
    assert parse_payload(baba).partial_bars == 1


# -- parse: ratings and consensus ----------------------------------------------------------------


def test_ratings_map_yahoo_actions_and_turn_zero_targets_into_null(baba: dict[str, Any]) -> None:
    ratings = parse_payload(baba).ratings
    by_firm = {r["firm"]: r for r in ratings.iter_rows(named=True)}
    assert {firm: r["action"] for firm, r in by_firm.items()} == {
        "Nomura": "reiterate",
        "Jefferies": "reiterate",
        "Benchmark": "reiterate",
        "Macquarie": "upgrade",
        "Morgan Stanley": "reiterate",
        "Loop Capital": "initiate",
        "Arete Research": "downgrade",
    }
    macquarie = by_firm["Macquarie"]
    assert macquarie["date"] == dt.date(2025, 10, 2)
    assert (macquarie["rating"], macquarie["prior_rating"]) == ("Outperform", "Neutral")
    assert (macquarie["target"], macquarie["prior_target"]) == (215.0, 135.0)
    loop = by_firm["Loop Capital"]
    assert (loop["rating"], loop["prior_rating"], loop["target"], loop["prior_target"]) == (
        "Buy",
        None,
        None,
        None,
    )
    assert by_firm["Arete Research"]["target"] is None


def test_a_rating_is_dated_the_exchange_day_of_its_publication(aapl: dict[str, Any]) -> None:
    records = aapl["tickers"]["AAPL"]["upgrades_downgrades"]
    records[0]["GradeDate"] = "2020-09-04T01:30:00Z"  # Thursday 21:30 in New York
    ratings = parse_payload(aapl).ratings
    assert ratings.filter(pl.col("firm") == "JP Morgan")["date"].to_list() == [dt.date(2020, 9, 3)]


def test_a_firm_publishing_twice_in_a_day_keeps_its_latest_word(baba: dict[str, Any]) -> None:
    data = parse_payload(baba)
    jefferies = data.ratings.filter(pl.col("firm") == "Jefferies")
    assert jefferies.height == 1
    assert (jefferies["target"][0], jefferies["prior_target"][0]) == (225.0, 230.0)
    assert data.duplicate_ratings == 1
    assert data.ratings.height == len(baba["tickers"]["BABA"]["upgrades_downgrades"]) - 1


def test_consensus_is_the_current_month_and_the_targets_dated_the_download_day(
    baba: dict[str, Any],
) -> None:
    consensus = parse_payload(baba).consensus
    assert consensus.select(list(model.CONSENSUS)).rows(named=True) == [
        {
            "ticker": "BABA",
            "date": dt.date(2026, 1, 5),
            "source": "yahoo",
            "label": None,
            "strong_buy": 11,
            "buy": 28,
            "hold": 4,
            "sell": 0,
            "strong_sell": 0,
            "target_mean": 196.13,
            "target_median": 195.0,
            "target_high": 236.0,
            "target_low": 130.0,
        }
    ]


def test_the_download_day_is_the_exchange_s_not_utc(aapl: dict[str, Any]) -> None:
    aapl["fetched_at"] = "2020-09-05T02:00:00Z"  # still Friday evening in New York
    assert parse_payload(aapl).consensus["date"].to_list() == [dt.date(2020, 9, 4)]


def test_no_current_month_means_no_consensus_row(aapl: dict[str, Any]) -> None:
    section = aapl["tickers"]["AAPL"]
    section["recommendations"] = [r for r in section["recommendations"] if r["period"] != "0m"]
    consensus = parse_payload(aapl).consensus
    assert consensus.is_empty()
    assert list(consensus.columns) == [*model.CONSENSUS, ROW, FILE]


def test_a_ticker_without_analyst_data_has_only_bars_and_actions(aapl: dict[str, Any]) -> None:
    section = aapl["tickers"]["AAPL"]
    section["upgrades_downgrades"] = []
    section["recommendations"] = []
    section["analyst_price_targets"] = {}
    data = parse_payload(aapl)
    assert (data.bars.height, data.actions.height) == (25, 2)
    assert data.ratings.is_empty()
    assert data.consensus.is_empty()


# -- parse: malformed payloads -------------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(raw: dict[str, Any]) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Any:
    def change(raw: dict[str, Any]) -> None:
        target: Any = raw
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


HISTORY = ("tickers", "AAPL", "history")
RECOMMENDATIONS = ("tickers", "AAPL", "recommendations")


@pytest.mark.parametrize(
    ("change", "file", "row", "field", "words"),
    [
        pytest.param(_drop(("tickers",)), "yahoo", None, "tickers", "missing", id="no-tickers"),
        pytest.param(
            _set(("fetched_at",), "yesterday"), "yahoo", None, "fetched_at", "ISO", id="bad-stamp"
        ),
        pytest.param(_set(("format",), 2), "yahoo", None, "format", "upgrade", id="newer-format"),
        pytest.param(
            _set(("tickers", "AAPL", "history"), {"Close": 1}),
            "yahoo:AAPL:history",
            None,
            None,
            "list",
            id="history-not-a-list",
        ),
        pytest.param(
            _drop((*HISTORY, 2, "Close")),
            "yahoo:AAPL:history",
            3,
            "Close",
            "missing",
            id="missing-close",
        ),
        pytest.param(
            _set((*HISTORY, 3, "Close"), "n/a"),
            "yahoo:AAPL:history",
            4,
            "Close",
            "not a finite number",
            id="text-close",
        ),
        pytest.param(
            _set((*HISTORY, 0, "Date"), "08/03/2020"),
            "yahoo:AAPL:history",
            1,
            "Date",
            "not a date",
            id="us-date",
        ),
        pytest.param(
            _set((*HISTORY, 5, "Stock Splits"), -4.0),
            "yahoo:AAPL:history",
            6,
            "Stock Splits",
            "negative",
            id="negative-split",
        ),
        pytest.param(
            _set((*HISTORY, 24, "Date"), "2020-09-07"),
            "yahoo:AAPL:history",
            25,
            "date",
            "not a trading session of XNYS",
            id="labor-day",
        ),
        pytest.param(
            _set((*HISTORY, 1, "Low"), 120.0),
            "yahoo:AAPL:history",
            2,
            "high",
            "high is below low",
            id="high-below-low",
        ),
        pytest.param(
            _set(("tickers", "AAPL", "upgrades_downgrades", 2, "GradeDate"), "last week"),
            "yahoo:AAPL:upgrades_downgrades",
            3,
            "GradeDate",
            "not a date",
            id="grade-date",
        ),
        pytest.param(
            _set(("tickers", "AAPL", "upgrades_downgrades", 1, "Firm"), " "),
            "yahoo:AAPL:upgrades_downgrades",
            2,
            "Firm",
            "empty firm",
            id="empty-firm",
        ),
        pytest.param(
            _set(("tickers", "AAPL", "upgrades_downgrades", 0, "currentPriceTarget"), "high"),
            "yahoo:AAPL:upgrades_downgrades",
            1,
            "currentPriceTarget",
            "not a finite number",
            id="text-target",
        ),
        pytest.param(
            _set((*RECOMMENDATIONS, 0, "buy"), 2.5),
            "yahoo:AAPL:recommendations",
            1,
            "buy",
            "count",
            id="fractional-count",
        ),
        pytest.param(
            _set((*RECOMMENDATIONS, 2, "period"), "0m"),
            "yahoo:AAPL:recommendations",
            3,
            "period",
            "earlier record",
            id="two-current-months",
        ),
        pytest.param(
            _set(("tickers", "AAPL", "analyst_price_targets", "mean"), "122"),
            "yahoo:AAPL:analyst_price_targets",
            None,
            "mean",
            "not a finite number",
            id="text-mean-target",
        ),
        pytest.param(
            _set(("tickers", "AAPL", "timezone"), "Mars/Olympus_Mons"),
            "yahoo:AAPL",
            None,
            "timezone",
            "unknown time zone",
            id="unknown-zone",
        ),
    ],
)
def test_a_malformed_payload_names_section_record_and_field(
    aapl: dict[str, Any],
    change: Any,
    file: str,
    row: int | None,
    field: str | None,
    words: str,
) -> None:
    change(aapl)
    with pytest.raises(InputError, match=words) as caught:
        parse_payload(aapl)
    assert (caught.value.file, caught.value.row, caught.value.field) == (file, row, field)


@pytest.mark.parametrize("raw", [[], "AAPL", None], ids=["list", "text", "null"])
def test_a_payload_that_is_not_an_object_is_refused(raw: Any) -> None:
    with pytest.raises(InputError, match="JSON object"):
        parse_payload(raw)


def test_a_bad_ticker_key_is_refused(aapl: dict[str, Any]) -> None:
    aapl["tickers"]["AAPL; DROP TABLE bars"] = aapl["tickers"].pop("AAPL")
    with pytest.raises(InputError, match="invalid ticker") as caught:
        parse_payload(aapl)
    assert caught.value.field == "tickers"


# -- the source ----------------------------------------------------------------------------------


def test_tickers_are_checked_when_the_source_is_made() -> None:
    source = YahooSource([" baba", "0700.hk", "BABA"], dt.date(2026, 1, 2))
    assert source.tickers == ("BABA", "0700.HK")
    with pytest.raises(InputError, match="invalid ticker"):
        YahooSource(["BABA US"], dt.date(2026, 1, 2))
    with pytest.raises(InputError, match="no tickers"):
        YahooSource([], dt.date(2026, 1, 2))


def test_without_yfinance_the_error_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "yfinance", None)  # makes `import yfinance` fail
    with pytest.raises(ProviderError, match=r"pip install 'stockbrief\[yahoo\]'") as caught:
        YahooSource(["AAPL"], dt.date(2020, 8, 3)).fetch_raw()
    assert "\n" not in str(caught.value)


@pytest.fixture
def yfinance(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real yfinance, with a fresh process-wide session and no cache files on disk."""
    yf = pytest.importorskip("yfinance")
    from yfinance import cache, data

    # yfinance keeps its HTTP session in a process-wide singleton; start from none and put the
    # previous one back afterwards so no test sees another's session.
    monkeypatch.setattr(data.SingletonMeta, "_instances", {})
    monkeypatch.setattr(cache, "get_tz_cache", cache._TzCacheDummy)
    monkeypatch.setattr(cache, "get_cookie_cache", cache._CookieCacheDummy)
    return yf


def test_an_unreachable_yahoo_is_one_line_that_says_to_check_the_network(yfinance: Any) -> None:
    requests = pytest.importorskip("requests")
    calls: list[str] = []

    class Offline(requests.Session):
        """A session whose every request fails as it would with no network."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            calls.append(url)
            raise requests.ConnectionError(f"Failed to resolve {url.split('/')[2]!r}")

    before = yfinance.config.debug.hide_exceptions
    source = YahooSource(["AAPL"], dt.date(2020, 8, 3), session=Offline())
    with pytest.raises(ProviderError) as caught:
        source.fetch_raw()
    message = str(caught.value)
    assert message.startswith("cannot reach Yahoo Finance for AAPL: ")
    assert message.endswith("; check your network connection")
    assert "\n" not in message
    assert calls  # it did try ...
    assert all("yahoo.com" in url for url in calls)  # ... and only Yahoo
    assert yfinance.config.debug.hide_exceptions == before


def test_offline_yfinance_logs_nothing_beside_the_error(
    yfinance: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """yfinance warns ("continuing without crumb") on its way to the failure; the user sees
    the one line only."""
    requests = pytest.importorskip("requests")

    class Offline(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            yfinance.utils.get_yf_logger().warning("Cookie/crumb fetch failed, continuing")
            raise requests.ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")

    level = logging.getLogger("yfinance").level
    with caplog.at_level(logging.WARNING), pytest.raises(ProviderError):
        YahooSource(["AAPL"], dt.date(2020, 8, 3), session=Offline()).fetch_raw()
    assert [r for r in caplog.records if r.name.startswith("yfinance")] == []
    assert logging.getLogger("yfinance").level == level


class FakeTicker:
    """Stands in for ``yfinance.Ticker``, returning the pandas shapes yfinance 1.x returns.

    The frames are built from a stored payload, so a faithful ``fetch_raw`` must write that
    payload's ticker section back.
    """

    requests: ClassVar[list[dict[str, Any]]] = []
    section: ClassVar[dict[str, Any]] = {}
    failure: ClassVar[BaseException | None] = None
    transient: ClassVar[list[BaseException]] = []
    """Failures raised by the next downloads, one each, before they succeed."""
    analyst_failure: ClassVar[BaseException | None] = None

    def __init__(self, ticker: str, session: object | None = None) -> None:
        self.ticker = ticker
        self.session = session

    def history(self, **kwargs: Any) -> Any:
        import pandas as pd

        FakeTicker.requests.append({"ticker": self.ticker, "session": self.session, **kwargs})
        if FakeTicker.transient:
            raise FakeTicker.transient.pop(0)
        if FakeTicker.failure is not None:
            raise FakeTicker.failure
        records = FakeTicker.section["history"]
        index = pd.DatetimeIndex([r["Date"] for r in records], name="Date")
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "Date"} for r in records])
        frame.index = index.tz_localize(FakeTicker.section["timezone"])
        return frame

    @property
    def history_metadata(self) -> dict[str, Any]:
        import pandas as pd

        zone = FakeTicker.section["timezone"]
        end = pd.Timestamp(FakeTicker.section["session_end"]).tz_convert(zone)
        return {
            "currency": FakeTicker.section["currency"],
            "exchangeTimezoneName": zone,
            "currentTradingPeriod": {"regular": {"start": end - pd.Timedelta("6.5h"), "end": end}},
        }

    @property
    def upgrades_downgrades(self) -> Any:
        import pandas as pd

        if FakeTicker.analyst_failure is not None:
            raise FakeTicker.analyst_failure
        records = FakeTicker.section["upgrades_downgrades"]
        stamps = pd.to_datetime([r["GradeDate"] for r in records]).tz_convert(None)
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "GradeDate"} for r in records])
        frame.index = pd.DatetimeIndex(stamps, name="GradeDate")
        return frame

    @property
    def recommendations(self) -> Any:
        import pandas as pd

        return pd.DataFrame(FakeTicker.section["recommendations"])

    @property
    def analyst_price_targets(self) -> dict[str, float]:
        return dict(FakeTicker.section["analyst_price_targets"])

    @property
    def info(self) -> dict[str, Any]:
        # Ticker.info holds far more than the profile; the payload keeps only the profile.
        return {**FakeTicker.section.get("profile", {}), "fullTimeEmployees": 124320}

    @property
    def news(self) -> list[dict[str, Any]]:
        return copy.deepcopy(FakeTicker.section.get("news", []))

    @staticmethod
    def _statement(key: str) -> Any:
        import pandas as pd

        periods = FakeTicker.section.get(key, {})
        frame = pd.DataFrame(periods, dtype=float)
        frame.columns = pd.DatetimeIndex([pd.Timestamp(c) for c in periods])
        return frame

    @property
    def income_stmt(self) -> Any:
        return self._statement("income_stmt")

    @property
    def quarterly_income_stmt(self) -> Any:
        return self._statement("quarterly_income_stmt")

    @property
    def earnings_dates(self) -> Any:
        import pandas as pd

        records = FakeTicker.section.get("earnings_dates", [])
        if not records:
            return None  # yfinance's answer when Yahoo lists no earnings dates
        stamps = pd.to_datetime([r["Earnings Date"] for r in records]).tz_convert(
            "America/New_York"
        )
        frame = pd.DataFrame(
            [{k: v for k, v in r.items() if k != "Earnings Date"} for r in records], dtype=float
        )
        frame.index = pd.DatetimeIndex(stamps, name="Earnings Date")
        return frame


class FakeIndustry:
    """Stands in for ``yfinance.Industry``: ``top_companies`` indexed by symbol."""

    keys: ClassVar[list[str]] = []

    def __init__(self, key: str, session: object | None = None) -> None:
        FakeIndustry.keys.append(key)

    @property
    def top_companies(self) -> Any:
        import pandas as pd

        records = FakeTicker.section.get("industry_top", [])
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "symbol"} for r in records])
        frame.index = pd.Index([r["symbol"] for r in records], name="symbol")
        return frame


@pytest.fixture
def fake_ticker(yfinance: Any, monkeypatch: pytest.MonkeyPatch, aapl: dict[str, Any]) -> Any:
    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    monkeypatch.setattr(yfinance, "Industry", FakeIndustry)
    monkeypatch.setattr(FakeIndustry, "keys", [])
    monkeypatch.setattr(FakeTicker, "requests", [])
    monkeypatch.setattr(FakeTicker, "section", aapl["tickers"]["AAPL"])
    monkeypatch.setattr(FakeTicker, "failure", None)
    monkeypatch.setattr(FakeTicker, "transient", [])
    monkeypatch.setattr(yahoo, "pause", PAUSES.append)
    PAUSES.clear()
    monkeypatch.setattr(FakeTicker, "analyst_failure", None)
    return FakeTicker


def test_fetch_raw_records_what_yfinance_returns_as_the_stored_payload(
    fake_ticker: Any, aapl: dict[str, Any]
) -> None:
    session = object()
    source = YahooSource(["aapl"], dt.date(2020, 8, 3), session=session)
    raw = source.fetch_raw()
    assert fake_ticker.requests == [
        {
            "ticker": "AAPL",
            "session": session,
            "start": "2020-08-03",
            "interval": "1d",
            "auto_adjust": False,
            "actions": True,
        }
    ]
    assert json.loads(json.dumps(raw, allow_nan=False)) == raw  # plain JSON, nothing lost
    assert raw["tickers"] == {"AAPL": {**aapl["tickers"]["AAPL"], **NO_COMPANY_DATA}}
    assert FakeIndustry.keys == []  # no profile, so no industry to ask about
    assert (raw["provider"], raw["format"], raw["since"]) == ("yahoo", 1, "2020-08-03")
    assert raw["fetched_at"].endswith("Z")
    data = source.load_all()
    assert isinstance(data, YahooData)
    assert on(data.bars, "2020-08-28")["close"] == 499.23


NO_COMPANY_DATA: dict[str, Any] = {
    "profile": {},
    "news": [],
    "income_stmt": {},
    "quarterly_income_stmt": {},
    "earnings_dates": [],
    "industry_top": [],
}


def test_fetch_raw_records_profile_news_statements_and_industry_as_the_payload(
    fake_ticker: Any, baba: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_ticker, "section", baba["tickers"]["BABA"])
    raw = YahooSource(["BABA"], dt.date(2025, 12, 29)).fetch_raw()
    assert json.loads(json.dumps(raw, allow_nan=False)) == raw
    assert raw["tickers"]["BABA"] == baba["tickers"]["BABA"]
    assert "fullTimeEmployees" not in raw["tickers"]["BABA"]["profile"]
    assert FakeIndustry.keys == ["internet-retail"]


def test_analyst_data_yahoo_does_not_have_is_recorded_as_empty(fake_ticker: Any) -> None:
    requests = pytest.importorskip("requests")
    response = requests.Response()
    response.status_code = 404
    fake_ticker.analyst_failure = requests.HTTPError(
        "404 No fundamentals data found", response=response
    )
    raw = YahooSource(["AAPL"], dt.date(2020, 8, 3)).fetch_raw()
    assert raw["tickers"]["AAPL"]["upgrades_downgrades"] == []
    assert parse_payload(raw).ratings.is_empty()


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        pytest.param("YFRateLimitError", r"rate-limiting .* wait a few minutes", id="rate-limit"),
        pytest.param("YFTzMissingError", r"does not know AAPL .* check the symbol", id="unknown"),
        pytest.param("http-500", r"answered HTTP 500 for AAPL: .* try again later", id="http-500"),
        pytest.param("timeout", r"cannot reach .* check your network connection", id="timeout"),
        pytest.param("bug", r"yfinance could not read .* KeyError", id="yfinance-bug"),
    ],
)
def test_download_failures_are_one_line_provider_errors(
    fake_ticker: Any, failure: str, words: str
) -> None:
    requests = pytest.importorskip("requests")
    from yfinance import exceptions

    if failure == "YFRateLimitError":
        fake_ticker.failure = exceptions.YFRateLimitError()
    elif failure == "YFTzMissingError":
        fake_ticker.failure = exceptions.YFTzMissingError("AAPL")
    elif failure == "http-500":
        response = requests.Response()
        response.status_code = 500
        fake_ticker.failure = requests.HTTPError("500 Server Error", response=response)
    elif failure == "timeout":
        fake_ticker.failure = requests.ReadTimeout("Read timed out. (read timeout=10)")
    else:
        fake_ticker.failure = KeyError("chart")
    with pytest.raises(ProviderError, match=words) as caught:
        YahooSource(["AAPL"], dt.date(2020, 8, 3)).fetch_raw()
    assert "\n" not in str(caught.value)


# -- parse: company data -------------------------------------------------------------------------


def test_the_profile_becomes_the_securities_row(baba: dict[str, Any]) -> None:
    securities = parse_payload(baba).securities
    assert securities.schema == pl.Schema(
        {**model.SECURITIES, ROW: pl.Int64(), FILE: pl.Categorical()}
    )
    row = securities.row(0, named=True)
    assert (row["ticker"], row["name"], row["exchange"], row["currency"]) == (
        "BABA",
        "Alibaba Group Holding Limited",
        "XNYS",
        "USD",
    )
    assert (row["sector"], row["industry"], row["peer_group"]) == (
        "Consumer Cyclical",
        "Internet Retail",
        None,
    )
    assert row["type"] == "stock"


@pytest.mark.parametrize(
    ("profile", "ticker", "expected"),
    [
        pytest.param(
            {"shortName": "TENCENT", "quoteType": "EQUITY", "exchange": "HKG", "currency": "HKD"},
            "0700.HK",
            ("TENCENT", "XHKG", "HKD", "stock"),
            id="short-name-hong-kong",
        ),
        pytest.param(
            {"longName": "CBOE Volatility Index", "quoteType": "INDEX", "exchange": "CXI"},
            "^VIX",
            ("CBOE Volatility Index", "XNYS", "USD", "index"),
            id="index-unknown-exchange-code",
        ),
        pytest.param(
            {"longName": "SPDR S&P 500 ETF Trust", "quoteType": "ETF", "exchange": "PCX"},
            "SPY",
            ("SPDR S&P 500 ETF Trust", "XNYS", "USD", "etf"),
            id="etf",
        ),
    ],
)
def test_profiles_of_other_instruments(
    baba: dict[str, Any], profile: dict[str, Any], ticker: str, expected: tuple[Any, ...]
) -> None:
    section = baba["tickers"].pop("BABA")
    section["profile"] = profile
    baba["tickers"][ticker] = section
    row = parse_payload(baba).securities.row(0, named=True)
    assert (row["name"], row["exchange"], row["currency"]) == expected[:3]
    assert row["type"] == expected[3]


def test_no_profile_means_no_securities_row(aapl: dict[str, Any]) -> None:
    data = parse_payload(aapl)
    assert data.securities.is_empty()
    assert data.news.is_empty()
    assert data.kpis.is_empty()
    assert data.industry_peers.is_empty()


def test_news_of_both_yfinance_shapes_keep_publisher_time_link_and_subjects(
    baba: dict[str, Any],
) -> None:
    data = parse_payload(baba)
    rows = data.news.sort("published_at").rows(named=True)
    assert [(r["published_at"], r["source"]) for r in rows] == [
        (dt.datetime(2026, 1, 1, 9, 10, tzinfo=dt.UTC), "Motley Fool"),  # flat, epoch seconds
        (dt.datetime(2026, 1, 2, 15, 42, tzinfo=dt.UTC), "Reuters"),  # pubDate, not displayTime
        (dt.datetime(2026, 1, 5, 13, 20, tzinfo=dt.UTC), "Barron's"),
    ]
    assert rows[1]["headline"] == (
        "Chinese tech stocks rally at the start of 2026 as AI optimism builds"
    )
    assert rows[1]["url"] == (
        "https://www.reuters.com/markets/asia/chinese-tech-stocks-rally-start-2026-2026-01-02/"
    )
    assert [r["tickers"] for r in rows] == [["BABA", "BIDU"], ["BABA", "BIDU", "JD"], ["BABA"]]
    assert rows[0]["body"] is None
    assert rows[2]["body"].startswith("Shares of Alibaba rose")
    assert data.skipped_news == 1  # the video without a title


def test_news_published_after_the_download_is_left_out(baba: dict[str, Any]) -> None:
    baba["fetched_at"] = "2026-01-05T13:00:00Z"  # before the Barron's story
    data = parse_payload(baba)
    assert data.news.height == 2
    assert data.skipped_news == 2


def test_kpis_come_from_both_statements_in_the_reporting_currency(baba: dict[str, Any]) -> None:
    kpis = parse_payload(baba).kpis
    assert kpis.schema == pl.Schema({**model.KPIS, ROW: pl.Int64(), FILE: pl.Categorical()})
    assert kpis.height == (5 + 4) * 4
    latest = {
        r["name"]: r
        for r in kpis.filter(pl.col("period_end") == dt.date(2025, 9, 30)).iter_rows(named=True)
    }
    assert sorted(latest) == [
        "Quarterly diluted EPS",
        "Quarterly net income",
        "Quarterly operating income",
        "Quarterly revenue",
    ]
    revenue = latest["Quarterly revenue"]
    assert (revenue["value"], revenue["unit"], revenue["source"]) == (247_795e6, "CNY", "yahoo")
    assert latest["Quarterly diluted EPS"]["value"] == 1.09  # Diluted EPS, not Basic EPS
    assert kpis["yoy"].null_count() == kpis.height  # computed from stored periods, not here


def test_a_kpi_is_known_from_the_earnings_release_after_its_period(baba: dict[str, Any]) -> None:
    kpis = parse_payload(baba).kpis.filter(pl.col("name").str.ends_with("revenue"))
    known = dict(zip(kpis["period_end"], kpis["known_at"], strict=True))
    release = dt.datetime(2025, 11, 25, 11, 30, tzinfo=dt.UTC)
    assert known[dt.date(2025, 9, 30)] == release
    assert known[dt.date(2025, 3, 31)] == dt.datetime(2025, 5, 15, 11, 30, tzinfo=dt.UTC)
    # No release listed within 120 days of March 2022: known from the download, no earlier.
    assert known[dt.date(2022, 3, 31)] == dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)


def test_a_release_announced_for_later_does_not_date_a_figure(baba: dict[str, Any]) -> None:
    """Yahoo lists the next release (19 February) before it happens; a figure in the download
    is known from the download, not from a date still to come."""
    section = baba["tickers"]["BABA"]
    q3 = section["quarterly_income_stmt"]["2025-09-30"]
    section["quarterly_income_stmt"] = {"2025-12-31": q3}
    kpis = parse_payload(baba).kpis.filter(pl.col("period_end") == dt.date(2025, 12, 31))
    assert kpis.height == 4
    assert kpis["known_at"].unique().to_list() == [dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)]


def test_industry_top_companies_are_peers_without_the_ticker_itself(
    baba: dict[str, Any],
) -> None:
    peers = parse_payload(baba).industry_peers
    assert peers.rows() == [
        ("BABA", "internet-retail", "AMZN", "Amazon.com, Inc."),
        ("BABA", "internet-retail", "PDD", "PDD Holdings Inc."),
        ("BABA", "internet-retail", "MELI", "MercadoLibre, Inc."),
        ("BABA", "internet-retail", "JD", "JD.com, Inc."),
    ]


def _kpi_rows(*rows: tuple[str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"ticker": "BABA", "period_end": dt.date.fromisoformat(d), "name": n, "value": v}
            for d, n, v in rows
        ]
    ).with_columns(pl.lit(None, dtype=pl.Float64).alias("yoy"))


def test_year_on_year_compares_with_the_period_a_year_earlier() -> None:
    rows = _kpi_rows(
        ("2024-09-30", "Quarterly revenue", 236_503.0),
        ("2024-12-31", "Quarterly revenue", 280_154.0),
        ("2025-09-30", "Quarterly revenue", 247_795.0),
        ("2025-03-31", "Annual revenue", 996_347.0),
        ("2024-03-31", "Annual revenue", 941_168.0),
        ("2025-09-27", "Quarterly net income", 5.0),  # a 52-53-week year: 368 days apart
        ("2024-09-24", "Quarterly net income", -2.0),
        ("2025-06-30", "Quarterly operating income", 10.0),
        ("2024-07-31", "Quarterly operating income", 8.0),  # 334 days: not a year earlier
    )
    out = year_on_year(rows)
    assert out.columns == rows.columns
    yoy = dict(zip(zip(out["name"], out["period_end"], strict=True), out["yoy"], strict=True))
    assert yoy[("Quarterly revenue", dt.date(2025, 9, 30))] == pytest.approx(247_795 / 236_503 - 1)
    assert yoy[("Quarterly revenue", dt.date(2025, 9, 30))] == pytest.approx(0.0477, abs=1e-4)
    assert yoy[("Annual revenue", dt.date(2025, 3, 31))] == pytest.approx(0.0586, abs=1e-4)
    assert yoy[("Quarterly revenue", dt.date(2024, 12, 31))] is None  # no year-earlier period
    assert yoy[("Quarterly net income", dt.date(2025, 9, 27))] is None  # from a loss: no ratio
    assert yoy[("Quarterly operating income", dt.date(2025, 6, 30))] is None


@pytest.mark.parametrize(
    ("change", "file", "row", "field", "words"),
    [
        pytest.param(
            _set(("tickers", "BABA", "profile"), ["Alibaba"]),
            "yahoo:BABA:profile",
            None,
            None,
            "not an object",
            id="profile-not-object",
        ),
        pytest.param(
            _set(("tickers", "BABA", "profile", "currency"), "RMB"),
            "yahoo:BABA:profile",
            None,
            "currency",
            "RMB",
            id="unknown-currency",
        ),
        pytest.param(
            _set(("tickers", "BABA", "quarterly_income_stmt", "Q3 2025"), {"Total Revenue": 1.0}),
            "yahoo:BABA:quarterly_income_stmt",
            6,
            None,
            "period end",
            id="bad-period",
        ),
        pytest.param(
            _set(("tickers", "BABA", "news"), {"title": "x"}),
            "yahoo:BABA:news",
            None,
            None,
            "list",
            id="news-not-a-list",
        ),
        pytest.param(
            _set(("tickers", "BABA", "earnings_dates", 1, "Earnings Date"), "soon"),
            "yahoo:BABA:earnings_dates",
            None,
            "Earnings Date",
            "ISO timestamp",
            id="bad-earnings-date",
        ),
    ],
)
def test_malformed_company_data_names_section_and_field(
    baba: dict[str, Any],
    change: Any,
    file: str,
    row: int | None,
    field: str | None,
    words: str,
) -> None:
    change(baba)
    with pytest.raises(InputError, match=words) as caught:
        parse_payload(baba)
    assert (caught.value.file, caught.value.row, caught.value.field) == (file, row, field)


# -- retries and the download cache --------------------------------------------------------------


def test_a_rate_limited_download_is_tried_again_after_growing_pauses(
    fake_ticker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from yfinance import exceptions

    fake_ticker.transient = [exceptions.YFRateLimitError(), exceptions.YFRateLimitError()]
    raw = YahooSource(["AAPL"], dt.date(2020, 8, 3)).fetch_raw()
    assert len(fake_ticker.requests) == 3
    assert PAUSES == list(yahoo.RETRY_DELAYS[:2]) == [5.0, 20.0]
    assert len(raw["tickers"]["AAPL"]["history"]) == 25
    assert "rate-limiting requests for AAPL; trying again in 5 s" in caplog.text


def test_a_rate_limit_that_lasts_ends_in_one_line_after_the_last_try(fake_ticker: Any) -> None:
    from yfinance import exceptions

    fake_ticker.failure = exceptions.YFRateLimitError()
    with pytest.raises(ProviderError, match="rate-limiting"):
        YahooSource(["AAPL"], dt.date(2020, 8, 3)).fetch_raw()
    assert len(fake_ticker.requests) == 1 + len(yahoo.RETRY_DELAYS)
    assert PAUSES == [5.0, 20.0, 60.0]


def test_other_failures_are_not_tried_again(fake_ticker: Any) -> None:
    fake_ticker.failure = KeyError("chart")
    with pytest.raises(ProviderError):
        YahooSource(["AAPL"], dt.date(2020, 8, 3)).fetch_raw()
    assert (len(fake_ticker.requests), PAUSES) == (1, [])


def test_a_refetch_the_same_day_reads_the_cache_until_a_session_closes(
    fake_ticker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fetch_at(moment: str, **options: Any) -> dict[str, Any]:
        monkeypatch.setattr(calendar, "now", lambda: dt.datetime.fromisoformat(moment))
        source = YahooSource(["AAPL"], dt.date(2020, 8, 3), cache=tmp_path, **options)
        return source.fetch_raw()

    first = fetch_at("2020-09-04T15:00:00+00:00")  # Friday 11:00 in New York, trading
    assert len(fake_ticker.requests) == 1
    assert json.loads((tmp_path / "AAPL.json").read_text())["section"] == first["tickers"]["AAPL"]
    again = fetch_at("2020-09-04T17:00:00+00:00")
    assert len(fake_ticker.requests) == 1  # no network
    section = again["tickers"]["AAPL"]
    assert section["fetched_at"] == "2020-09-04T15:00:00Z"  # judged as of its download
    assert parse_payload(again).partial_bars == parse_payload(first).partial_bars == 1
    fetch_at("2020-09-04T17:30:00+00:00", reuse=False)
    assert len(fake_ticker.requests) == 2  # asked to download anew
    fetch_at("2020-09-04T20:30:00+00:00")  # the session closed since: its final bar is due
    assert len(fake_ticker.requests) == 3
    assert parse_payload(fetch_at("2020-09-04T21:00:00+00:00")).partial_bars == 0
    assert len(fake_ticker.requests) == 3


def test_the_cache_is_not_used_for_a_longer_history_or_another_day(
    fake_ticker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar, "now", lambda: dt.datetime(2020, 9, 5, 14, tzinfo=dt.UTC))
    YahooSource(["AAPL"], dt.date(2020, 8, 10), cache=tmp_path).fetch_raw()
    shorter = YahooSource(["AAPL"], dt.date(2020, 8, 17), cache=tmp_path).fetch_raw()
    assert len(fake_ticker.requests) == 1
    assert shorter["tickers"]["AAPL"]["history"][0]["Date"] == "2020-08-17"
    YahooSource(["AAPL"], dt.date(2020, 8, 3), cache=tmp_path).fetch_raw()
    assert len(fake_ticker.requests) == 2  # the cached history began later than asked
    monkeypatch.setattr(calendar, "now", lambda: dt.datetime(2020, 9, 8, 14, tzinfo=dt.UTC))
    YahooSource(["AAPL"], dt.date(2020, 8, 3), cache=tmp_path).fetch_raw()
    assert len(fake_ticker.requests) == 3
    (tmp_path / "AAPL.json").write_text("{not json")
    YahooSource(["AAPL"], dt.date(2020, 8, 3), cache=tmp_path).fetch_raw()
    assert len(fake_ticker.requests) == 4  # an unreadable entry is downloaded anew
