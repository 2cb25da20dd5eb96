"""Event study: forward returns after a setup, hit rates, intervals, base rates, abnormal returns.

The package splits the job: :mod:`.rules` holds the vocabulary (columns, strength table),
:mod:`.inputs` checks and lays out prices and occurrences, :mod:`.core` counts occurrences and
their forward returns, :mod:`.explain` carries the result and its method, :mod:`.path` draws
the average path and the figure, :mod:`.market_model` measures abnormal returns against a
benchmark, :mod:`.clusters` resamples same-day occurrences together, :mod:`.multiple` controls
the false discoveries among several setups, :mod:`.strategy` trades a setup and
:mod:`.calibration` replays past verdicts. See :func:`stockbrief.evidence.core.study`.
"""

from stockbrief.evidence.core import Tally, study
from stockbrief.evidence.explain import StudyResult
from stockbrief.evidence.path import average_path, plot
from stockbrief.evidence.rules import (
    CONFIDENCE,
    PATH_SCHEMA,
    RETURNS_SCHEMA,
    STRENGTH_RULES,
    TABLE_SCHEMA,
    Direction,
    Overlap,
    Strength,
    StrengthRule,
    grade_strength,
)

__all__ = [
    "CONFIDENCE",
    "PATH_SCHEMA",
    "RETURNS_SCHEMA",
    "STRENGTH_RULES",
    "TABLE_SCHEMA",
    "Direction",
    "Overlap",
    "Strength",
    "StrengthRule",
    "StudyResult",
    "Tally",
    "average_path",
    "grade_strength",
    "plot",
    "study",
]
