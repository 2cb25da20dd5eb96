"""Screens: a small condition language over a computed universe, compiled to Polars.

A screen is a condition a user types, such as::

    close > sma_200 and crossed_above(sma_200) and rel_volume >= 2
    rsi_14 < 30 or (close < low_52w * 1.05)
    not event(gap_up) and pct(close, sma_50) > 3%

:func:`parse` compiles it, with a recursive-descent parser of our own (never ``eval``, never SQL),
into one Polars expression (a :class:`Screen`); :func:`run` evaluates it over a universe frame (the
``frame`` of :func:`stockbrief.compute.compute`) in one pass and returns the tickers that match on
one session; :func:`mask` gives the match of every row. :data:`PRESETS` names the common setups.

Grammar
-------
From the loosest binding to the tightest::

    screen      := or_expr                          (must be a condition)
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]     (no chaining)
    sum         := product (("+" | "-") product)*
    product     := unary (("*" | "/") unary)*
    unary       := "-" unary | primary
    primary     := number | column | function "(" [or_expr ("," or_expr)*] ")" | "(" or_expr ")"
    number      := 12 | 2.5 | .5 | 1e6 | 5%          (5% is 0.05)

Keywords are case-insensitive; column names are not. Columns are the numeric columns of the frame
the screen runs on (bars and indicator outputs; ``ticker`` and ``date`` are not numbers). The
functions are in :data:`FUNCTIONS`.

Notes
-----
Values are floats; a missing value (an indicator's warm-up, the first session of a ticker under
``prev``) makes every comparison that reads it unknown, and the logic is three-valued (Kleene):
``unknown or true`` is true, ``not unknown`` is unknown, and a row whose condition is unknown does
not match. A division by zero gives a missing value, not infinity.

``prev(x)`` is ``x`` of the previous row of the same ticker in a frame sorted by ticker and date:
the previous *session of that ticker*, so a ticker that did not trade for a few days compares with
its last bar. Nothing reads a later row, and :func:`run` as of a date reads no row dated after it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

import numpy as np
import polars as pl

from stockbrief import detectors as ev
from stockbrief.compute import INPUTS, output_columns
from stockbrief.errors import InputError

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_EVENT_KINDS",
    "FUNCTIONS",
    "PRESETS",
    "Screen",
    "ScreenError",
    "mask",
    "parse",
    "preset",
    "run",
]

DEFAULT_COLUMNS: Final[tuple[str, ...]] = (*INPUTS, *output_columns())
"""Bar columns and the outputs of the default indicator set: what a computed frame holds."""

DEFAULT_EVENT_KINDS: Final[tuple[str, ...]] = tuple(ev.MEANINGS)
"""Every event kind stockbrief reports, which ``event(kind)`` may name."""

NOT_NUMERIC: Final = ("ticker", "date")
"""Key columns of a frame, which a screen cannot compare."""

MAX_TOKENS: Final = 1000
"""Longest expression, in tokens (Polars plans slow down sharply on huge expression trees)."""

MAX_NESTING: Final = 40
"""Deepest nesting of parentheses, calls, ``not`` and unary minus."""

Kind = Literal["number", "condition"]


class ScreenError(InputError):
    """A screen that cannot be parsed or run; the message points at the offending token.

    Attributes
    ----------
    problem
        What is wrong, without the position.
    expression
        The screen's text, when the error is in it.
    position
        1-based column of the offending token in ``expression`` (``len(expression) + 1`` for the
        end of it), or None when the error is not in the text (an unknown sort column).

    Examples
    --------
    >>> try:
    ...     parse("close > sma200", ["close", "sma_200"], [])
    ... except ScreenError as error:
    ...     print(error)
    field 'expression': unknown column 'sma200' at position 9; did you mean 'sma_200'?
        close > sma200
                ^^^^^^
    """

    def __init__(
        self,
        problem: str,
        *,
        expression: str | None = None,
        position: int | None = None,
        width: int = 1,
        hint: str = "",
        field: str = "expression",
    ) -> None:
        self.problem = problem
        self.expression = expression
        self.position = position
        text = problem if position is None else f"{problem} at position {position}"
        text += hint
        if expression is not None and position is not None:
            # One space per whitespace character keeps the caret under the token.
            shown = re.sub(r"\s", " ", expression)
            width = max(1, min(width, len(expression) - position + 1))
            text += f"\n    {shown}\n    {' ' * (position - 1)}{'^' * width}"
        super().__init__(text, field=field)


@dataclass(frozen=True)
class Screen:
    """A compiled screen.

    Attributes
    ----------
    expression
        The text it was parsed from.
    where
        Boolean Polars expression, never null (an unknown condition is False). It reads the
        columns of a frame sorted by ticker and date, plus one ``__event__<kind>`` boolean column
        per event kind in :attr:`event_kinds`; :func:`run` and :func:`mask` provide both.
    columns
        The frame columns the screen reads, in order of first use (``close`` included when
        ``crossed_above(level)`` reads it implicitly).
    event_kinds
        The event kinds ``event(...)`` tests, in order of first use.
    lookback
        Earlier rows of the same ticker the screen reads (1 for ``prev``, ``crossed_*``; 2 for
        ``prev(prev(x))``), or None when unknown (a hand-made screen): then :func:`run` evaluates
        the whole history up to the session.
    """

    expression: str
    where: pl.Expr = field(compare=False)
    columns: tuple[str, ...]
    event_kinds: tuple[str, ...] = ()
    lookback: int | None = None


# --------------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------------

TokenKind = Literal["number", "name", "op", "end", "bad"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    text: str
    start: int  # 0-based offset into the expression
    value: float = 0.0

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.%]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", ",")
_KEYWORDS = frozenset({"and", "or", "not"})
_CHARACTER_HINTS = {
    "&": "; write 'and'",
    "|": "; write 'or'",
    "!": "; write 'not', or '!=' for 'not equal'",
    "=": "; write '==' to compare",
    "'": "; columns and event kinds are written without quotes",
    '"': "; columns and event kinds are written without quotes",
    "[": "; group with '(' and ')'",
    "]": "; group with '(' and ')'",
}


def _number_value(text: str) -> float:
    if text.endswith("%"):
        # An exact decimal shift, so 1.1% is the float nearest 0.011 (as 0.011 is).
        return float(Decimal(text[:-1]).scaleb(-2))
    return float(text)


def _tokenize(text: str) -> tuple[list[_Token], ScreenError | None]:
    """The tokens, ending with an ``end`` token, or with a ``bad`` one and its error.

    The error is raised only when the parser reaches the bad token, so the first problem in
    reading order is the one reported (``foo('x')`` is an unknown function, not a bad quote).
    """
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number is not None:
            tail = _NUMBER_TAIL.match(text, number.end())
            if tail is not None:
                bad = text[i : tail.end()]
                tokens.append(_Token("bad", bad, i))
                error = ScreenError(
                    f"malformed number {bad!r}",
                    expression=text,
                    position=i + 1,
                    width=len(bad),
                    hint="; numbers look like 12, 2.5, 1e6 or 5%",
                )
                return tokens, error
            value = _number_value(number.group())
            if not math.isfinite(value):
                tokens.append(_Token("bad", number.group(), i))
                error = ScreenError(
                    f"number {number.group()!r} is out of range",
                    expression=text,
                    position=i + 1,
                    width=number.end() - i,
                )
                return tokens, error
            tokens.append(_Token("number", number.group(), i, value))
            i = number.end()
            continue
        name = _NAME.match(text, i)
        if name is not None:
            tokens.append(_Token("name", name.group(), i))
            i = name.end()
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(_Token("op", op, i))
            i += len(op)
            continue
        tokens.append(_Token("bad", char, i))
        error = ScreenError(
            f"unexpected character {char!r}",
            expression=text,
            position=i + 1,
            hint=_CHARACTER_HINTS.get(char, ""),
        )
        return tokens, error
    tokens.append(_Token("end", "", n))
    return tokens, None


def _describe(token: _Token) -> str:
    return "the end of the expression" if token.kind == "end" else repr(token.text)


def _suggest(name: str, candidates: Collection[str], what: str) -> str:
    """``; did you mean 'x'?`` from difflib, else the list of candidates."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if not candidates:
        return f"; there are no {what}"
    return f"; the {what} are: {', '.join(sorted(candidates))}"


# --------------------------------------------------------------------------------------------
# functions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Function:
    signature: str
    meaning: str
    arity: tuple[int, int]

    def takes(self) -> str:
        low, high = self.arity
        count = str(low) if low == high else f"{low} or {high}"
        return f"{count} argument{'' if high == 1 else 's'}"


_FUNCTIONS: Final[Mapping[str, _Function]] = {
    "crossed_above": _Function(
        "crossed_above(level) or crossed_above(x, level)",
        "x (default: close) closed above level this session and at or below it the session"
        " before, for the same ticker",
        (1, 2),
    ),
    "crossed_below": _Function(
        "crossed_below(level) or crossed_below(x, level)",
        "x (default: close) closed below level this session and at or above it the session"
        " before, for the same ticker",
        (1, 2),
    ),
    "prev": _Function("prev(x)", "x on the ticker's previous session", (1, 1)),
    "pct": _Function("pct(a, b)", "a / b - 1, the change from b to a as a fraction", (2, 2)),
    "abs": _Function("abs(x)", "the absolute value of x", (1, 1)),
    "between": _Function("between(x, lo, hi)", "lo <= x <= hi", (3, 3)),
    "event": _Function(
        "event(kind)", "an event of that kind fired on the session for the ticker", (1, 1)
    ),
}

FUNCTIONS: Final[Mapping[str, tuple[str, str]]] = {
    name: (spec.signature, spec.meaning) for name, spec in _FUNCTIONS.items()
}
"""Functions a screen may call: name -> (signature, meaning)."""


# --------------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    expr: pl.Expr
    kind: Kind
    start: int
    end: int
    lookback: int = 0
    constant: bool = False


_ORDINALS = ("first", "second", "third")
_COMPARISONS: Final[Mapping[str, Callable[[pl.Expr, pl.Expr], pl.Expr]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _event_column(kind: str) -> str:
    return f"__event__{kind}"


def _same_ticker() -> pl.Expr:
    return pl.col("ticker") == pl.col("ticker").shift(1)


def _prev(node: _Node) -> pl.Expr:
    """The node's value on the previous row, null where that row is another ticker's."""
    shifted = node.expr if node.constant else node.expr.shift(1)
    return pl.when(_same_ticker()).then(shifted)


def _divide(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return a / pl.when(b != 0).then(b)


class _Parser:
    def __init__(self, text: str, columns: Collection[str], kinds: Collection[str]) -> None:
        self.text = text
        self.tokens, self.bad = _tokenize(text)
        self.i = 0
        self.columns = frozenset(columns) - set(NOT_NUMERIC)
        self.kinds = frozenset(kinds)
        self.used: dict[str, None] = {}
        self.used_kinds: dict[str, None] = {}
        self.depth = 0
        if len(self.tokens) > MAX_TOKENS:
            raise self.fail_at(
                f"the expression is too long: more than {MAX_TOKENS} tokens",
                self.tokens[MAX_TOKENS],
                "; split it into several screens",
            )

    # -- helpers -----------------------------------------------------------------------------

    def fail(self, problem: str, start: int, end: int, hint: str = "") -> ScreenError:
        return ScreenError(
            problem, expression=self.text, position=start + 1, width=end - start, hint=hint
        )

    def fail_at(self, problem: str, token: _Token, hint: str = "") -> ScreenError:
        return self.fail(problem, token.start, max(token.end, token.start + 1), hint)

    def peek(self) -> _Token:
        token = self.tokens[self.i]
        if token.kind == "bad" and self.bad is not None:
            raise self.bad
        return token

    def advance(self) -> _Token:
        token = self.peek()
        if token.kind != "end":
            self.i += 1
        return token

    @staticmethod
    def is_keyword(token: _Token, word: str) -> bool:
        return token.kind == "name" and token.text.lower() == word

    @staticmethod
    def is_op(token: _Token, *ops: str) -> bool:
        return token.kind == "op" and token.text in ops

    def nest(self, token: _Token) -> None:
        """Enter one level of nesting at ``token`` (leave with ``self.depth -= 1``)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail_at(f"the expression nests more than {MAX_NESTING} levels deep", token)

    def need(self, node: _Node, kind: Kind, problem: str, hint: str = "") -> None:
        if node.kind != kind:
            raise self.fail(f"{problem}, got a {node.kind}", node.start, node.end, hint)

    # -- grammar -----------------------------------------------------------------------------

    def screen(self) -> _Node:
        if self.peek().kind == "end":
            raise self.fail_at(
                "empty expression", self.peek(), "; write a condition such as 'rsi_14 < 30'"
            )
        node = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise self.fail_at(
                f"unexpected {_describe(token)}",
                token,
                "; expected an operator, 'and', 'or' or the end of the expression",
            )
        self.need(
            node,
            "condition",
            "the screen must be a condition",
            "; compare it with something, e.g. 'rsi_14 < 30'",
        )
        return node

    def logic(self, word: str, combine: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> _Node:
        below = self.and_expr if word == "or" else self.not_expr
        left = below()
        while self.is_keyword(self.peek(), word):
            self.advance()
            right = below()
            hint = "; compare the number with something, e.g. 'rsi_14 < 30'"
            self.need(left, "condition", f"'{word}' needs a condition on its left", hint)
            self.need(right, "condition", f"'{word}' needs a condition on its right", hint)
            left = _Node(
                combine(left.expr, right.expr),
                "condition",
                left.start,
                right.end,
                max(left.lookback, right.lookback),
                left.constant and right.constant,
            )
        return left

    def or_expr(self) -> _Node:
        return self.logic("or", operator.or_)

    def and_expr(self) -> _Node:
        return self.logic("and", operator.and_)

    def not_expr(self) -> _Node:
        token = self.peek()
        if not self.is_keyword(token, "not"):
            return self.comparison()
        self.advance()
        self.nest(token)
        operand = self.not_expr()
        self.depth -= 1
        self.need(operand, "condition", "'not' needs a condition")
        return _Node(
            ~operand.expr,
            "condition",
            token.start,
            operand.end,
            operand.lookback,
            operand.constant,
        )

    def comparison(self) -> _Node:
        left = self.sum()
        token = self.peek()
        if not self.is_op(token, *_COMPARISONS):
            return left
        self.advance()
        right = self.sum()
        if left.kind != right.kind:
            wrong = left if left.kind == "condition" else right
            raise self.fail(
                "cannot compare a condition with a number",
                wrong.start,
                wrong.end,
                f"; '{token.text}' compares two numbers (or, with '==' and '!=', two conditions)",
            )
        if left.kind == "condition" and token.text not in ("==", "!="):
            raise self.fail_at(
                f"'{token.text}' cannot order conditions",
                token,
                "; only '==' and '!=' compare two conditions",
            )
        following = self.peek()
        if self.is_op(following, *_COMPARISONS):
            raise self.fail_at(
                "comparisons do not chain",
                following,
                "; write 'a < b and b < c', or between(x, lo, hi)",
            )
        return _Node(
            _COMPARISONS[token.text](left.expr, right.expr),
            "condition",
            left.start,
            right.end,
            max(left.lookback, right.lookback),
            left.constant and right.constant,
        )

    def arithmetic(
        self, ops: Mapping[str, Callable[[pl.Expr, pl.Expr], pl.Expr]], below: Callable[[], _Node]
    ) -> _Node:
        left = below()
        while self.is_op(self.peek(), *ops):
            token = self.advance()
            right = below()
            self.need(left, "number", f"'{token.text}' needs a number on its left")
            self.need(right, "number", f"'{token.text}' needs a number on its right")
            left = _Node(
                ops[token.text](left.expr, right.expr),
                "number",
                left.start,
                right.end,
                max(left.lookback, right.lookback),
                left.constant and right.constant,
            )
        return left

    def sum(self) -> _Node:
        return self.arithmetic({"+": operator.add, "-": operator.sub}, self.product)

    def product(self) -> _Node:
        return self.arithmetic({"*": operator.mul, "/": _divide}, self.unary)

    def unary(self) -> _Node:
        token = self.peek()
        if not self.is_op(token, "-"):
            return self.primary()
        self.advance()
        self.nest(token)
        operand = self.unary()
        self.depth -= 1
        self.need(operand, "number", "'-' needs a number")
        return _Node(
            -operand.expr, "number", token.start, operand.end, operand.lookback, operand.constant
        )

    def primary(self) -> _Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return _Node(
                pl.lit(token.value, dtype=pl.Float64),
                "number",
                token.start,
                token.end,
                constant=True,
            )
        if self.is_op(token, "("):
            self.advance()
            self.nest(token)
            inner = self.or_expr()
            self.depth -= 1
            closing = self.peek()
            if not self.is_op(closing, ")"):
                raise self.fail_at(
                    "expected ')'",
                    closing,
                    f", found {_describe(closing)}, to close the '(' at position {token.start + 1}",
                )
            self.advance()
            return _Node(
                inner.expr, inner.kind, token.start, closing.end, inner.lookback, inner.constant
            )
        if token.kind == "name" and token.text.lower() not in _KEYWORDS:
            self.advance()
            if self.is_op(self.peek(), "("):
                return self.call(token)
            return self.column(token)
        raise self.fail_at(
            "expected a number, a column, a function or '('", token, f", found {_describe(token)}"
        )

    def column(self, token: _Token) -> _Node:
        name = token.text
        if name in self.columns:
            self.used[name] = None
            return _Node(pl.col(name).cast(pl.Float64), "number", token.start, token.end)
        if name in NOT_NUMERIC:
            raise self.fail_at(
                f"column {name!r} is not a number", token, "; screens compare numeric columns"
            )
        if name in _FUNCTIONS:
            raise self.fail_at(
                f"{name!r} is a function",
                token,
                f"; call it as {_FUNCTIONS[name].signature}",
            )
        if name in self.kinds:
            hint = f"; {name!r} is an event kind: write event({name})"
        else:
            hint = _suggest(name, self.columns, "columns")
        raise self.fail_at(f"unknown column {name!r}", token, hint)

    def call(self, name: _Token) -> _Node:
        spec = _FUNCTIONS.get(name.text)
        if spec is None:
            if name.text in self.columns:
                raise self.fail_at(
                    f"{name.text!r} is a column, not a function", name, "; remove the parentheses"
                )
            raise self.fail_at(
                f"unknown function {name.text!r}",
                name,
                _suggest(name.text, _FUNCTIONS, "functions"),
            )
        self.advance()  # "("
        if name.text == "event":
            return self.event(name)
        self.nest(name)
        args: list[_Node] = []
        if not self.is_op(self.peek(), ")"):
            args.append(self.or_expr())
            while self.is_op(self.peek(), ","):
                self.advance()
                args.append(self.or_expr())
        self.depth -= 1
        closing = self.peek()
        if not self.is_op(closing, ")"):
            raise self.fail_at(
                "expected ',' or ')'",
                closing,
                f", found {_describe(closing)}, in the call of {name.text}()",
            )
        self.advance()
        low, high = spec.arity
        if not low <= len(args) <= high:
            raise self.fail(
                f"{name.text}() takes {spec.takes()}, got {len(args)}",
                name.start,
                closing.end,
                f"; write {spec.signature}",
            )
        return self.apply(name, args, closing.end)

    def event(self, name: _Token) -> _Node:
        token = self.peek()
        if token.kind != "name" or token.text.lower() in _KEYWORDS:
            raise self.fail_at(
                "event() takes an event kind",
                token,
                f", found {_describe(token)}; write e.g. event(gap_up)",
            )
        self.advance()
        if token.text not in self.kinds:
            close = difflib.get_close_matches(token.text, list(self.kinds), n=1, cutoff=0.6)
            known = ", ".join(sorted(self.kinds)) or "none"
            hint = f"; did you mean {close[0]!r}? Known" if close else "; known"
            raise self.fail_at(
                f"unknown event kind {token.text!r}", token, f"{hint} kinds: {known}"
            )
        closing = self.peek()
        if not self.is_op(closing, ")"):
            if self.is_op(closing, ","):
                raise self.fail_at("event() takes 1 argument", closing, "; write event(kind)")
            raise self.fail_at("expected ')'", closing, f", found {_describe(closing)}")
        self.advance()
        self.used_kinds[token.text] = None
        return _Node(pl.col(_event_column(token.text)), "condition", name.start, closing.end)

    def apply(self, name: _Token, args: list[_Node], end: int) -> _Node:
        fn = name.text
        if fn != "prev":
            for k, arg in enumerate(args):
                self.need(arg, "number", f"{fn}() needs a number as its {_ORDINALS[k]} argument")
        lookback = max(arg.lookback for arg in args)
        constant = all(arg.constant for arg in args)
        if fn == "prev":
            (x,) = args
            return _Node(_prev(x), x.kind, name.start, end, lookback + 1, x.constant)
        if fn == "abs":
            return _Node(args[0].expr.abs(), "number", name.start, end, lookback, constant)
        if fn == "pct":
            a, b = args
            value = _divide(a.expr, b.expr) - 1
            return _Node(value, "number", name.start, end, lookback, constant)
        if fn == "between":
            x, lo, hi = args
            inside = (x.expr >= lo.expr) & (x.expr <= hi.expr)
            return _Node(inside, "condition", name.start, end, lookback, constant)
        # crossed_above / crossed_below
        if len(args) == 1:
            if "close" not in self.columns:
                raise self.fail(
                    f"{fn}(level) compares the close, and there is no column 'close'",
                    name.start,
                    end,
                    f"; name the series: {fn}(x, level)",
                )
            self.used["close"] = None
            x = _Node(pl.col("close").cast(pl.Float64), "number", name.start, end)
            level = args[0]
        else:
            x, level = args
        if fn == "crossed_above":
            crossed = (x.expr > level.expr) & (_prev(x) <= _prev(level))
        else:
            crossed = (x.expr < level.expr) & (_prev(x) >= _prev(level))
        return _Node(crossed, "condition", name.start, end, lookback + 1, constant)


def parse(
    expression: str,
    columns: Collection[str] = DEFAULT_COLUMNS,
    event_kinds: Collection[str] = DEFAULT_EVENT_KINDS,
) -> Screen:
    """Compile a screen.

    Parameters
    ----------
    expression
        The condition, in the language of this module's docstring.
    columns
        The columns a screen may name: those of the frame it will run on (``ticker`` and
        ``date`` are ignored; they are not numbers). Default: bars and default indicators.
    event_kinds
        The kinds ``event(kind)`` may name. Default: every kind stockbrief reports.

    Returns
    -------
    Screen
        With the Polars expression, the columns and event kinds read, and the lookback.

    Raises
    ------
    ScreenError
        The message names the problem and its 1-based position, suggests the nearest column,
        function or event kind, and shows the expression with a caret line under the token.

    Examples
    --------
    >>> screen = parse("close > sma_200 and crossed_above(sma_200) and rel_volume >= 2")
    >>> screen.columns, screen.lookback
    (('close', 'sma_200', 'rel_volume'), 1)
    """
    parser = _Parser(expression, columns, event_kinds)
    node = parser.screen()
    return Screen(
        expression,
        node.expr.fill_null(False),
        tuple(parser.used),
        tuple(parser.used_kinds),
        node.lookback,
    )


# --------------------------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------------------------

_SURGE = ev.THRESHOLDS["volume_surge_rel_volume"].value
_GAP = ev.THRESHOLDS["gap_min"].value * 100

PRESETS: Final[Mapping[str, tuple[str, str]]] = {
    "breakouts": (
        "crossed_above(sma_200) and rel_volume >= 1.5",
        "closed above the 200-day average, after closing at or below it the session before,"
        " on at least 1.5x typical volume",
    ),
    "breakdowns": (
        "crossed_below(sma_200) and rel_volume >= 1.5",
        "closed below the 200-day average, after closing at or above it the session before,"
        " on at least 1.5x typical volume",
    ),
    "volume-surge": (
        f"rel_volume >= {_SURGE:g}",
        f"volume at least {_SURGE:g}x the typical volume (the volume_surge event)",
    ),
    "golden-cross": (
        "crossed_above(sma_50, sma_200)",
        "the 50-day average crossed above the 200-day average (the golden_cross event)",
    ),
    "death-cross": (
        "crossed_below(sma_50, sma_200)",
        "the 50-day average crossed below the 200-day average (the death_cross event)",
    ),
    "new-highs": (
        "high > prev(high_52w)",
        "traded above the highest high of the previous 52 weeks (the new_52w_high event)",
    ),
    "new-lows": (
        "low < prev(low_52w)",
        "traded below the lowest low of the previous 52 weeks (the new_52w_low event)",
    ),
    "oversold": ("rsi_14 <= 30", "14-day RSI at or below 30"),
    "overbought": ("rsi_14 >= 70", "14-day RSI at or above 70"),
    "gap-up": (
        f"open > prev(high) and pct(open, prev(close)) >= {_GAP:g}%",
        f"opened above the previous high and at least {_GAP:g}% above the previous close"
        " (the gap_up event)",
    ),
    "gap-down": (
        f"open < prev(low) and pct(open, prev(close)) <= -{_GAP:g}%",
        f"opened below the previous low and at least {_GAP:g}% below the previous close"
        " (the gap_down event)",
    ),
    "above-200": ("close > sma_200", "closed above the 200-day average"),
    "adx-trend": (
        "crossed_above(adx_14, 25) and plus_di_14 > minus_di_14",
        "the 14-day ADX rose above 25, after being at or below it the session before, with +DI"
        " above -DI: the start of an uptrend (the adx_trend_start event, upward)",
    ),
    "stoch-oversold-cross": (
        "crossed_above(stoch_k_14, stoch_d_14) and stoch_k_14 < 20 and stoch_d_14 < 20",
        "the slow stochastic %K (14, 3, 3) crossed above its %D with both below 20, in the"
        " oversold zone (the stoch_oversold_cross event)",
    ),
    "sar-flip-up": (
        "crossed_below(sar, close)",
        "the parabolic SAR (0.02, 0.2) moved below the close, after being at or above it the"
        " session before: a flip to an uptrend (the sar_flip_up event)",
    ),
    "donchian-breakout": (
        "close > prev(donchian_high_20)",
        "closed above the highest high of the 20 sessions before (the upper Donchian channel;"
        " the donchian_breakout_up event)",
    ),
}
"""Named screens: name -> (expression, description)."""


def preset(
    name: str,
    columns: Collection[str] = DEFAULT_COLUMNS,
    event_kinds: Collection[str] = DEFAULT_EVENT_KINDS,
) -> Screen:
    """The compiled screen of a preset.

    Parameters
    ----------
    name
        A key of :data:`PRESETS`.
    columns, event_kinds
        As for :func:`parse`.

    Returns
    -------
    Screen

    Raises
    ------
    ScreenError
        For an unknown name (with the nearest one), or a frame without the columns it reads.
    """
    if name not in PRESETS:
        raise ScreenError(
            f"unknown preset {name!r}", hint=_suggest(name, PRESETS, "presets"), field="preset"
        )
    return parse(PRESETS[name][0], columns, event_kinds)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _check_columns(screen: Screen, frame: pl.DataFrame, extra: Mapping[str, Sequence[str]]) -> None:
    missing = [c for c in ("ticker", "date", "close") if c not in frame.columns]
    if missing:
        raise ScreenError(
            f"the frame lacks column(s) {', '.join(missing)}",
            hint="; screen the frame of compute()",
            field="frame",
        )
    for name in screen.columns:
        if name not in frame.columns:
            raise ScreenError(
                f"column {name!r} used by the screen is not in the frame",
                hint=_suggest(name, frame.columns, "columns"),
            )
        dtype = frame.schema[name]
        if not (dtype.is_numeric() or dtype == pl.Boolean):
            raise ScreenError(f"column {name!r} holds {dtype}, not numbers")
    for option, names in extra.items():
        for name in names:
            if name not in frame.columns:
                raise ScreenError(
                    f"unknown column {name!r}",
                    hint=_suggest(name, frame.columns, "columns"),
                    field=option,
                )


def _is_sorted(frame: pl.DataFrame) -> bool:
    """Sorted by ticker, then strictly by date within a ticker."""
    if frame.height < 2:
        return True
    ticker, date = pl.col("ticker"), pl.col("date")
    after = (ticker > ticker.shift(1)) | ((ticker == ticker.shift(1)) & (date > date.shift(1)))
    return bool(frame.select(after.slice(1).all()).item())


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    if _is_sorted(frame):
        return frame
    ordered = frame.sort("ticker", "date")
    if not _is_sorted(ordered):
        twice = ordered.filter(pl.struct("ticker", "date").is_duplicated()).row(0, named=True)
        raise ScreenError(
            f"the frame has more than one row for {twice['ticker']} on {twice['date']}",
            hint="; screen one row per ticker and session",
            field="frame",
        )
    return ordered


def _with_events(
    rows: pl.LazyFrame,
    events: pl.DataFrame | None,
    kinds: Sequence[str],
    schema: Mapping[str, pl.DataType],
    dates: tuple[dt.date, dt.date] | None = None,
) -> pl.LazyFrame:
    """``rows`` with one boolean ``__event__<kind>`` column per kind, order kept."""
    if not kinds:
        return rows
    if events is None:
        raise ScreenError(
            f"the screen tests events ({', '.join(kinds)}) but no events frame was given",
            hint="; pass the events of compute()",
            field="events",
        )
    lacking = [c for c in ("ticker", "date", "kind") if c not in events.columns]
    if lacking:
        raise ScreenError(
            f"the events frame lacks column(s) {', '.join(lacking)}",
            hint="; pass the events of compute()",
            field="events",
        )
    names = [_event_column(k) for k in kinds]
    chosen = pl.col("kind").is_in(list(kinds))
    if dates is not None:
        chosen = chosen & pl.col("date").is_between(*dates)
    fired = (
        events.lazy()
        .filter(chosen)
        .select(
            pl.col("ticker").cast(schema["ticker"]),
            pl.col("date").cast(schema["date"]),
            *((pl.col("kind") == k).alias(n) for k, n in zip(kinds, names, strict=True)),
        )
        .group_by("ticker", "date")
        .agg(pl.col(names).any())
    )
    return rows.join(fired, on=["ticker", "date"], how="left", maintain_order="left").with_columns(
        pl.col(names).fill_null(False)
    )


def _session(frame: pl.DataFrame, as_of: dt.date | None) -> dt.date | None:
    dates = pl.col("date") if as_of is None else pl.col("date").filter(pl.col("date") <= as_of)
    latest: dt.date | None = frame.select(dates.max()).item()
    return latest


def run(
    screen: Screen | str,
    frame: pl.DataFrame,
    events: pl.DataFrame | None = None,
    *,
    as_of: dt.date | None = None,
    sort: str | None = None,
    descending: bool = True,
    columns: Sequence[str] = (),
) -> pl.DataFrame:
    """The tickers a screen matches on one session.

    Parameters
    ----------
    screen
        A :class:`Screen`, or an expression to parse against the frame's columns.
    frame
        Bars and indicators of a universe, one row per ticker and session (the ``frame`` of
        :func:`stockbrief.compute.compute`); sorted by ticker and date, or sorted here.
    events
        ``ticker, date, kind`` (the ``events`` of ``compute``); needed when the screen calls
        ``event(kind)``.
    as_of
        The session screened is the latest date in the frame on or before it (default: the
        latest date in the frame). Tickers without a bar on that date are not screened.
    sort
        A column of the frame to order the result by (nulls last); default: by ticker.
    descending
        Order of ``sort``.
    columns
        Further columns of the frame to return.

    Returns
    -------
    polars.DataFrame
        The matching rows of the session: ``ticker, date, close``, then the columns the screen
        reads, then ``columns``, then ``sort``. Empty (with those columns) when nothing matches
        or no session is on or before ``as_of``.

    Raises
    ------
    ScreenError
        A column the screen reads, ``sort`` or one of ``columns`` is not in the frame (the nearest
        name is suggested); ``event()`` without ``events``; duplicate rows.

    Notes
    -----
    One vectorised pass: only the session's rows and the :attr:`Screen.lookback` rows before
    each of them are evaluated, so screening a whole universe costs about as much as its
    ticker count. No row dated after the session is read.
    """
    if isinstance(screen, str):
        screen = parse(screen, frame.columns)
    by = [] if sort is None else [sort]
    _check_columns(screen, frame, {"columns": columns, "sort": by})
    wanted = _unique(["ticker", "date", "close", *screen.columns, *columns, *by])
    narrow = frame.select(wanted)
    session = _session(narrow, as_of)
    if session is None:
        return narrow.clear()
    lookback = screen.lookback
    if lookback == 0:
        rows = narrow.filter(pl.col("date") == session)
    elif lookback is None:
        rows = _sorted(narrow).filter(pl.col("date") <= session)
    else:
        ordered = _sorted(narrow)
        at = ordered.select(pl.arg_where(pl.col("date") == session)).to_series().to_numpy()
        # Each session row and the rows before it, once each and in frame order, so every row
        # screened sits after its own history; rows of another ticker that come along are
        # masked by the same-ticker test of prev().
        window = np.unique(at[:, None] + np.arange(-lookback, 1, dtype=np.int64)[None, :])
        rows = ordered[window[window >= 0]]
    first = rows.select(pl.col("date").min()).item()
    lazy = _with_events(rows.lazy(), events, screen.event_kinds, frame.schema, (first, session))
    matched = (
        lazy.with_columns(screen.where.alias("__match"))
        .filter(pl.col("__match") & (pl.col("date") == session))
        .select(wanted)
        .collect()
    )
    if sort is None:
        return matched.sort("ticker")
    order = _unique([sort, "ticker"])
    return matched.sort(order, descending=[descending, False][: len(order)], nulls_last=True)


def mask(
    screen: Screen | str, frame: pl.DataFrame, events: pl.DataFrame | None = None
) -> pl.Series:
    """Whether each row of a frame matches a screen.

    Parameters
    ----------
    screen
        A :class:`Screen`, or an expression to parse against the frame's columns.
    frame
        One row per ticker and session, in any order.
    events
        ``ticker, date, kind``; needed when the screen calls ``event(kind)``.

    Returns
    -------
    polars.Series
        Boolean ``match``, aligned with the rows of ``frame``, never null.

    Raises
    ------
    ScreenError
        As :func:`run`.
    """
    if isinstance(screen, str):
        screen = parse(screen, frame.columns)
    _check_columns(screen, frame, {})
    narrow = frame.select(_unique(["ticker", "date", *screen.columns])).with_row_index("__row")
    ordered = _sorted(narrow)
    lazy = _with_events(ordered.lazy(), events, screen.event_kinds, frame.schema)
    result = lazy.select("__row", screen.where.alias("match")).collect()
    if ordered is not narrow:
        result = result.sort("__row")
    return result.get_column("match")
