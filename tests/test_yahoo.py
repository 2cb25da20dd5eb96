"""The Yahoo Finance provider: parsing stored payloads, and downloads that never leave the machine.

The payloads in ``tests/data/yahoo/`` are written by hand in the shape ``fetch_raw`` records (see
``tests/data/yahoo/README.md``); no test talks to Yahoo.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

from stockbrief import model
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources.validate import FILE, ROW
from stockbrief.sources.yahoo import YahooData, YahooSource, parse_payload

DATA = Path(__file__).parent / "data" / "yahoo"


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


class FakeTicker:
    """Stands in for ``yfinance.Ticker``, returning the pandas shapes yfinance 1.x returns.

    The frames are built from a stored payload, so a faithful ``fetch_raw`` must write that
    payload's ticker section back.
    """

    requests: ClassVar[list[dict[str, Any]]] = []
    section: ClassVar[dict[str, Any]] = {}
    failure: ClassVar[BaseException | None] = None
    analyst_failure: ClassVar[BaseException | None] = None

    def __init__(self, ticker: str, session: object | None = None) -> None:
        self.ticker = ticker
        self.session = session

    def history(self, **kwargs: Any) -> Any:
        import pandas as pd

        FakeTicker.requests.append({"ticker": self.ticker, "session": self.session, **kwargs})
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


@pytest.fixture
def fake_ticker(yfinance: Any, monkeypatch: pytest.MonkeyPatch, aapl: dict[str, Any]) -> Any:
    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    monkeypatch.setattr(FakeTicker, "requests", [])
    monkeypatch.setattr(FakeTicker, "section", aapl["tickers"]["AAPL"])
    monkeypatch.setattr(FakeTicker, "failure", None)
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
    assert raw["tickers"] == aapl["tickers"]
    assert (raw["provider"], raw["format"], raw["since"]) == ("yahoo", 1, "2020-08-03")
    assert raw["fetched_at"].endswith("Z")
    data = source.load_all()
    assert isinstance(data, YahooData)
    assert on(data.bars, "2020-08-28")["close"] == 499.23


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
