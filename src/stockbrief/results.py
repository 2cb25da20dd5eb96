"""Result frames that say what they are: a screen's matches with the screen and the session.

A :class:`ScreenResult` is a Polars frame (every frame method works on it, and what they
return is a plain frame) that also knows the expression it answers and the session it read,
so a notebook shows both above the table and :meth:`ScreenResult.summary` can say them.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any, Final

import polars as pl

SHOWN_TICKERS: Final = 20
"""Matches a summary names before it counts the rest."""


class ScreenResult(pl.DataFrame):
    """The tickers a screen matched on one session, one row each (see :func:`stockbrief.screen`).

    Attributes
    ----------
    expression
        The screen as asked: an expression or a preset name.
    rule
        The expression evaluated (a preset's text when ``expression`` names one).
    session
        The session screened: the latest on or before the as-of date (None: no bars).
    traded, universe
        Tickers with a bar on that session, and tickers with any bar by then; only the
        former are screened.
    """

    expression: str = ""
    rule: str = ""
    session: dt.date | None = None
    traded: int = 0
    universe: int = 0

    @classmethod
    def of(
        cls,
        matched: pl.DataFrame,
        universe: pl.DataFrame,
        *,
        expression: str,
        rule: str,
        as_of: dt.date | None,
    ) -> ScreenResult:
        """Wrap the matches of a screen of ``universe`` (a ``ticker, date`` frame of the bars
        it read), counting the tickers the session saw."""
        result = cls(matched)
        seen = universe.lazy().select("ticker", "date")
        if as_of is not None:
            seen = seen.filter(pl.col("date") <= as_of)
        counts = (
            seen.select(
                pl.col("date").max().alias("session"),
                pl.col("ticker").filter(pl.col("date") == pl.col("date").max()).n_unique(),
                pl.col("ticker").n_unique().alias("universe"),
            )
            .collect()
            .row(0)
        )
        result.expression, result.rule = expression, rule
        result.session, result.traded, result.universe = counts
        return result

    def summary(self) -> str:
        """What was screened, on which session, and which tickers matched."""
        asked = (
            self.expression if self.expression == self.rule else f"{self.expression}: {self.rule}"
        )
        if self.session is None:
            return f"Screen {asked}\nNo bars stored on or before the date: nothing was screened"
        left_out = self.universe - self.traded
        coverage = f"{self.traded:,} of {self.universe:,} tickers traded"
        if left_out:
            coverage += f"; {left_out:,} had no bar that day and were not screened"
        tickers = self["ticker"].to_list() if "ticker" in self.columns else []
        named = ", ".join(tickers[:SHOWN_TICKERS])
        if len(tickers) > SHOWN_TICKERS:
            named += f" and {len(tickers) - SHOWN_TICKERS:,} more"
        matches = f"Matches: {len(tickers):,}" + (f" ({named})" if named else "")
        return "\n".join([f"Screen {asked}", f"Session: {self.session} ({coverage})", matches])

    def _repr_html_(self, **kwargs: Any) -> str:
        """The summary above Polars' own table."""
        lines = "<br>".join(html.escape(line) for line in self.summary().split("\n"))
        return f"<p>{lines}</p>" + super()._repr_html_(**kwargs)
