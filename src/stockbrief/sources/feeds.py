"""News from RSS and Atom feeds, matched to stored tickers, and news deduplication.

The feed source follows :class:`~stockbrief.sources.base.Source`: :meth:`FeedSource.fetch_raw`
reads the feed's bytes (a file, or a URL), :meth:`FeedSource.parse` turns them into news rows
with `feedparser <https://feedparser.readthedocs.io>`_, which copes with the many dialects of
RSS and Atom, their date formats and encodings. An item is about the stored securities its
headline or summary names: by cashtag (``$BABA``), by exchange and ticker (``NYSE: BABA``), by
ticker (``BABA``, as a whole word in capitals, three letters or more, and not in a text written
in capitals), by company name (``Alibaba Group Holding Limited`` or its short form
``Alibaba``) or by a stored alias (``ingest aliases``: ``Meta`` for Meta Platforms). During a
fetch, the tickers being fetched count as known too, with the names their profiles just gave
(:func:`known_securities`), so a feed read into an empty store still finds them. Items that
name no known security, or carry no time, are left out and counted.

:func:`drop_duplicates` keeps one copy of each story across feeds and providers: the same link
(after :func:`canonical_url` removes tracking parameters and fragments), or a near-identical
headline published within :data:`DUPLICATE_DAYS` of a kept one.
"""

from __future__ import annotations

import calendar as timegm
import datetime as dt
import difflib
import html
import importlib
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl

from stockbrief import calendar, model
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources.base import Parsed, Source
from stockbrief.sources.validate import FILE, ROW

FEED_SUFFIXES: Final = (".xml", ".rss", ".atom")
"""News files with these endings are read as feeds."""

INSTALL_HINT: Final = "pip install feedparser"

TRACKING_PARAMETERS: Final = frozenset(
    {"mod", "ncid", "guccounter", "guce_referrer", "cmpid", "src", "ref", "fbclid", "gclid"}
)
"""Query parameters that say where a reader came from, not which page: dropped, with utm_*."""

HEADLINE_SIMILARITY: Final = 0.9
"""Ratio (difflib's, over normalised headlines) at or above which two headlines are one story."""

SHARED_WORDS: Final = 0.6
"""Share of their words (of all the words of either) below which two headlines are told apart
without comparing their letters: near-identical ones share far more."""

DUPLICATE_DAYS: Final = 3
"""Days apart within which two near-identical headlines are taken for the same story."""

NAME_SUFFIXES: Final = re.compile(
    r"(?:[,\s]+(?:inc|incorporated|corp|corporation|co|company|ltd|limited|plc|llc|lp|sa|ag|nv"
    r"|se|holdings?|group|adr|class [a-c]|the))+\.?$",
    re.IGNORECASE,
)
"""Corporate words at the end of a name that headlines leave out."""

MIN_ALIAS: Final = 3
"""Shortest name or bare ticker matched in text; shorter ones match only as cashtags or in an
exchange's form ("NYSE: A", "Nasdaq:ON")."""

EXCHANGE_PREFIX: Final = (
    r"(?:NYSE(?:\s+American|\s+Arca|\s+MKT)?|NASDAQ(?:GS|GM|CM)?|AMEX|BATS|CBOE|OTC(?:QX|QB)?"
    r"|TSXV?|LSE|LON|HKEX|SEHK|SSE|SZSE|XETRA|ETR|FRA|EPA|AMS|SIX|TYO|TSE|ASX|KRX|NSE|BSE)"
)
"""Exchange names that precede a ticker and a colon in news ("(NYSE: BABA)", "HKEX:0700")."""

SHOUTING: Final = 0.7
"""Share of capitals among a text's letters from which it is taken for written in capitals:
there every word looks like a ticker, so bare tickers are not matched."""

REQUEST_TIMEOUT: Final = 20.0
USER_AGENT: Final = "stockbrief (+https://pypi.org/project/stockbrief/)"


@dataclass(frozen=True)
class Alias:
    """A way text names a security; a ``bare`` ticker is not trusted in text in capitals."""

    ticker: str
    pattern: re.Pattern[str]
    text: str
    bare: bool = False


def aliases(securities: pl.DataFrame, others: pl.DataFrame | None = None) -> list[Alias]:
    """Cashtag, exchange-prefixed, ticker and name patterns of every stored security
    (``ticker, name``), and of the stored ``others`` (``ticker, alias``: a name as written,
    matched in its case, or a ``$cashtag``)."""
    found: list[Alias] = []
    for ticker, alias in others.select("ticker", "alias").iter_rows() if others is not None else ():
        text = " ".join(str(alias).split())
        if text.startswith("$") and len(text) > 1:
            pattern = re.compile(rf"(?<![\w$]){re.escape(text)}\b", re.IGNORECASE)
        elif text:
            pattern = re.compile(rf"(?<![\w.$]){re.escape(text)}(?![\w&])")
        else:
            continue
        found.append(Alias(ticker, pattern, text))
    for ticker, name in securities.select("ticker", "name").iter_rows():
        cashtag = re.escape(ticker)
        found.append(
            Alias(ticker, re.compile(rf"(?<![\w$])\${cashtag}\b", re.IGNORECASE), f"${ticker}")
        )
        found.append(
            Alias(
                ticker,
                re.compile(
                    rf"(?<![\w.]){EXCHANGE_PREFIX}\s?:\s?{_listed_code(ticker)}(?![\w-]|\.\w)",
                    re.IGNORECASE,
                ),
                f"EXCHANGE:{ticker}",
            )
        )
        if len(ticker) >= MIN_ALIAS or not ticker.isalpha():
            found.append(
                Alias(ticker, re.compile(rf"(?<![\w$.]){cashtag}\b"), ticker, bare=ticker.isalpha())
            )
        for form in _name_forms(name):
            # Case-sensitive: headlines capitalise names, and "apple" is not Apple.
            found.append(Alias(ticker, re.compile(rf"(?<![\w.]){re.escape(form)}\b"), form))
    return found


def known_securities(
    stored: pl.DataFrame,
    fetching: Sequence[str] = (),
    profiles: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The ``ticker, name`` rows feed items are matched against: the ``stored`` securities,
    and the tickers ``fetching`` brings, named by their just-fetched ``profiles``
    (``ticker, name``) when a stored row has no name; other profiles are left out, since only
    the fetched tickers are known to be wanted."""
    schema = pl.Schema({"ticker": pl.String(), "name": pl.String()})
    tickers = list(dict.fromkeys(calendar.normalize_ticker(t) for t in fetching))
    wanted = pl.DataFrame({"ticker": tickers}, schema={"ticker": pl.String()})
    named = (
        profiles.select("ticker", "name").cast(schema).unique("ticker", keep="first")
        if profiles is not None
        else pl.DataFrame(schema=schema)
    )
    fresh = wanted.join(named, on="ticker", how="left")
    kept = stored.select("ticker", "name").cast(schema)
    filled = kept.join(fresh, on="ticker", how="left", suffix="__fetched").select(
        "ticker", pl.coalesce("name", "name__fetched").alias("name")
    )
    return pl.concat([filled, fresh.join(kept, on="ticker", how="anti")])


def _listed_code(ticker: str) -> str:
    """The ticker as written after an exchange's name: ``0700.HK`` as ``0700`` or ``700``,
    ``BRK-B`` as ``BRK.B``, ``BRK-B`` or ``BRK/B``."""
    code, dot, _ = ticker.partition(".")
    if dot and code.isdigit():
        return rf"0*{code.lstrip('0') or '0'}"
    parts = [re.escape(p) for p in re.split(r"[-.]", ticker)]
    return r"[-./]".join(parts)


def _name_forms(name: str | None) -> list[str]:
    """A company name and its short form ("Alibaba Group Holding Limited", "Alibaba")."""
    if not name:
        return []
    full = " ".join(name.split())
    short = re.sub(r"^the\s+", "", NAME_SUFFIXES.sub("", full), flags=re.IGNORECASE).strip(" ,.")
    forms = [full, short]
    if short.lower().endswith(".com"):
        forms.append(short[:-4])  # "Amazon.com" is "Amazon" in a headline
    return [f for f in dict.fromkeys(forms) if len(f) >= MIN_ALIAS]


def match_tickers(text: str, known: Sequence[Alias]) -> list[str]:
    """The tickers ``text`` names, in the order of their first alias; in text written in
    capitals, bare tickers are left out ("NOW" and "ALL" are words there)."""
    letters = [c for c in text if c.isalpha()]
    shouting = bool(letters) and sum(c.isupper() for c in letters) >= SHOUTING * len(letters)
    return list(
        dict.fromkeys(
            a.ticker for a in known if not (shouting and a.bare) and a.pattern.search(text)
        )
    )


def canonical_url(url: str | None) -> str | None:
    """A link without what varies between copies of one page: fragment, tracking parameters,
    the host's case and a trailing slash."""
    if url is None or not url.strip():
        return None
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip()
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMETERS
    ]
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


def _normal(headline: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", headline.lower()).split())


def drop_duplicates(incoming: pl.DataFrame, stored: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Incoming news (with ``id``) less the stories already stored or earlier in ``incoming``.

    A story is the same when its id is (the id is derived from the canonical link), or its
    normalised headline matches a kept one's at :data:`HEADLINE_SIMILARITY` or more and the
    two were published within :data:`DUPLICATE_DAYS` of each other. Returns the kept rows, in
    their order, and how many were dropped.
    """
    seen_ids = set(stored["id"].to_list())
    kept_heads: list[tuple[str, frozenset[str], dt.datetime]] = []
    for headline, published in stored.select("headline", "published_at").iter_rows():
        head = _normal(headline)
        kept_heads.append((head, frozenset(head.split()), published))
    window = dt.timedelta(days=DUPLICATE_DAYS)
    keep: list[bool] = []
    for item_id, headline, published in incoming.select(
        "id", "headline", "published_at"
    ).iter_rows():
        head = _normal(headline)
        words = frozenset(head.split())
        same = item_id in seen_ids or any(
            abs(published - when) <= window
            and (other == head or _alike(head, words, other, other_words))
            for other, other_words, when in kept_heads
        )
        keep.append(not same)
        if not same:
            seen_ids.add(item_id)
            kept_heads.append((head, words, published))
    kept = incoming.filter(pl.Series(keep, dtype=pl.Boolean))
    return kept, incoming.height - kept.height


def _alike(one: str, words: frozenset[str], other: str, other_words: frozenset[str]) -> bool:
    """Near-identical normalised headlines. Most pairs share few words, which is cheap to see;
    the character ratio is computed for the rest."""
    shared = len(words & other_words)
    if shared < SHARED_WORDS * max(len(words | other_words), 1):
        return False
    matcher = difflib.SequenceMatcher(None, one, other, autojunk=False)
    return (
        matcher.real_quick_ratio() >= HEADLINE_SIMILARITY
        and matcher.quick_ratio() >= HEADLINE_SIMILARITY
        and matcher.ratio() >= HEADLINE_SIMILARITY
    )


def is_feed(path: Path) -> bool:
    """Whether a news file is read as a feed (by its ending)."""
    return path.suffix.lower() in FEED_SUFFIXES


@dataclass(frozen=True)
class FeedItems(Parsed):
    """A feed's items about stored securities; ``filtered`` counts the others."""

    unmatched: int = 0
    """Items that name no stored security."""
    untimed: int = 0
    """Items without a publication or update time."""


class FeedSource(Source[bytes]):
    """The items of one RSS or Atom feed, from a file or a URL.

    Parameters
    ----------
    location
        A file path, or an ``http(s)://`` URL.
    securities
        The stored ``ticker, name`` rows that items are matched against.
    subject
        A ticker every item is about, whatever it names (the feed of one company).
    others
        The stored other names (``ticker, alias``) items are matched against too.
    """

    def __init__(
        self,
        location: str | Path,
        securities: pl.DataFrame,
        subject: str | None = None,
        others: pl.DataFrame | None = None,
    ) -> None:
        self.location = str(location)
        self.known = aliases(securities, others)
        self.subject = subject

    def __repr__(self) -> str:
        return f"FeedSource({self.location!r})"

    @property
    def is_url(self) -> bool:
        return self.location.lower().startswith(("http://", "https://"))

    def fetch_raw(self) -> bytes:
        """The feed's bytes; a file that cannot be read is an InputError, a URL that cannot
        be fetched a one-line ProviderError."""
        if not self.is_url:
            try:
                return Path(self.location).read_bytes()
            except OSError as exc:
                raise InputError(
                    f"cannot read the feed: {exc.strerror}", file=self.location
                ) from None
        request = urllib.request.Request(self.location, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            raise ProviderError(
                f"the feed {self.location} answered HTTP {exc.code}; check the address"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProviderError(
                f"cannot reach the feed {self.location}: {reason}; check your network connection"
            ) from None

    def parse(self, raw: bytes) -> FeedItems:
        """News rows (``model.NEWS`` with ``id`` null, plus ``tickers``) of the items about
        stored securities."""
        feedparser = _import_feedparser()
        parsed: Any = feedparser.parse(raw)
        entries = list(parsed.get("entries") or [])
        version = parsed.get("version") or ""
        if not entries and not version:
            problem = parsed.get("bozo_exception")
            detail = f" ({' '.join(str(problem).split())})" if problem else ""
            raise InputError(f"not an RSS or Atom feed{detail}", file=self.location)
        channel = " ".join(str((parsed.get("feed") or {}).get("title") or "").split()) or None
        rows: list[dict[str, Any]] = []
        unmatched = untimed = 0
        for i, entry in enumerate(entries, start=1):
            headline = _plain(entry.get("title"))
            moment = entry.get("published_parsed") or entry.get("updated_parsed")
            if moment is None:
                untimed += 1
                continue
            if not headline:
                raise InputError(
                    "an item without a title", file=self.location, row=i, field="title"
                )
            body = _plain(entry.get("summary") or entry.get("description"))
            tickers = match_tickers(f"{headline}\n{body or ''}", self.known)
            if self.subject is not None:
                tickers = list(dict.fromkeys([self.subject, *tickers]))
            if not tickers:
                unmatched += 1
                continue
            origin = entry.get("source") or {}
            rows.append(
                {
                    "id": None,
                    "published_at": dt.datetime.fromtimestamp(timegm.timegm(moment), dt.UTC),
                    "source": _plain(origin.get("title")) or channel,
                    "headline": headline,
                    "body": body,
                    "url": canonical_url(entry.get("link")),
                    "sentiment": None,
                    "tickers": tickers,
                    ROW: i,
                    FILE: self.location,
                }
            )
        schema = {
            **model.NEWS,
            "tickers": pl.List(pl.String()),
            ROW: pl.Int64(),
            FILE: pl.Categorical(),
        }
        frame = pl.DataFrame(rows, schema=schema)
        today = calendar.today_anywhere()
        late = frame.filter(pl.col("published_at").dt.date() > today)
        if late.height:
            raise InputError(
                f"dated after today ({today}): a future-dated item cannot be known yet",
                file=self.location,
                row=int(late[ROW][0]),
                field="published",
            )
        return FeedItems(frame, unmatched + untimed, unmatched=unmatched, untimed=untimed)


def _plain(value: object) -> str | None:
    """Feed text without markup or entities, on one line."""
    if not isinstance(value, str):
        return None
    text = html.unescape(re.sub(r"<[^>]*>", " ", value))
    return " ".join(text.split()) or None


def _import_feedparser() -> Any:
    try:
        # Untyped: imported by name so the type checker does not ask for stubs.
        return importlib.import_module("feedparser")
    except ImportError:
        raise ProviderError(
            f"reading RSS and Atom feeds needs feedparser, which is not installed: {INSTALL_HINT}"
        ) from None
