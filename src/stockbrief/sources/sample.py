"""The embedded sample: daily bars of AAPL, FB, GOOG, IBM and MSFT, 2000-03 to 2013-03.

The data are ``stocks.csv.gz`` (Quandl WIKI prices, declared public domain by its publisher), as
the ``bokeh-sampledata`` package prepared it, shipped inside this package: ``data/README.md``
beside this module gives its provenance, licence and checksum. Open, high, low, close and volume
are as traded; the file's ``Adj Close`` is used only to recover the corporate actions: on an
ex-date the ratio of raw to adjusted close changes by the action's factor, which gives split
ratios and cash dividends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from stockbrief import model
from stockbrief.sources.base import Parsed, Source
from stockbrief.sources.validate import FILE, ROW, parse_bars

SPLIT_FACTOR_MIN: Final = 1.2
"""A day whose adjustment factor exceeds this is a split (no dividend is 17% of the price)."""

DIVIDEND_FACTOR_MIN: Final = 1 + 1e-6
"""Below this the raw/adjusted ratio moves only by the source's rounding."""


SAMPLE_FILE: Final = Path(__file__).parent / "data" / "stocks.csv.gz"
"""The sample inside the installed package: a 294 KB file, where depending on
``bokeh-sampledata`` for it would install 27 MB of other sample data, shapely and icalendar."""


def sample_path() -> Path:
    """Location of ``stocks.csv.gz`` inside the installed package."""
    return SAMPLE_FILE


SECURITIES: Final = pl.DataFrame(
    [
        ("AAPL", "Apple", "USD", "Technology", "Consumer Electronics", "us-tech"),
        ("FB", "Facebook", "USD", "Communication Services", "Internet Content", "us-tech"),
        ("GOOG", "Google", "USD", "Communication Services", "Internet Content", "us-tech"),
        ("IBM", "IBM", "USD", "Technology", "IT Services", "us-tech"),
        ("MSFT", "Microsoft", "USD", "Technology", "Software", "us-tech"),
    ],
    schema=["ticker", "name", "currency", "sector", "industry", "peer_group"],
    orient="row",
)
"""Names and groups of the sample's five companies (reference data, not from the file)."""


@dataclass(frozen=True)
class SampleData:
    """Bars, the actions recovered from them, and the companies' reference data."""

    bars: Parsed
    actions: Parsed
    securities: pl.DataFrame


class SampleSource(Source[pl.DataFrame]):
    """Reads the embedded sample file."""

    def fetch_raw(self) -> pl.DataFrame:
        frame = pl.read_csv(sample_path(), infer_schema=False)
        return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))

    def parse(self, raw: pl.DataFrame) -> Parsed:
        return parse_bars(raw, "bokeh-sampledata:stocks.csv.gz")

    def load_all(self) -> SampleData:
        """Bars plus the splits and dividends implied by the file's adjusted close."""
        raw = self.fetch_raw()
        bars = self.parse(raw)
        adjusted = raw.select(
            pl.col("Ticker").alias("ticker"),
            pl.col("Date").str.to_date("%Y-%m-%d").alias("date"),
            pl.col("Adj Close").cast(pl.Float64).alias("adj_close"),
        )
        securities = SECURITIES.with_columns(
            pl.lit(None, dtype=pl.String).alias("exchange"), pl.lit("stock").alias("type")
        )
        return SampleData(bars, Parsed(recover_actions(bars.frame, adjusted)), securities)


def recover_actions(bars: pl.DataFrame, adjusted: pl.DataFrame) -> pl.DataFrame:
    """Corporate actions implied by a raw and an adjusted close series.

    Notes
    -----
    With ``f = (C[t-1] / C[t]) / (A[t-1] / A[t])`` for raw close ``C`` and adjusted close ``A``,
    a split on ``t`` has ratio ``f`` (rounded to a quarter) and a dividend on ``t`` is
    ``C[t-1] * (1 - 1 / f)``, the CRSP convention ``A[t-1] = C[t-1] * (1 - D / C[t-1])``.
    The source's adjusted close carries about 1% of rounding in these factors, so dividends
    are rounded to the cent (MSFT's first, 0.0811 before rounding, is the declared $0.08).
    """
    frame = (
        bars.join(adjusted, on=["ticker", "date"])
        .sort("ticker", "date")
        .with_columns(
            prev_close=pl.col("close").shift(1).over("ticker"),
            prev_adj=pl.col("adj_close").shift(1).over("ticker"),
        )
        .with_columns(
            factor=(pl.col("prev_close") / pl.col("close"))
            / (pl.col("prev_adj") / pl.col("adj_close"))
        )
        .filter(pl.col("factor") > DIVIDEND_FACTOR_MIN)
    )
    is_split = pl.col("factor") > SPLIT_FACTOR_MIN
    return frame.select(
        "ticker",
        "date",
        pl.when(is_split).then(pl.lit("split")).otherwise(pl.lit("dividend")).alias("kind"),
        pl.when(is_split)
        .then((pl.col("factor") * 4).round(0) / 4)
        .otherwise((pl.col("prev_close") * (1 - 1 / pl.col("factor"))).round(2))
        .alias("value"),
        pl.col(ROW),
        pl.lit("bokeh-sampledata:stocks.csv.gz", dtype=pl.Categorical).alias(FILE),
    ).cast(dict(model.ACTIONS))  # type: ignore[arg-type]
