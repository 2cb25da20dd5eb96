"""SEC EDGAR company facts: parsing a recorded payload, the polite client against a local
server, and point-in-time KPIs in the store.

The files in ``tests/data/edgar/`` are written by hand in the shapes the SEC serves (see the
README there); the client is exercised against an HTTP server on this machine, never the SEC.
"""

from __future__ import annotations

import copy
import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from typer.testing import CliRunner

from stockbrief import api, calendar
from stockbrief.cli import app
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources import edgar
from stockbrief.sources.edgar import EdgarSource, parse_payload

DATA = Path(__file__).parent / "data" / "edgar"
AGENT = "Jane Doe jane@example.com"


FILINGS = (
    ("10-K", "0000320193-24-000123", "2024-11-01", "aapl-20240928"),
    ("10-Q", "0000320193-25-000008", "2025-01-31", "aapl-20241228"),
)
"""Apple's latest 10-K on 3 February 2025 and the 10-Q filed after it."""


def payload() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "aapl-2025-02-03.json").read_text())
    return loaded


def with_filings() -> dict[str, Any]:
    """The payload with the two filings' XBRL instances and labels, as fetch_raw adds them."""
    raw = payload()
    raw["companies"]["AAPL"]["filings"] = [
        {
            "form": form,
            "accession": accession,
            "filed": filed,
            "instance_name": f"{stem}_htm.xml",
            "instance": (DATA / f"{stem}_htm.xml").read_text(),
            "labels": (DATA / f"{stem}_lab.xml").read_text(),
        }
        for form, accession, filed, stem in FILINGS
    ]
    return raw


def kpi(frame: pl.DataFrame, name: str, end: str) -> dict[str, Any]:
    rows = frame.filter(
        (pl.col("name") == name) & (pl.col("period_end") == dt.date.fromisoformat(end))
    )
    assert rows.height == 1
    return rows.row(0, named=True)


# -- parse ---------------------------------------------------------------------------------------


def test_quarters_and_years_with_the_first_filing_that_reported_them() -> None:
    kpis = parse_payload(payload())
    year = kpi(kpis, "Annual revenue", "2024-09-28")
    assert (year["value"], year["unit"], year["source"]) == (391_035e6, "USD", "sec")
    assert year["known_at"] == dt.datetime(2024, 11, 2, tzinfo=dt.UTC)  # the day after filing
    quarter = kpi(kpis, "Quarterly revenue", "2023-12-30")
    # Repeated as a comparative in the 10-Q of January 2025: known since February 2024.
    assert quarter["known_at"] == dt.datetime(2024, 2, 3, tzinfo=dt.UTC)
    assert kpi(kpis, "Quarterly diluted EPS", "2024-12-28")["value"] == 2.40
    assert kpi(kpis, "Annual net income", "2023-09-30")["value"] == 96_995e6
    assert kpi(kpis, "Quarterly operating income", "2024-12-28")["value"] == 42_832e6


def test_an_older_concept_fills_the_years_the_newer_does_not_cover() -> None:
    kpis = parse_payload(payload())
    assert kpi(kpis, "Annual revenue", "2017-09-30")["value"] == 229_234e6  # us-gaap:Revenues
    assert kpis.filter(pl.col("name") == "Annual revenue").height == 3


def test_nine_months_to_date_is_neither_a_quarter_nor_a_year() -> None:
    kpis = parse_payload(payload())
    assert dt.date(2024, 6, 29) not in kpis["period_end"].to_list()


def test_shares_outstanding_at_each_cover_page_date() -> None:
    shares = parse_payload(payload()).filter(pl.col("name") == "Shares outstanding")
    assert shares.select("period_end", "value", "unit").rows()[-1] == (
        dt.date(2025, 1, 17),
        14_935_826_000.0,
        "shares",
    )
    assert shares.height == 4


def test_a_foreign_issuers_count_of_ordinary_shares_is_not_stored() -> None:
    raw = payload()
    counts = raw["companies"]["AAPL"]["facts"]["facts"]["dei"]
    counts["EntityCommonStockSharesOutstanding"]["units"]["shares"][-1]["form"] = "20-F"
    shares = parse_payload(raw).filter(pl.col("name") == "Shares outstanding")
    assert shares["period_end"].to_list()[-1] == dt.date(2024, 10, 18)
    assert shares.height == 3


@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param(lambda r: r.pop("companies"), "missing or not an object", id="no-companies"),
        pytest.param(lambda r: r["companies"]["AAPL"].pop("facts"), "companyfacts", id="no-facts"),
        pytest.param(
            lambda r: r["companies"]["AAPL"]["facts"]["facts"]["us-gaap"]["NetIncomeLoss"]["units"][
                "USD"
            ][0].update(val="n/a"),
            "not a number",
            id="text-value",
        ),
        pytest.param(
            lambda r: r["companies"]["AAPL"]["facts"]["facts"]["us-gaap"]["NetIncomeLoss"]["units"][
                "USD"
            ][1].update(filed="last week"),
            "must be dates",
            id="bad-filed",
        ),
    ],
)
def test_a_malformed_payload_is_refused_naming_where(change: Any, words: str) -> None:
    raw = payload()
    change(raw)
    with pytest.raises(InputError, match=words):
        parse_payload(raw)


# -- the client ----------------------------------------------------------------------------------


ARCHIVE = "/Archives/edgar/data/320193/"
SERVED: dict[str, Path] = {
    "/files/company_tickers.json": DATA / "company_tickers.json",
    "/submissions/CIK0000320193.json": DATA / "submissions-CIK0000320193.json",
    **{
        f"{ARCHIVE}{accession.replace('-', '')}/{name}": DATA / name
        for _, accession, _, stem in FILINGS
        for name in (f"{stem}_htm.xml", f"{stem}_lab.xml")
    },
    **{
        f"{ARCHIVE}{accession.replace('-', '')}/index.json": DATA
        / f"index-{accession.replace('-', '')}.json"
        for _, accession, _, _ in FILINGS
    },
}
"""Paths on the SEC's hosts and the recorded documents served for them."""

FIRST_FETCH = [
    "/files/company_tickers.json",
    "/api/xbrl/companyfacts/CIK0000320193.json",
    "/submissions/CIK0000320193.json",
    f"{ARCHIVE}000032019324000123/index.json",
    f"{ARCHIVE}000032019324000123/aapl-20240928_htm.xml",
    f"{ARCHIVE}000032019324000123/aapl-20240928_lab.xml",
    f"{ARCHIVE}000032019325000008/index.json",
    f"{ARCHIVE}000032019325000008/aapl-20241228_htm.xml",
    f"{ARCHIVE}000032019325000008/aapl-20241228_lab.xml",
]


class SecLike(http.server.BaseHTTPRequestHandler):
    """Serves the recorded ticker list, Apple's company facts, filings list and filings, and
    notes each request."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        SecLike.seen.append((self.path, self.headers.get("User-Agent")))
        if self.path in SERVED:
            body = SERVED[self.path].read_bytes()
        elif self.path == "/api/xbrl/companyfacts/CIK0000320193.json":
            body = json.dumps(payload()["companies"]["AAPL"]["facts"]).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sec(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local server standing in for the SEC; the source's URLs point at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SecLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(EdgarSource, "tickers_url", f"{base}/files/company_tickers.json")
    monkeypatch.setattr(
        EdgarSource, "facts_url", base + "/api/xbrl/companyfacts/CIK{cik:010d}.json"
    )
    monkeypatch.setattr(EdgarSource, "submissions_url", base + "/submissions/CIK{cik:010d}.json")
    monkeypatch.setattr(
        EdgarSource, "archives_url", base + "/Archives/edgar/data/{cik}/{folder}/{name}"
    )
    monkeypatch.setattr(SecLike, "seen", [])
    yield base
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_client_names_itself_and_records_what_the_sec_serves(sec: str) -> None:
    raw = EdgarSource(["aapl"], user_agent=AGENT).fetch_raw()
    assert SecLike.seen == [(path, AGENT) for path in FIRST_FETCH]
    assert raw["companies"] == with_filings()["companies"]
    assert (raw["provider"], raw["format"]) == ("sec", 1)
    assert raw["fetched_at"].endswith("Z")


def test_a_refetch_the_same_day_reads_the_cache(
    sec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fetch_at(moment: dt.datetime, **options: Any) -> dict[str, Any]:
        monkeypatch.setattr(calendar, "now", lambda: moment)
        source = EdgarSource(["AAPL"], user_agent=AGENT, cache=tmp_path, **options)
        return source.fetch_raw()

    first = fetch_at(dt.datetime(2025, 2, 3, 12, tzinfo=dt.UTC))
    again = fetch_at(dt.datetime(2025, 2, 3, 18, tzinfo=dt.UTC))
    assert len(SecLike.seen) == 9  # the second fetch asked nothing
    assert again["companies"] == first["companies"]
    fetch_at(dt.datetime(2025, 2, 3, 19, tzinfo=dt.UTC), reuse=False)
    assert len(SecLike.seen) == 18
    SecLike.seen.clear()
    # The next day new filings may be in, but a filing's own documents never change.
    later = fetch_at(dt.datetime(2025, 2, 4, 9, tzinfo=dt.UTC))
    assert [path for path, _ in SecLike.seen] == FIRST_FETCH[:3]
    assert later["companies"] == first["companies"]


def test_the_user_agent_comes_from_the_environment(
    sec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(edgar.USER_AGENT_ENV, AGENT)
    EdgarSource(["AAPL"]).fetch_raw()
    assert {agent for _, agent in SecLike.seen} == {AGENT}


@pytest.mark.parametrize("agent", ["", "stockbrief"], ids=["none", "no-address"])
def test_without_a_contact_address_nothing_is_requested(
    sec: str, monkeypatch: pytest.MonkeyPatch, agent: str
) -> None:
    monkeypatch.delenv(edgar.USER_AGENT_ENV, raising=False)
    with pytest.raises(ProviderError, match=f"set {edgar.USER_AGENT_ENV}") as caught:
        EdgarSource(["AAPL"], user_agent=agent).fetch_raw()
    assert "\n" not in str(caught.value)
    assert SecLike.seen == []


def test_a_ticker_the_sec_does_not_list_is_one_line(sec: str) -> None:
    with pytest.raises(ProviderError, match=r"SEC EDGAR does not list 0700\.HK: it has US filers"):
        EdgarSource(["0700.HK"], user_agent=AGENT).fetch_raw()


def test_a_listed_company_without_facts_is_one_line(
    sec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ProviderError, match="HTTP 404 for company facts of MSFT"):
        EdgarSource(["MSFT"], user_agent=AGENT).fetch_raw()


def test_an_unreachable_sec_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EdgarSource, "tickers_url", "http://127.0.0.1:9/company_tickers.json")
    with pytest.raises(ProviderError) as caught:
        EdgarSource(["AAPL"], user_agent=AGENT).fetch_raw()
    message = str(caught.value)
    assert message.startswith("cannot reach SEC EDGAR for the SEC's ticker list: ")
    assert message.endswith("; check your network connection")


# -- into the store ------------------------------------------------------------------------------


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    raw = payload()
    monkeypatch.setattr(EdgarSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    return raw


def test_sec_kpis_are_stored_with_year_on_year_changes(
    recorded: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    (report,) = api.fetch(["AAPL"], store=store, providers=["sec"])
    assert report.summary().startswith("sec kpis: 21 rows for 1 ticker from 1 file: 21 new")
    kpis = api.kpis("AAPL", store=store)
    assert kpi(kpis, "Annual revenue", "2024-09-28")["yoy"] == pytest.approx(0.0202, abs=1e-4)
    # 28 December 2024 against 30 December 2023: 364 days, a year on Apple's 52-week calendar.
    assert kpi(kpis, "Quarterly revenue", "2024-12-28")["yoy"] == pytest.approx(
        124_300 / 119_575 - 1
    )
    assert kpi(kpis, "Quarterly revenue", "2023-12-30")["yoy"] is None
    again = api.fetch(["AAPL"], store=store, providers=["sec"])
    assert again[0].result.inserted == 0


def test_a_figure_is_not_known_before_the_day_after_its_filing(
    recorded: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    api.fetch(["AAPL"], store=store, providers=["sec"])
    filing_day = api.kpis("AAPL", as_of=dt.date(2025, 1, 31), store=store)
    assert dt.date(2024, 12, 28) not in filing_day["period_end"].to_list()
    next_day = api.kpis("AAPL", as_of=dt.date(2025, 2, 1), store=store)
    assert kpi(next_day, "Quarterly revenue", "2024-12-28")["value"] == 124_300e6


def test_a_figure_another_provider_stored_first_stands(
    recorded: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    (tmp_path / "kpis.csv").write_text(
        "ticker,period_end,name,value,unit,source\n"
        "AAPL,2024-09-28,Annual revenue,391000000000,USD,press-release\n"
    )
    api.ingest("kpis", [tmp_path / "kpis.csv"], store=store)
    (report,) = api.fetch(["AAPL"], store=store, providers=["sec"])
    assert report.filtered == 1
    assert report.summary().endswith("; 1 figure another provider stored first left out")
    year = kpi(api.kpis("AAPL", store=store), "Annual revenue", "2024-09-28")
    assert (year["value"], year["source"]) == (391_000e6, "press-release")


def test_fetch_provider_sec_on_the_command_line(recorded: dict[str, Any], tmp_path: Path) -> None:
    store = str(tmp_path / "s.duckdb")
    result = CliRunner().invoke(app, ["fetch", "AAPL", "--provider", "sec", "--store", store])
    assert result.exit_code == 0, result.output
    assert "sec kpis: 21 rows for 1 ticker" in result.output
    bad = CliRunner().invoke(app, ["fetch", "AAPL", "--provider", "bloomberg", "--store", store])
    assert bad.exit_code != 0
    assert "use yahoo or sec" in bad.output


def test_the_providers_to_fetch_from_can_be_configured(
    recorded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCKBRIEF_PROVIDERS", "sec")
    (report,) = api.fetch(["AAPL"], store=tmp_path / "s.duckdb")
    assert report.kind == "sec kpis"
    monkeypatch.setenv("STOCKBRIEF_PROVIDERS", "sec, reuters")
    with pytest.raises(InputError, match="unknown provider 'reuters'; use yahoo, sec"):
        api.fetch(["AAPL"], store=tmp_path / "s.duckdb")


def test_the_settings_choose_the_sec_alone_and_name_the_client(
    sec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(edgar.USER_AGENT_ENV, raising=False)
    monkeypatch.delenv("STOCKBRIEF_PROVIDERS", raising=False)
    settings = tmp_path / "stockbrief.toml"
    settings.write_text(
        "[providers]\nprices = []\nnews = []\nkpis = ['edgar']\n"
        f"sec_user_agent = '{AGENT}'\nsec_requests_per_second = 2\n"
    )
    store = str(tmp_path / "s.duckdb")
    result = CliRunner().invoke(app, ["fetch", "AAPL", "--store", store])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "sec kpis: 51 rows for 1 ticker from 1 file: 51 new, 0 already stored"
    ]
    assert {agent for _, agent in SecLike.seen} == {AGENT}
    override = CliRunner().invoke(
        app, ["fetch", "AAPL", "--store", store, "--provider", "sec", "--refresh"]
    )
    assert override.exit_code == 0, override.output
    assert "51 already stored" in override.output  # the option keeps the settings' client


def test_kpis_are_stored_in_the_order_the_settings_give(
    recorded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockbrief import config
    from stockbrief.sources.yahoo import YahooSource

    monkeypatch.delenv("STOCKBRIEF_PROVIDERS", raising=False)
    yahoo = json.loads((Path(__file__).parent / "data/yahoo/aapl-2020-09-05.json").read_text())
    monkeypatch.setattr(YahooSource, "fetch_raw", lambda self: copy.deepcopy(yahoo))
    plan = config.Providers(kpis=("sec", "yahoo"))
    reports = api.fetch(["AAPL"], since="2020-08-01", store=tmp_path / "s.duckdb", plan=plan)
    kinds = [r.kind for r in reports]
    assert kinds[0] == "yahoo bars"
    assert kinds[-2:] == ["sec kpis", "yahoo kpis"]
    assert api.prices("AAPL", store=tmp_path / "s.duckdb").height == 25
    no_prices = config.Providers(prices=(), kpis=("sec",), news=())
    (only,) = api.fetch(["AAPL"], store=tmp_path / "t.duckdb", plan=no_prices)
    assert only.kind == "sec kpis"


# -- revenue by segment, from the filings --------------------------------------------------------


SEGMENTS = ("Americas", "Europe", "Greater China", "Japan", "Rest of Asia Pacific")


def test_segment_revenue_of_the_latest_annual_report_and_the_quarter_after_it() -> None:
    kpis = parse_payload(with_filings())
    americas = kpi(kpis, "revenue_segment:Americas", "2024-09-28")
    assert (americas["value"], americas["unit"], americas["source"]) == (167_045e6, "USD", "sec")
    assert americas["yoy"] is None  # computed from the stored periods, never read
    assert americas["known_at"] == dt.datetime(2024, 11, 2, tzinfo=dt.UTC)  # the 10-K's next day
    china = kpi(kpis, "quarterly_revenue_segment:Greater China", "2024-12-28")
    assert china["value"] == 18_513e6
    assert china["known_at"] == dt.datetime(2025, 2, 1, tzinfo=dt.UTC)  # the 10-Q's next day
    assert kpi(kpis, "revenue_product:iPhone", "2024-09-28")["value"] == 201_183e6
    assert kpi(kpis, "revenue_segment:Rest of Asia Pacific", "2023-09-30")["value"] == 29_615e6


@pytest.mark.parametrize(
    ("prefix", "end", "total"),
    [
        ("revenue_segment", "2024-09-28", "Annual revenue"),
        ("revenue_segment", "2023-09-30", "Annual revenue"),
        ("revenue_product", "2024-09-28", "Annual revenue"),
        ("quarterly_revenue_segment", "2024-12-28", "Quarterly revenue"),
        ("quarterly_revenue_segment", "2023-12-30", "Quarterly revenue"),
    ],
)
def test_the_parts_add_up_to_the_revenue_company_facts_report(
    prefix: str, end: str, total: str
) -> None:
    kpis = parse_payload(with_filings())
    parts = kpis.filter(
        pl.col("name").str.starts_with(f"{prefix}:")
        & (pl.col("period_end") == dt.date.fromisoformat(end))
    )
    assert parts.height == 5
    assert parts["value"].sum() == kpi(kpis, total, end)["value"]


def test_segment_changes_year_on_year_are_computed_in_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = with_filings()
    monkeypatch.setattr(EdgarSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    store = tmp_path / "s.duckdb"
    (report,) = api.fetch(["AAPL"], store=store, providers=["sec"])
    assert report.summary().startswith("sec kpis: 51 rows for 1 ticker from 1 file: 51 new")
    kpis = api.kpis("AAPL", store=store)
    for name, now, then in zip(
        SEGMENTS,
        (167_045, 101_328, 66_952, 25_052, 30_658),
        (162_560, 94_294, 72_559, 24_257, 29_615),
        strict=True,
    ):
        assert kpi(kpis, f"revenue_segment:{name}", "2024-09-28")["yoy"] == pytest.approx(
            now / then - 1
        )
        assert kpi(kpis, f"revenue_segment:{name}", "2023-09-30")["yoy"] is None  # no 2022 stored
    china = kpi(kpis, "quarterly_revenue_segment:Greater China", "2024-12-28")
    assert china["yoy"] == pytest.approx(-0.1108, abs=1e-4)  # Apple: down 11% in China


def test_a_segment_figure_is_not_known_before_the_day_after_its_filing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = with_filings()
    monkeypatch.setattr(EdgarSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    store = tmp_path / "s.duckdb"
    api.fetch(["AAPL"], store=store, providers=["sec"])

    def segments(day: dt.date) -> pl.DataFrame:
        kpis = api.kpis("AAPL", as_of=day, store=store)
        return kpis.filter(pl.col("name").str.starts_with("revenue_segment:"))

    assert segments(dt.date(2024, 11, 1)).is_empty()  # the 10-K's filing day
    assert segments(dt.date(2024, 11, 2)).height == 10


def test_the_latest_10k_and_the_10qs_filed_after_it_are_read() -> None:
    submissions = json.loads((DATA / "submissions-CIK0000320193.json").read_text())
    assert edgar.latest_reports(submissions, "AAPL") == [
        ("10-K", "0000320193-24-000123", dt.date(2024, 11, 1)),
        ("10-Q", "0000320193-25-000008", dt.date(2025, 1, 31)),
    ]
    recent = submissions["filings"]["recent"]
    recent["form"] = ["10-Q", "8-K", "10-Q", "8-K"]  # no annual report among them
    assert edgar.latest_reports(submissions, "AAPL") == [
        ("10-Q", "0000320193-25-000008", dt.date(2025, 1, 31))
    ]
    recent["form"] = ["20-F", "6-K", "20-F", "6-K"]  # a foreign issuer files neither
    assert edgar.latest_reports(submissions, "AAPL") == []


def test_an_unreachable_archive_is_one_line(sec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EdgarSource, "archives_url", "http://127.0.0.1:9/{cik}/{folder}/{name}")
    with pytest.raises(ProviderError) as caught:
        EdgarSource(["AAPL"], user_agent=AGENT).fetch_raw()
    message = str(caught.value)
    assert message.startswith(
        "cannot reach SEC EDGAR for the filing index of AAPL's 10-K of 2024-11-01: "
    )
    assert message.endswith("; check your network connection")
    assert "\n" not in message


def test_a_filing_index_without_an_instance_is_one_line(
    sec: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    index = json.loads((DATA / "index-000032019324000123.json").read_text())
    items = index["directory"]["item"]
    index["directory"]["item"] = [i for i in items if not i["name"].endswith("_htm.xml")]
    bare = tmp_path / "index.json"
    bare.write_text(json.dumps(index))
    monkeypatch.setitem(SERVED, f"{ARCHIVE}000032019324000123/index.json", bare)
    with pytest.raises(ProviderError, match=r"index of AAPL's 10-K of 2024-11-01 lists no XBRL"):
        EdgarSource(["AAPL"], user_agent=AGENT).fetch_raw()


def test_a_document_name_that_is_no_plain_file_name_is_not_requested(
    sec: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    index = json.loads((DATA / "index-000032019324000123.json").read_text())
    for item in index["directory"]["item"]:
        if item["name"].endswith("_htm.xml"):
            item["name"] = "../../../etc/aapl_htm.xml"
    crafted = tmp_path / "index.json"
    crafted.write_text(json.dumps(index))
    monkeypatch.setitem(SERVED, f"{ARCHIVE}000032019324000123/index.json", crafted)
    with pytest.raises(ProviderError, match="lists no XBRL instance"):
        EdgarSource(["AAPL"], user_agent=AGENT, cache=tmp_path / "cache").fetch_raw()
    assert not any(".." in path for path, _ in SecLike.seen)


def test_a_filing_without_its_instance_is_refused_naming_it() -> None:
    raw = with_filings()
    raw["companies"]["AAPL"]["filings"][1].pop("instance")
    with pytest.raises(InputError, match=r"sec:AAPL, row 2, field 'instance'"):
        parse_payload(raw)


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        (
            "en",
            [
                "Quarterly Americas segment revenue: 52.6 billion USD, +4% year on year",
                "Quarterly Greater China segment revenue: 18.5 billion USD, \u221211% year on year",
            ],
        ),
        (
            "de",
            [
                "Quartalsumsatz im Segment „Americas“: 52,6 Milliarden USD, +4 % gegenüber"
                " dem Vorjahr",
                "Quartalsumsatz im Segment „Greater China“: 18,5 Milliarden USD, \u221211 %"
                " gegenüber dem Vorjahr",
            ],
        ),
    ],
)
def test_a_brief_names_the_latest_quarters_segments_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str, lines: list[str]
) -> None:
    """After the 10-Q, a brief shows that quarter's segments, not every breakdown of every
    period: five segment lines, no product lines, no older year."""
    from conftest import shared_path
    from stockbrief.notes import render

    raw = with_filings()
    monkeypatch.setattr(EdgarSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    store = tmp_path / "s.duckdb"
    api.ingest("prices", [shared_path("yahoo-30") / "AAPL.csv"], store=store)
    api.fetch(["AAPL"], store=store, providers=["sec"])
    note = api.brief("AAPL", as_of=dt.date(2025, 2, 10), lang=lang, store=store)
    text = render.markdown(note).replace("\xa0", " ")
    shown = [s.strip() + "." for s in text.replace("\n", " ").split(").") if "egment" in s]
    assert len(shown) == 5, shown
    for line in lines:
        assert any(s.startswith(line) for s in shown), (line, shown)
    assert "iPhone" not in text  # one breakdown: the segments, not the product lines
    assert not [s for s in shown if "September" in s]  # the quarter's, not the year's
