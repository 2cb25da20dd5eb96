"""SEC EDGAR company facts: US filers' reported revenue, income, EPS and shares outstanding.

The provider follows the three steps of :class:`~stockbrief.sources.base.Source`.
:meth:`EdgarSource.fetch_raw` is the only code that talks to the SEC: it looks each ticker's CIK
up in the SEC's ticker list and downloads its ``companyfacts`` JSON (the XBRL facts of every
filing), through a polite client: it names itself with the User-Agent the SEC requires (from
``STOCKBRIEF_SEC_USER_AGENT``, e.g. ``"Jane Doe jane@example.com"``) and keeps under the SEC's
ten requests a second. :func:`parse_payload` is a pure function of the payload::

    {
      "provider": "sec", "format": 1, "fetched_at": "2025-02-03T12:00:00Z",
      "companies": {"AAPL": {"cik": 320193, "facts": {...the companyfacts JSON as served...}}}
    }

Each figure is dated by the filing that first reported it: ``known_at`` is the day after its
``filed`` date (00:00 UTC), since companyfacts gives the day of a filing but not its time, and a
filing made after the close must not reach a brief of that day. Later filings repeat a period's
figure as a comparative, and restate some; the first report is kept, as it was known then.

Company facts hold no dimensional facts, so revenue by segment, product line and region is read
from the filings themselves (:mod:`stockbrief.sources.xbrl`): ``fetch_raw`` reads the company's
``submissions`` JSON, takes its latest 10-K and any 10-Q filed after it, and downloads each
one's XBRL instance (``*_htm.xml``) and label linkbase (``*_lab.xml``), found in the filing's
``index.json``. They join the payload under ``filings``::

    "AAPL": {"cik": 320193, "facts": {...}, "filings": [{"form": "10-K",
      "accession": "0000320193-24-000123", "filed": "2024-11-01",
      "instance_name": "aapl-20240928_htm.xml", "instance": "<?xml ...", "labels": "<?xml ..."}]}

A filing's documents never change, so the cache keeps them for good.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import polars as pl

from stockbrief import calendar, model
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources.base import Parsed, Source
from stockbrief.sources.validate import FILE, ROW
from stockbrief.sources.xbrl import Axis, segment_facts

SOURCE_NAME: Final = "sec"
PAYLOAD_FORMAT: Final = 1
USER_AGENT_ENV: Final = "STOCKBRIEF_SEC_USER_AGENT"

TICKERS_URL: Final = "https://www.sec.gov/files/company_tickers.json"
FACTS_URL: Final = "https://data.sec.gov/api/xbrl/companyfacts/CIK{cik:010d}.json"
SUBMISSIONS_URL: Final = "https://data.sec.gov/submissions/CIK{cik:010d}.json"
ARCHIVES_URL: Final = "https://www.sec.gov/Archives/edgar/data/{cik}/{folder}/{name}"

ANNUAL_FORM: Final = "10-K"
QUARTERLY_FORM: Final = "10-Q"
"""The periodic reports whose XBRL instances give revenue by segment: the latest annual report,
and the quarterly reports filed after it."""

ACCESSION: Final = re.compile(r"\d{10}-\d{2}-\d{6}")
DOCUMENT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.xml")
"""Shapes an accession number and a document name must have before they reach a URL or the
cache's file names."""
PLAIN_INSTANCE: Final = re.compile(r"[a-z0-9]+-\d{8}\.xml")
"""An instance's name in filings made before inline XBRL (``aapl-20180929.xml``)."""

SEGMENT_NAMES: Final[Mapping[Axis, str]] = {
    "segment": "revenue_segment",
    "product": "revenue_product",
    "region": "revenue_region",
}
"""KPI name of each axis: ``revenue_segment:Americas`` for a fiscal year, with the prefix
``quarterly_`` for a quarter (``quarterly_revenue_segment:Americas``)."""

MIN_INTERVAL: Final = 0.125
"""Seconds between two requests: under the SEC's limit of ten a second."""

REQUEST_TIMEOUT: Final = 30.0

CONCEPTS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (
        "revenue",
        (
            "RevenueFromContractWithCustomerExcludingAssessedTax",
            "Revenues",
            "SalesRevenueNet",
        ),
    ),
    ("operating income", ("OperatingIncomeLoss",)),
    ("net income", ("NetIncomeLoss",)),
    ("diluted EPS", ("EarningsPerShareDiluted",)),
)
"""Each KPI and the us-gaap concepts it is read from; for a period, the first concept that
reports it wins (companies moved from ``Revenues`` to the ASC 606 concept in 2018)."""

SHARES: Final = ("dei", "EntityCommonStockSharesOutstanding")
"""Shares outstanding as of the cover page's date: with a price, the market value."""

ORDINARY_SHARE_FORMS: Final = ("20-F",)
"""Annual reports of foreign issuers, whose cover page counts ordinary shares: an American
depositary share traded in New York may stand for several (eight for Alibaba), so the count
would not value the listed security and is not stored."""

QUARTER_DAYS: Final = (80, 100)
YEAR_DAYS: Final = (350, 380)
"""Lengths of a reported duration that make it a quarter or a fiscal year; others (six or nine
months to date) are not stored."""


class EdgarSource(Source[dict[str, Any]]):
    """Company facts of some US-listed tickers from SEC EDGAR.

    Parameters
    ----------
    tickers
        Ticker symbols as the SEC lists them (``AAPL``, ``BRK-B``).
    user_agent
        Who is asking, as the SEC requires (a name and an e-mail address); default
        ``STOCKBRIEF_SEC_USER_AGENT``.
    cache
        A folder for the documents downloaded: one fetched the same UTC day is read from there
        instead of the SEC (filings appear at most daily in company facts).
    reuse
        Read current documents from ``cache``; when false, download anew (and keep that).
    requests_per_second
        At most this many requests a second (the SEC allows ten).
    """

    tickers_url: str = TICKERS_URL
    facts_url: str = FACTS_URL
    submissions_url: str = SUBMISSIONS_URL
    archives_url: str = ARCHIVES_URL

    def __init__(
        self,
        tickers: Sequence[str],
        user_agent: str | None = None,
        *,
        cache: Path | None = None,
        reuse: bool = True,
        requests_per_second: float = 1 / MIN_INTERVAL,
    ) -> None:
        names = tuple(dict.fromkeys(calendar.normalize_ticker(t) for t in tickers))
        if not names:
            raise InputError("no tickers given; name at least one", field="ticker")
        self.interval = max(0.1, 1 / requests_per_second)  # the SEC allows ten a second
        self.tickers = names
        self.user_agent = user_agent or os.environ.get(USER_AGENT_ENV, "").strip()
        self.cache = cache
        self.reuse = reuse
        self._last = 0.0

    def __repr__(self) -> str:
        return f"EdgarSource(tickers={list(self.tickers)!r})"

    def fetch_raw(self) -> dict[str, Any]:
        """The ticker list, then each ticker's company facts and latest periodic reports;
        one-line errors."""
        if not self.user_agent or "@" not in self.user_agent:
            raise ProviderError(
                f"SEC EDGAR asks every client to name itself: set {USER_AGENT_ENV} to your"
                " name and e-mail address, e.g. 'Jane Doe jane@example.com'"
            )
        fetched_at = calendar.now()
        listing = self._kept(
            self.tickers_url, "the SEC's ticker list", "company_tickers", fetched_at
        )
        ciks = _ciks(listing)
        companies = {}
        for ticker in self.tickers:
            cik = ciks.get(ticker) or ciks.get(ticker.replace(".", "-"))
            if cik is None:
                raise ProviderError(
                    f"SEC EDGAR does not list {ticker}: it has US filers only (check the symbol)"
                )
            url = self.facts_url.format(cik=cik)
            facts = self._kept(url, f"company facts of {ticker}", f"CIK{cik:010d}", fetched_at)
            filings = self._filings(ticker, cik, fetched_at)
            companies[ticker] = {"cik": cik, "facts": facts, "filings": filings}
        return {
            "provider": SOURCE_NAME,
            "format": PAYLOAD_FORMAT,
            "fetched_at": fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "companies": companies,
        }

    def _filings(self, ticker: str, cik: int, now: dt.datetime) -> list[dict[str, Any]]:
        """The XBRL instance and labels of the latest 10-K and the 10-Qs filed after it."""
        url = self.submissions_url.format(cik=cik)
        submissions = self._kept(
            url, f"the filings list of {ticker}", f"CIK{cik:010d}-filings", now
        )
        filings = []
        for form, accession, filed in latest_reports(submissions, ticker):
            what = f"{ticker}'s {form} of {filed}"
            folder = accession.replace("-", "")
            index = self._kept(
                self.archives_url.format(cik=cik, folder=folder, name="index.json"),
                f"the filing index of {what}",
                f"{accession}-index",
                now,
                lasting=True,
            )
            instance_name, labels_name = _documents(index, what)
            instance, labels = (
                self._kept(
                    self.archives_url.format(cik=cik, folder=folder, name=name),
                    f"{name} of {what}",
                    f"{accession}-{name}",
                    now,
                    lasting=True,
                    text=True,
                )
                if name
                else None
                for name in (instance_name, labels_name)
            )
            filings.append(
                {
                    "form": form,
                    "accession": accession,
                    "filed": filed.isoformat(),
                    "instance_name": instance_name,
                    "instance": instance,
                    "labels": labels,
                }
            )
        return filings

    def _kept(
        self,
        url: str,
        what: str,
        name: str,
        now: dt.datetime,
        *,
        lasting: bool = False,
        text: bool = False,
    ) -> Any:
        """A document from the cache when downloaded the same UTC day (any day when
        ``lasting``), else from the SEC (and then kept)."""
        path = self.cache / f"{name}.json" if self.cache is not None else None
        if path is not None and self.reuse:
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                if lasting or dt.datetime.fromisoformat(entry["fetched_at"]).date() == now.date():
                    return entry["document"]
            except (OSError, ValueError, KeyError, TypeError):
                pass  # none, or unreadable: download anew
        document = self._get(url, what, text=text)
        if path is not None:
            entry = {"fetched_at": now.isoformat(), "url": url, "document": document}
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_suffix(".part")
                part.write_text(json.dumps(entry), encoding="utf-8")
                part.replace(path)
            except OSError:
                pass  # a cache that cannot be written only costs a download next time
        return document

    def _get(self, url: str, what: str, *, text: bool = False) -> Any:
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            hint = {
                403: "the SEC refused the request: check the name and e-mail address in"
                f" {USER_AGENT_ENV}, and wait ten minutes if you sent many requests",
                404: "the SEC has none (a company that files no XBRL)",
                429: "the SEC is rate-limiting: wait ten minutes and try again",
            }.get(exc.code, "try again later")
            raise ProviderError(f"SEC EDGAR answered HTTP {exc.code} for {what}; {hint}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProviderError(
                f"cannot reach SEC EDGAR for {what}: {reason}; check your network connection"
            ) from None
        finally:
            self._last = time.monotonic()
        try:
            return body.decode("utf-8") if text else json.loads(body)
        except ValueError:
            kind = "UTF-8 text" if text else "JSON"
            raise ProviderError(f"SEC EDGAR sent {what} as something other than {kind}") from None

    def parse(self, raw: dict[str, Any]) -> Parsed:
        """The payload's KPIs (see :func:`parse_payload`)."""
        return Parsed(parse_payload(raw))


def _ciks(listing: object) -> dict[str, int]:
    """Ticker -> CIK from ``company_tickers.json`` (``{"0": {"cik_str", "ticker", ...}}``)."""
    if not isinstance(listing, Mapping):
        raise ProviderError("SEC EDGAR's ticker list is not what it was; upgrade stockbrief")
    found: dict[str, int] = {}
    for entry in listing.values():
        if isinstance(entry, Mapping) and isinstance(entry.get("ticker"), str):
            found.setdefault(entry["ticker"].upper(), int(entry["cik_str"]))
    return found


def latest_reports(submissions: object, ticker: str) -> list[tuple[str, str, dt.date]]:
    """``(form, accession, filed)`` of the latest 10-K and the 10-Qs filed after it, oldest
    first, from a ``submissions`` JSON (``filings.recent`` holds one list per field)."""
    recent = _within(submissions, "filings", "recent")
    if not isinstance(recent, Mapping):
        raise ProviderError(
            f"SEC EDGAR's filings list of {ticker} is not what it was; upgrade stockbrief"
        )
    forms, accessions, dates = (
        recent.get(k) or [] for k in ("form", "accessionNumber", "filingDate")
    )
    reports = []
    for form, accession, filed in zip(forms, accessions, dates, strict=False):
        if form in (ANNUAL_FORM, QUARTERLY_FORM) and ACCESSION.fullmatch(str(accession)):
            try:
                reports.append((str(form), str(accession), dt.date.fromisoformat(str(filed))))
            except ValueError:
                continue  # an undated entry cannot say when it was known
    reports.sort(key=lambda r: r[2])
    annual = [i for i, r in enumerate(reports) if r[0] == ANNUAL_FORM]
    return reports[annual[-1] :] if annual else reports[-1:]


def _within(document: object, *keys: str) -> object:
    """``document[k1][k2]...``, or None where a level is missing or not an object."""
    for key in keys:
        document = document.get(key) if isinstance(document, Mapping) else None
    return document


def _documents(index: object, what: str) -> tuple[str, str | None]:
    """The XBRL instance and label linkbase of a filing, by name, from its ``index.json``."""
    items = _within(index, "directory", "item")
    if not isinstance(items, list):
        raise ProviderError(f"SEC EDGAR's filing index of {what} is not what it was")
    names = [
        str(i["name"])
        for i in items
        if isinstance(i, Mapping) and DOCUMENT.fullmatch(str(i.get("name", "")))
    ]
    # Inline filings have their facts extracted as NAME_htm.xml; older ones were NAME.xml.
    instance = next((n for n in names if n.endswith("_htm.xml")), None) or next(
        (n for n in names if PLAIN_INSTANCE.fullmatch(n)), None
    )
    if instance is None:
        raise ProviderError(
            f"SEC EDGAR's filing index of {what} lists no XBRL instance (*_htm.xml)"
        )
    stem = instance.removesuffix(".xml").removesuffix("_htm")
    labels = f"{stem}_lab.xml" if f"{stem}_lab.xml" in names else None
    return instance, labels


# -- parsing: pure -------------------------------------------------------------------------------


def parse_payload(raw: Mapping[str, Any]) -> pl.DataFrame:
    """KPIs (:data:`~stockbrief.model.KPIS`, ``yoy`` null) from a payload of
    :meth:`EdgarSource.fetch_raw`.

    Quarterly and annual revenue, operating income, net income and diluted EPS (named like
    Yahoo's: ``Quarterly revenue``, ``Annual diluted EPS``) in the unit reported,
    ``Shares outstanding`` at each cover-page date, and revenue by segment, product and region
    from the ``filings`` (:data:`SEGMENT_NAMES`); each with ``known_at`` the day after the
    filing that first reported it.
    """
    if not isinstance(raw, Mapping):
        raise InputError("an SEC payload must be a JSON object", file=SOURCE_NAME)
    if raw.get("format", PAYLOAD_FORMAT) != PAYLOAD_FORMAT:
        raise InputError("unknown payload format; fetch again", file=SOURCE_NAME, field="format")
    companies = raw.get("companies")
    if not isinstance(companies, Mapping):
        raise InputError("missing or not an object", file=SOURCE_NAME, field="companies")
    rows: list[dict[str, Any]] = []
    for name, company in companies.items():
        ticker = calendar.normalize_ticker(str(name))
        label = f"{SOURCE_NAME}:{ticker}"
        facts = company.get("facts") if isinstance(company, Mapping) else None
        if not isinstance(facts, Mapping) or not isinstance(facts.get("facts"), Mapping):
            raise InputError("missing or not a companyfacts object", file=label, field="facts")
        taxonomies: Mapping[str, Any] = facts["facts"]
        gaap = taxonomies.get("us-gaap") or {}
        for metric, concepts in CONCEPTS:
            rows += _durations(gaap, concepts, ticker, metric, label)
        rows += _instants(taxonomies.get(SHARES[0]) or {}, SHARES[1], ticker, label)
        rows += _segments(company.get("filings") or [], ticker, label)
    schema = {**model.KPIS, ROW: pl.Int64(), FILE: pl.Categorical()}
    frame = pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)
    return frame.sort("ticker", "name", "period_end")


def _records(concept: object, where: str) -> list[tuple[str, Mapping[str, Any]]]:
    """``(unit, record)`` of a concept's facts."""
    if not isinstance(concept, Mapping) or not isinstance(concept.get("units"), Mapping):
        raise InputError("not a concept with units", file=where)
    out = []
    for unit, records in concept["units"].items():
        if not isinstance(records, list):
            raise InputError("units must hold lists of facts", file=where, field=str(unit))
        out += [(str(unit), r) for r in records if isinstance(r, Mapping)]
    return out


def _fact(record: Mapping[str, Any], where: str, n: int) -> tuple[float, dt.date, dt.date]:
    """A record's value, end date and filing date."""
    value = record.get("val")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("not a number", file=where, row=n, field="val")
    try:
        end = dt.date.fromisoformat(str(record.get("end")))
        filed = dt.date.fromisoformat(str(record.get("filed")))
    except ValueError:
        raise InputError("end and filed must be dates (YYYY-MM-DD)", file=where, row=n) from None
    return float(value), end, filed


def _known(filed: dt.date) -> dt.datetime:
    return dt.datetime.combine(filed + dt.timedelta(days=1), dt.time(), dt.UTC)


def _durations(
    gaap: Mapping[str, Any], concepts: Sequence[str], ticker: str, metric: str, label: str
) -> list[dict[str, Any]]:
    """One row per quarter or fiscal year: the first concept to report it, its first filing."""
    chosen: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for concept in concepts:
        if concept not in gaap:
            continue
        where = f"{label}:us-gaap:{concept}"
        found: dict[tuple[str, dt.date], dict[str, Any]] = {}
        for n, (unit, record) in enumerate(_records(gaap[concept], where), start=1):
            value, end, filed = _fact(record, where, n)
            try:
                start = dt.date.fromisoformat(str(record.get("start")))
            except ValueError:
                continue  # an instant tagged on a duration concept: nothing to store
            days = (end - start).days + 1
            word = _period_word(days)
            if word is None:
                continue
            key = (f"{word} {metric}", end)
            if key in found and found[key]["__filed"] <= filed:
                continue
            found[key] = {
                "ticker": ticker,
                "period_end": end,
                "name": key[0],
                "value": value,
                "unit": unit.replace("/shares", ""),
                "yoy": None,
                "source": SOURCE_NAME,
                "known_at": _known(filed),
                "__filed": filed,
                ROW: n,
                FILE: where,
            }
        for key, row in found.items():
            chosen.setdefault(key, row)
    return list(chosen.values())


def _period_word(days: int) -> str | None:
    if QUARTER_DAYS[0] <= days <= QUARTER_DAYS[1]:
        return "Quarterly"
    if YEAR_DAYS[0] <= days <= YEAR_DAYS[1]:
        return "Annual"
    return None


def _instants(
    taxonomy: Mapping[str, Any], concept: str, ticker: str, label: str
) -> list[dict[str, Any]]:
    """Shares outstanding at each cover-page date, from its first filing."""
    if concept not in taxonomy:
        return []
    where = f"{label}:{SHARES[0]}:{concept}"
    found: dict[dt.date, dict[str, Any]] = {}
    for n, (unit, record) in enumerate(_records(taxonomy[concept], where), start=1):
        value, end, filed = _fact(record, where, n)
        if str(record.get("form", "")).startswith(ORDINARY_SHARE_FORMS):
            continue
        if end in found and found[end]["__filed"] <= filed:
            continue
        found[end] = {
            "ticker": ticker,
            "period_end": end,
            "name": "Shares outstanding",
            "value": value,
            "unit": unit,
            "yoy": None,
            "source": SOURCE_NAME,
            "known_at": _known(filed),
            "__filed": filed,
            ROW: n,
            FILE: where,
        }
    return list(found.values())


def _segments(filings: object, ticker: str, label: str) -> list[dict[str, Any]]:
    """Revenue by segment, product and region of each quarter and fiscal year the filings
    report, from the first filing that reported it."""
    if not isinstance(filings, list):
        raise InputError("must be a list of filings", file=label, field="filings")
    found: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for n, filing in enumerate(filings, start=1):
        if not isinstance(filing, Mapping) or not isinstance(filing.get("instance"), str):
            raise InputError(
                "a filing without its XBRL instance", file=label, row=n, field="instance"
            )
        where = f"{label}:{filing.get('accession')}:{filing.get('instance_name')}"
        try:
            filed = dt.date.fromisoformat(str(filing.get("filed")))
        except ValueError:
            raise InputError(
                "must be a date (YYYY-MM-DD)", file=label, row=n, field="filed"
            ) from None
        labels = filing.get("labels")
        facts = segment_facts(
            filing["instance"], labels if isinstance(labels, str) else None, where=where
        )
        for fact in facts:
            word = _period_word((fact.end - fact.start).days + 1)
            if word is None:
                continue
            prefix = "quarterly_" if word == "Quarterly" else ""
            name = f"{prefix}{SEGMENT_NAMES[fact.axis]}:{fact.label}"
            key = (name, fact.end)
            if key in found and found[key]["__filed"] <= filed:
                continue
            found[key] = {
                "ticker": ticker,
                "period_end": fact.end,
                "name": name,
                "value": fact.value,
                "unit": fact.unit,
                "yoy": None,
                "source": SOURCE_NAME,
                "known_at": _known(filed),
                "__filed": filed,
                ROW: fact.row,
                FILE: where,
            }
    return list(found.values())
