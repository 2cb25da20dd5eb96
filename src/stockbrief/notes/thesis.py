"""The user's own thesis in a brief: quoted as the user's view, as plain words, never as data.

A thesis is written by a person, often in Markdown, and stored as written. The brief shows its
words only: :func:`plain_words` drops headings, emphasis, lists, code, links' targets, images
and HTML, so a note can neither format nor link anything in the brief; each writer then escapes
what is left for its medium (autoescape for HTML, :func:`stockbrief.text.markdown_text` for
Markdown, which also strips terminal controls).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final

from stockbrief.text import strip_controls

_FENCE: Final = re.compile(r"^[ \t]*(?:```|~~~).*$", re.M)
_REFERENCE: Final = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S.*$", re.M)
_BLOCK_MARK: Final = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-+*][ \t]+|\d{1,9}[.)][ \t]+)+", re.M
)
_RULE: Final = re.compile(r"^[ \t]*([-*_=])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_TAG: Final = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.S)
_TARGET: Final = r"(?:\((?:[^()]|\([^()]*\))*\)|\[[^\]]*\])"
"""A link's destination, ``(...)`` with one level of parentheses inside, or a ``[reference]``."""
_IMAGE: Final = re.compile(r"!\[([^\]]*)\]" + _TARGET)
_LINK: Final = re.compile(r"\[([^\]]*)\]" + _TARGET)
_AUTOLINK: Final = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_CODE: Final = re.compile(r"(`+)(.+?)\1", re.S)
_EMPHASIS: Final = re.compile(
    r"(\*{1,3}|~~)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\3(?!\w)", re.S
)
"""Emphasis and strike-through; ``_`` only outside words, so ``cross_above_sma`` stays."""
_SPACE: Final = re.compile(r"\s+")
_BEFORE_STOP: Final = re.compile(r" ([.,;:!?)])")
"""A space a removed tag left before punctuation."""
_TAG_PASSES: Final = 4
"""Tags nested in tags are removed this deep; a ``<`` left over is escaped by the writer."""


def plain_words(text: str) -> str:
    """The words of a Markdown (or HTML) text on one line, without its markup.

    Examples
    --------
    >>> plain_words("# Buy\\n**Cloud** [grows](javascript:x) <b>fast</b>\\n- `AI`")
    'Buy Cloud grows fast AI'
    """
    words = strip_controls(text)
    words = _FENCE.sub(" ", words)
    words = _REFERENCE.sub(" ", words)
    words = _RULE.sub(" ", words)
    words = _BLOCK_MARK.sub("", words)
    for _ in range(_TAG_PASSES):
        words, found = _TAG.subn(" ", words)
        if not found:
            break
    words = _IMAGE.sub(r"\1", words)
    words = _LINK.sub(r"\1", words)
    words = _AUTOLINK.sub(r"\1", words)
    words = _CODE.sub(r"\2", words)
    for _ in range(3):  # ***both*** nests one emphasis in another
        words = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4), words)
    return _BEFORE_STOP.sub(r"\1", _SPACE.sub(" ", words)).strip()


@dataclass(frozen=True)
class Thesis:
    """A stored thesis: on which ticker, when and by whom it was written, and its text."""

    ticker: str
    written_on: dt.date
    author: str | None
    text: str
    """As written; :attr:`words` is what a brief shows."""

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> Thesis | None:
        """The thesis of a stored row (``Store.thesis``), or None for none."""
        if row is None:
            return None
        return cls(row["ticker"], row["written_on"], row["author"], row["text"])

    @property
    def words(self) -> str:
        """The text as a brief quotes it: plain words, markup removed."""
        return plain_words(self.text)

    def to_json(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "written_on": self.written_on.isoformat(),
            "author": self.author,
            "text": self.text,
            "quoted": self.words,
        }
