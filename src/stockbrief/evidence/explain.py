"""Explaining an event study: the method text and :class:`StudyResult` with its summaries."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from stockbrief.errors import InputError
from stockbrief.evidence import clusters as _clusters
from stockbrief.evidence import market_model as _mm
from stockbrief.evidence.inputs import _Occurrences, _Panel
from stockbrief.evidence.rules import (
    CONFIDENCE,
    STRENGTH_RULES,
    Direction,
    Overlap,
    Strength,
)

# --------------------------------------------------------------------------------------------
# Explaining the result


@dataclass(frozen=True)
class _Settings:
    label: str
    until: dt.date | None
    period: tuple[dt.date, dt.date] | None
    n_tickers: int
    overlap: Overlap
    resamples: int
    seed: int
    benchmark: bool
    benchmarks: dict[str, int] = field(default_factory=dict)


def _set_aside(counts: Mapping[str, int]) -> str:
    names = {
        "incomplete": "without ticker or date",
        "after_until": "dated after the as-of date",
        "duplicate": "duplicates",
        "unknown_ticker": "of tickers without prices",
        "not_a_session": "on dates that are not a session of their ticker",
    }
    parts = [f"{counts[key]:,} {words}" for key, words in names.items() if counts[key]]
    return "; set aside: " + ", ".join(parts) if parts else "; none set aside"


def _method(settings: _Settings, counts: Mapping[str, int], horizons: tuple[int, ...]) -> str:
    what = settings.label or "the setup"
    period = f"{settings.period[0]} to {settings.period[1]}" if settings.period else "no sessions"
    as_of = (
        f"As of {settings.until}: no price dated after it was read; an occurrence counts for a "
        f"horizon h only if its session t+h is on or before {settings.until}, otherwise it is "
        "pending; the base rate follows the same rule."
        if settings.until
        else "No as-of date: the last session in the prices plays its role; an occurrence "
        "counts for a horizon h only if its session t+h is stored, otherwise it is pending; "
        "the base rate follows the same rule."
    )
    overlap = (
        "Overlap: for each ticker and horizon h an occurrence fewer than h sessions after the "
        "last counted one is skipped (keep-first), so one ticker's forward windows never "
        "overlap; skipped occurrences are reported."
        if settings.overlap == "skip"
        else "Overlap: every occurrence is kept, so forward windows of one ticker can overlap "
        "and share returns; the standard error and bootstrap intervals then understate the "
        "uncertainty."
    )
    used = ", ".join(f"{name} ({n:,} tickers)" for name, n in settings.benchmarks.items())
    relative = (
        " Relative return: r minus the benchmark's return between the same two dates (none "
        f"where the benchmark lacks a date); benchmark: {used or 'none for these tickers'}."
        if settings.benchmark
        else ""
    )
    rules = "; ".join(f"{r.word}: {r.meaning}" for r in STRENGTH_RULES)
    paragraphs = [
        f"Occurrences of {what}: {counts['given']:,} given, {counts['matched']:,} matched to "
        f"a session of their ticker on {settings.n_tickers:,} tickers"
        f"{_set_aside(counts)}. Studied period: {period}. Horizons: "
        f"{', '.join(map(str, horizons))} sessions.",
        "Forward return over h sessions: r = close[t+h] / close[t] - 1, where t+h is the h-th "
        "session of the same ticker after t (its own rows; sessions, not calendar days). "
        "Closes are assumed adjusted for splits and dividends, so r is a total return. "
        "Excess: r minus the mean h-session forward return of the same ticker over all its "
        f"completed windows in the studied period.{relative}",
        as_of,
        overlap,
        f"Statistics: hit rate = share of r > 0; standard error = s / sqrt(n). "
        f"{CONFIDENCE:.0%} confidence intervals by the percentile bootstrap: "
        f"{settings.resamples:,} resamples of n occurrences drawn with replacement (numpy "
        f"PCG64, seed {settings.seed} and the horizon), 2.5th and 97.5th percentiles of the "
        "resampled means; resampled hit rates are drawn as Binomial(n, hit rate) / n, the exact "
        "law of the share of rises in such a resample.",
        "Base rate: hit rate and mean of every completed h-session window of the same tickers "
        "over the same period, pooled.",
        f"Strength compares the hit rate with the base rate: none if the {CONFIDENCE:.0%} "
        f"interval of the hit rate contains the base rate or fewer than "
        f"{STRENGTH_RULES[-1].min_n} occurrences were counted; otherwise {rules}.",
        "Dependence: occurrences of different tickers on one date share that date's market "
        "move. A date-cluster bootstrap resamples whole dates (every occurrence of a drawn "
        "date, same resamples and seed); the verdict uses its intervals when more than "
        f"{_clusters.CLUSTER_SHARE:.0%} of the counted occurrences share their date with "
        "another one (resampling 'date'), the i.i.d. ones otherwise ('iid'); both are shown. "
        "p-value: twice the smaller share of resampled hit rates on either side of the base "
        "rate, (k + 1) / (resamples + 1) smoothed. Windows of one ticker on nearby dates still "
        "share moves, so even the date-cluster interval assumes the dates independent.",
    ]
    if settings.benchmark:
        paragraphs.append(
            "Abnormal returns (market model, Campbell-Lo-MacKinlay ch. 4): per occurrence, OLS "
            f"of the stock's daily return on the benchmark's over the {_mm.ESTIMATION} sessions "
            f"ending {_mm.GAP} sessions before it; AR = R - alpha - beta * M over the h "
            "sessions after it, CAR = sum of AR; occurrences without a full estimation window "
            "are left out of n_car. Cross-sectional t = mean CAR / (s / sqrt(n)); Patell Z and "
            "BMP t (Boehmer, Musumeci and Poulsen 1991) on CARs standardised by their "
            "forecast-error variance; two-sided p-values from the normal law."
        )
    return "\n".join(paragraphs)


def _pct(value: object, digits: int = 2) -> str:
    return f"{value:.{digits}%}" if isinstance(value, int | float) else "n/a"


@dataclass(frozen=True)
class StudyResult:
    """The outcome of :func:`study`: numbers per horizon, the returns behind them, the method.

    Attributes
    ----------
    label
        Name of the setup studied.
    horizons
        Horizons in trading sessions, ascending.
    table
        One row per horizon with the columns of :data:`TABLE_SCHEMA`.
    returns
        ``ticker, date, horizon, end_date, forward_return, excess, relative`` of every counted
        occurrence (``relative`` null without a benchmark).
    method
        What was counted and how: rules, CI method, resamples, seed and assumptions.
    counts
        Occurrences given, matched, and set aside by reason.
    until
        As-of date, if any.
    period
        First and last session of the studied period.
    overlap
        Overlap rule used.
    resamples, seed
        Bootstrap settings.
    benchmarks
        Benchmark name -> how many studied tickers were measured against it (empty without a
        benchmark).
    """

    label: str
    horizons: tuple[int, ...]
    table: pl.DataFrame
    returns: pl.DataFrame
    method: str
    counts: dict[str, int]
    until: dt.date | None
    period: tuple[dt.date, dt.date] | None
    overlap: Overlap
    resamples: int
    seed: int
    benchmarks: dict[str, int] = field(default_factory=dict)
    _inputs: tuple[_Panel, _Occurrences] | None = field(default=None, repr=False, compare=False)

    def row(self, horizon: int) -> dict[str, Any]:
        """The table row of one horizon."""
        if horizon not in self.horizons:
            raise InputError(
                f"horizon {horizon} was not studied; studied horizons: "
                f"{', '.join(map(str, self.horizons))}",
                field="horizon",
            )
        return self.table.row(self.horizons.index(horizon), named=True)

    def lean(self, horizon: int) -> tuple[Direction, Strength]:
        """Which way the setup leans at a horizon, and how strongly.

        Returns
        -------
        tuple
            ``("positive" | "negative" | "none", strength)``: positive when the hit rate is
            above the base rate and the strength is not ``"none"``, negative when below;
            ``("none", "none")`` otherwise.
        """
        row = self.row(horizon)
        strength: Strength = row["strength"]
        if strength == "none":
            return "none", "none"
        return ("positive" if row["hit_rate"] > row["base_hit_rate"] else "negative"), strength

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON types (the returns frame excluded)."""
        leans = {
            str(h): dict(zip(("direction", "strength"), self.lean(h), strict=True))
            for h in self.horizons
        }
        return {
            "label": self.label,
            "horizons": list(self.horizons),
            "until": self.until.isoformat() if self.until else None,
            "period": [d.isoformat() for d in self.period] if self.period else None,
            "overlap": self.overlap,
            "resamples": self.resamples,
            "seed": self.seed,
            "benchmarks": dict(self.benchmarks),
            "confidence": CONFIDENCE,
            "counts": dict(self.counts),
            "table": self.table.to_dicts(),
            "lean": leans,
            "method": self.method,
        }

    def summary(self, width: int = 100) -> str:
        """A readable text table of the study, with its method."""
        header = (
            f"{'horizon':>7} {'n':>8} {'mean':>8} {'mean 95% CI':>18} {'median':>8} "
            f"{'hit':>6} {'hit 95% CI':>14} {'base hit':>8} {'base mean':>9} {'excess':>8} "
            f"{'vs bench':>8} {'strength':>8} {'pending':>7} {'skipped':>7}"
        )
        lines = []
        for row in self.table.iter_rows(named=True):
            mean_ci = (
                f"[{_pct(row['mean_ci_low'])}, {_pct(row['mean_ci_high'])}]" if row["n"] else "n/a"
            )
            hit_ci = (
                f"[{_pct(row['hit_ci_low'], 1)}, {_pct(row['hit_ci_high'], 1)}]"
                if row["n"]
                else "n/a"
            )
            lines.append(
                f"{row['horizon']:>7} {row['n']:>8,} {_pct(row['mean']):>8} {mean_ci:>18} "
                f"{_pct(row['median']):>8} {_pct(row['hit_rate'], 1):>6} {hit_ci:>14} "
                f"{_pct(row['base_hit_rate'], 1):>8} {_pct(row['base_mean']):>9} "
                f"{_pct(row['mean_excess']):>8} {_pct(row['mean_relative']):>8} "
                f"{row['strength']:>8} {row['n_pending']:>7,} {row['n_skipped']:>7,}"
            )
        extra = self._dependence_lines() + self._abnormal_lines()
        rule_width = max(width, len(header), *(len(line) for line in extra))
        period = f"{self.period[0]} .. {self.period[1]}" if self.period else "no sessions"
        facts = [
            f"Setup: {self.label or 'unnamed'}",
            f"Period: {period}" + (f" (as of {self.until})" if self.until else ""),
            f"Occurrences: {self.counts['given']:,} given, {self.counts['matched']:,} matched",
            f"Overlap: {self.overlap}",
            f"Bootstrap: {self.resamples:,} resamples, seed {self.seed}",
        ]
        if self.benchmarks:
            facts.append(
                "Benchmark: "
                + ", ".join(f"{name} ({n:,} tickers)" for name, n in self.benchmarks.items())
            )
        method = [
            wrapped
            for paragraph in self.method.split("\n")
            for wrapped in textwrap.wrap(
                paragraph, rule_width, initial_indent="  ", subsequent_indent="    "
            )
        ]
        title = "Event study" + (f": {self.label}" if self.label else "")
        return "\n".join(
            [
                title.center(rule_width).rstrip(),
                "=" * rule_width,
                *facts,
                "-" * rule_width,
                header,
                *lines,
                *extra,
                "-" * rule_width,
                "Method",
                *method,
            ]
        )

    def _dependence_lines(self) -> list[str]:
        """The i.i.d. and date-cluster intervals side by side, and which one the verdict uses."""
        counted = self.table.filter(pl.col("n") > 0)
        if counted.is_empty():
            return []

        def ci(row: dict[str, Any], what: str, kind: str, digits: int) -> str:
            return f"[{_pct(row[f'{what}_ci_low_{kind}'], digits)}, " + (
                f"{_pct(row[f'{what}_ci_high_{kind}'], digits)}]"
            )

        lines = [
            "",
            "Intervals: i.i.d. bootstrap beside the date-cluster bootstrap (same-day "
            "occurrences resampled together)",
            f"{'horizon':>7} {'same-day':>8} {'uses':>5} {'hit CI iid':>16} {'hit CI by date':>16} "
            f"{'mean CI iid':>18} {'mean CI by date':>18} {'p vs base':>9}",
        ]
        for row in counted.iter_rows(named=True):
            p = f"{row['p_value']:.3f}" if row["p_value"] is not None else "n/a"
            lines.append(
                f"{row['horizon']:>7} {_pct(row['date_shared'], 0):>8} {row['resampling']:>5} "
                f"{ci(row, 'hit', 'iid', 1):>16} {ci(row, 'hit', 'date', 1):>16} "
                f"{ci(row, 'mean', 'iid', 2):>18} {ci(row, 'mean', 'date', 2):>18} {p:>9}"
            )
        return lines

    def _abnormal_lines(self) -> list[str]:
        """Market-model CARs and their tests, when a benchmark was given."""
        counted = self.table.filter(pl.col("n_car") > 0)
        if counted.is_empty():
            return []

        def stat(value: object, p: object) -> str:
            if not isinstance(value, float) or not isinstance(p, float):
                return "n/a"
            return f"{value:.2f} (p {p:.3f})"

        lines = [
            "",
            "Abnormal returns (market model against the benchmark)",
            f"{'horizon':>7} {'n':>8} {'mean CAR':>9} {'cross-sect. t':>16} {'Patell Z':>16} "
            f"{'BMP t':>16}",
        ]
        for row in counted.iter_rows(named=True):
            lines.append(
                f"{row['horizon']:>7} {row['n_car']:>8,} {_pct(row['mean_car']):>9} "
                f"{stat(row['t_cross_section'], row['p_cross_section']):>16} "
                f"{stat(row['z_patell'], row['p_patell']):>16} "
                f"{stat(row['t_bmp'], row['p_bmp']):>16}"
            )
        return lines

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        counted = ", ".join(f"{row['horizon']}d n={row['n']:,}" for row in self.table.to_dicts())
        return f"<StudyResult {self.label or 'unnamed'}: {counted or 'no horizons'}>"

    def _repr_html_(self) -> str:
        """The study as a notebook shows it: what was counted, the table, then the method."""
        import html

        head = (
            "horizon",
            "n",
            "mean",
            "mean 95% CI",
            "median",
            "hit rate",
            "hit 95% CI",
            "base hit rate",
            "base mean",
            "excess",
            "vs bench",
            "strength",
            "pending",
            "skipped",
        )
        rows = []
        for row in self.table.iter_rows(named=True):
            counted = bool(row["n"])
            cells = (
                row["horizon"],
                f"{row['n']:,}",
                _pct(row["mean"]),
                f"{_pct(row['mean_ci_low'])} to {_pct(row['mean_ci_high'])}" if counted else "n/a",
                _pct(row["median"]),
                _pct(row["hit_rate"], 1),
                f"{_pct(row['hit_ci_low'], 1)} to {_pct(row['hit_ci_high'], 1)}"
                if counted
                else "n/a",
                _pct(row["base_hit_rate"], 1),
                _pct(row["base_mean"]),
                _pct(row["mean_excess"]),
                _pct(row["mean_relative"]),
                row["strength"],
                f"{row['n_pending']:,}",
                f"{row['n_skipped']:,}",
            )
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
        period = f"{self.period[0]} to {self.period[1]}" if self.period else "no sessions"
        facts = [
            f"Period: {period}" + (f" (as of {self.until})" if self.until else ""),
            f"Occurrences: {self.counts['given']:,} given, {self.counts['matched']:,} matched",
            f"Overlap: {self.overlap}; bootstrap: {self.resamples:,} resamples, seed {self.seed}",
        ]
        method = "".join(f"<p>{html.escape(p)}</p>" for p in self.method.split("\n"))
        return "".join(
            [
                f"<h4>Event study: {html.escape(self.label or 'unnamed')}</h4>",
                "<p>" + "<br>".join(html.escape(f) for f in facts) + "</p>",
                "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>",
                *rows,
                "</table>",
                f"<details><summary>Method</summary>{method}</details>",
            ]
        )
