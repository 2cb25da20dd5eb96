"""Untrusted text made safe for the place it is shown in.

Headlines, news sources and links, firm, security and sector names, KPI names and units, and
tickers come from files and providers, and are stored exactly as given. They are escaped on the
way out, once, by the writer of each medium:

- HTML: Jinja2's autoescape (every HTML template environment has it on);
- JSON: the encoder; values stay raw there, because JSON is data and its reader decides;
- Markdown: :func:`markdown_text`, so a headline can neither run a script, load a remote image,
  add a link, nor turn into a heading, a table row or code;
- the terminal: :func:`strip_controls` and :func:`terminal_text`, so a headline can neither
  recolour the screen, plant a hyperlink, write the clipboard nor be read as Rich markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from rich.text import Text

_TERMINAL_CONTROLS: Final = re.compile(
    r"""
    (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])   # OSC (links, clipboard, title), DCS, SOS, PM, APC
        [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  #   up to BEL or ST; unterminated, to the end
    | (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]         # CSI: colours, cursor moves, erasing
    | \x1b[ -/]*[0-~]                          # any other escape sequence
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]            # other C0 and C1 controls; newline and tab stay
    """,
    re.VERBOSE,
)
"""Sequences a terminal acts on (ECMA-48), in their 7-bit and 8-bit forms."""

_HTML: Final = re.compile(
    r"""
    <!--.*?-->                                     # comment
    | <\?.*?\?>                                    # processing instruction
    | <!\[CDATA\[.*?\]\]>
    | <![A-Za-z][^>]*>                             # declaration
    | </?[A-Za-z][A-Za-z0-9-]*                     # opening or closing tag, with attributes
      (?:\s+[^\s"'=<>`/]+(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)*
      \s*/?>
    """,
    re.VERBOSE | re.DOTALL,
)
"""Raw HTML as CommonMark recognises it; whatever ``<`` is left is escaped, never passed on."""
_HTML_PASSES: Final = 4
"""Tags nested in tags are stripped this deep; any ``<`` left after that is escaped."""

_DESTINATION: Final = r"\((?:[^()]|\([^()]*\))*\)"
_IMAGE: Final = re.compile(r"!\[([^\]]*)\]" + _DESTINATION)
_LINK: Final = re.compile(r"\[([^\]]*)\]" + _DESTINATION)
_AUTOLINK: Final = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}):([^<>\s]*)>")
_WEB_SCHEMES: Final = frozenset({"http", "https", "mailto"})

_INLINE: Final = re.compile(r"[\\`*\[\]|~]|<(?!\s|$)|(?<![^\W_])_|_(?![^\W_])")
"""Characters that start code, emphasis, links, raw HTML or table cells; ``<`` unless a space
follows (``P/E < 10`` stays as it is), ``_`` only where it can open or close emphasis
(``cross_above_sma_200`` too)."""
_BLOCK: Final = re.compile(r"^(?:(#{1,6}|>|[-+=])|(\d{1,9})([.)]))(?=\s|$)")
"""A line start that makes a heading, quote, list item, thematic break or setext underline."""
_CLOSING_HASHES: Final = re.compile(r"(?<=\s)(#+)$")
"""Trailing ``#`` that a heading would drop as its closing sequence."""
_SPACE: Final = re.compile(r"[ \t\r\n\f\v]+")
"""Whitespace a Markdown line may not hold; Babel's non-breaking spaces are kept."""


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences or control characters, newlines and tabs kept.

    Removes ANSI CSI sequences (colours, cursor moves), OSC strings (OSC 8 hyperlinks, OSC 52
    clipboard writes, window titles), DCS/SOS/PM/APC strings, other escape sequences, their
    8-bit C1 forms, and every other C0 and C1 control character (carriage return included: it
    would let a line overwrite what came before it). The words around them are kept.

    Examples
    --------
    >>> strip_controls("\\x1b[31mred\\x1b[0m \\x1b]8;;http://evil\\x1b\\\\link\\x1b]8;;\\x1b\\\\")
    'red link'
    """
    return _TERMINAL_CONTROLS.sub("", text)


def terminal_text(value: object) -> Text:
    """``value`` as a Rich :class:`~rich.text.Text` to print literally.

    A ``Text`` is never parsed as markup, so ``[bold red]x[/]`` in a headline prints as written,
    whatever the console's markup setting; terminal escapes are stripped first
    (:func:`strip_controls`).
    """
    from rich.text import Text

    return Text(strip_controls(str(value)))


def _autolink(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    # A web address stays readable as text; other schemes (javascript:, data:) are dropped.
    return f"{scheme}:{rest}" if scheme.lower() in _WEB_SCHEMES else ""


def _block(match: re.Match[str]) -> str:
    marker, number, delimiter = match.groups()
    return "\\" + marker if marker else f"{number}\\{delimiter}"


def markdown_text(text: str) -> str:
    """Untrusted ``text`` as one line of Markdown that shows it literally.

    For a headline, a name or a paragraph of plain text that is to sit in a Markdown document.
    Terminal controls are stripped (:func:`strip_controls`) and whitespace runs, newlines
    included, become one space, so the text stays on its line. HTML tags and comments are
    removed, their words kept; a Markdown image becomes its alt text (nothing is loaded) and a
    link its text (its destination, ``javascript:`` or not, is dropped); an autolink ``<...>``
    stays as plain text when it is http(s) or mailto and is dropped otherwise. What is left is
    escaped with backslashes where CommonMark or GitHub's tables would read structure into it:
    backslashes, backticks, ``*``, ``_`` that could open emphasis, ``[``, ``]``, ``<``, ``|``
    and ``~``; and at the start, a heading, quote, list or rule marker. Rendered, the text reads
    as it was written, without its tags and link targets.

    Examples
    --------
    >>> markdown_text("# Buy [now](javascript:alert(1)) <script>x</script>| col |")
    '\\\\# Buy now x\\\\| col \\\\|'
    """
    line = _SPACE.sub(" ", strip_controls(text)).strip()
    for _ in range(_HTML_PASSES):
        # "<scr<script>ipt>" is a tag again once the inner one is gone.
        line, found = _HTML.subn("", line)
        if not found:
            break
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(_autolink, line)
    line = _SPACE.sub(" ", line).strip()
    line = _INLINE.sub(lambda m: "\\" + m.group(0), line)
    line = _BLOCK.sub(_block, line, count=1)
    return _CLOSING_HASHES.sub(r"\\\1", line)


EXCERPT_WIDTH: Final = 120
"""Characters of one line an :func:`excerpt` keeps."""
EXCERPT_LINES: Final = 6
"""Lines an :func:`excerpt` keeps."""


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "\N{HORIZONTAL ELLIPSIS}"


def excerpt(message: str, width: int = EXCERPT_WIDTH, lines: int = EXCERPT_LINES) -> str:
    """A message short enough to show back: at most ``lines`` lines of ``width`` characters.

    An error message may quote what it was given (a screen expression, a ticker), and that can
    be as long as the request. A long line is cut with an ellipsis; a line pointed at by a
    caret line below it (``^^^`` under the bad token) is cut to a window around the caret, and
    the caret moved with it, so it still points at the token.

    Examples
    --------
    >>> print(excerpt("unknown column\\n    " + "x + " * 50 + "bad\\n    " + " " * 200 + "^^^", 40))
    unknown column
        …x + x + x + x + x + x + x + x + bad
                                         ^^^
    """
    rows = message.split("\n")
    shown: list[str] = []
    index = 0
    while index < len(rows) and len(shown) < lines:
        row = rows[index]
        below = rows[index + 1] if index + 1 < len(rows) else ""
        caret = below.find("^")
        if caret >= 0 and not below.strip("^ ") and len(row) > width:
            indent = len(row) - len(row.lstrip(" "))
            room = max(width - indent, 3)
            start = max(indent, min(caret - room // 2, len(row) - room))
            end = start + room
            window = row[start:end]
            if start > indent:
                window = "\N{HORIZONTAL ELLIPSIS}" + window[1:]
            if end < len(row):
                window = window[:-1] + "\N{HORIZONTAL ELLIPSIS}"
            carets = len(below) - caret
            shown.append(" " * indent + window)
            shown.append(" " * (indent + caret - start) + "^" * max(1, min(carets, end - caret)))
            index += 2
            continue
        shown.append(_cut(row, width))
        index += 1
    if index < len(rows):
        shown.append("\N{HORIZONTAL ELLIPSIS}")
    return "\n".join(shown)
