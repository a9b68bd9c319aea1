"""Value word equations: a safe parser, evaluator, unit checker and Excel translator.

A *value word equation* (DOMAIN.md §4) says in words and simple operators how to turn a
difference in performance into money per period::

    Savings from fewer unplanned stops per year =
        (Unplanned stops per year with the alternative - Unplanned stops per year with ours)
        x Hours lost per stop x Contribution margin lost per hour

This module reads such text with a hand-written, single-pass recursive-descent parser (user
text never reaches ``eval``, ``exec`` or ``compile``), evaluates it with numpy for one customer
or for many at once, checks its units with Pint, and translates it into a native Excel formula
that computes the same number in Excel, LibreOffice and the formulas package.

The language
------------
Quantities
    Named in words and matched against the list of known names, ignoring case and treating
    any run of whitespace as one space. Without brackets, the *longest* known name that starts
    at a position wins (with ``Hours`` and ``Hours lost per stop`` known, the text
    ``Hours lost per stop`` is the second), and a match must end at a word boundary (``Hour``
    does not match the start of ``Hours``). Known names take priority over numbers, signs and
    parentheses, so a known name may contain digits, ``'``, ``&``, ``.``, ``%``, ``-`` or
    parentheses. Write ``[name]`` to be explicit. A name needs at least one letter or digit;
    a name containing ``=`` must be written in brackets, and one containing ``]`` cannot be.
    Text where a quantity belongs that matches no known name is reported as an unknown
    quantity, up to the next operator, parenthesis, bracket, ``,``, ``;``, ``=`` or
    standalone ``x``.
Numbers
    ``1200``, ``0.5``, ``.5``, ``1.5e3``; a percentage ``15%`` (``%`` right after the number)
    is 0.15. There are no thousands separators: ``,`` separates function arguments.
Operators
    ``+ - * / ^`` and the typeset forms ``×``, ``·``, ``⋅`` (times), ``÷`` (divide), ``−``
    (U+2212) and ``–`` (en dash) (minus). Where an operator is expected, a lone ``x`` or ``X``
    with a space before it and a space, ``(`` or ``[`` after it means "times"; inside a
    known name it is just a letter (the longest-name rule runs first).
Functions
    ``MIN(a, b, ...)`` and ``MAX(a, b, ...)`` (per customer: elementwise over arrays),
    ``ABS(x)`` and ``ROUND(x, digits)``, in any case, with ``,`` or ``;`` between arguments
    and ``(`` right after the name. ROUND is Excel's: half away from zero, ``digits``
    truncated to a whole number, after taking the number to 15 significant digits as Excel
    and LibreOffice do (``ROUND(2.675, 2)`` is 2.68, not the 2.67 of binary rounding).
Result name
    Text before the first ``=`` outside brackets names the result; ``= ...`` alone is fine.

Precedence is Excel's, highest first: parentheses and functions; unary ``-`` and ``+``;
``%``; ``^``; ``*`` and ``/``; ``+`` and ``-``. Every binary operator is left-associative.
So ``-2^2`` is ``(-2)^2`` = 4, ``2^3^2`` is ``(2^3)^2`` = 64, ``2^-2^2`` is ``(2^-2)^2`` =
0.0625 and ``10-2-3`` is 5. :func:`to_formula` adds parentheses wherever a reader or another
program might group differently (``(-B3)^2``, ``2^(-B3)``, ``(B3^2)^3``, ``B3*(-B4)``).

Limits: 2,000 characters and 50 levels of nesting (parentheses and function calls); the
parser reads the text once, left to right, without backtracking.

Numbers and errors
------------------
Arithmetic is IEEE double, like Excel's. Where Excel shows an error, evaluation raises:
:class:`~cvp_xl.errors.CvpDivZeroError` for a division by zero or 0 raised to a negative
power (over arrays: when *any* customer divides by zero; the message names the first such
item); :class:`~cvp_xl.errors.CvpNumError` for a result beyond ±1.8E308, for 0^0 and for a
negative number raised to a fractional power (Excel gives #NUM! for these; LibreOffice gives 1
for 0^0 and real odd roots). Inputs must be finite numbers: ``None`` and NaN are blank; text
and booleans are rejected, never coerced.

Examples
--------
>>> names = ["Stops with the alternative", "Stops with ours", "Hours lost per stop",
...          "Margin per hour"]
>>> eq = parse("Savings = (Stops with the alternative - Stops with ours)"
...            " x Hours lost per stop x Margin per hour", names)
>>> eq.result_name, eq.evaluate([12, 4, 6, 1500])
('Savings', 72000.0)
>>> eq.to_formula(dict(zip(names, ["B3", "B4", "B5", "B6"])))
'=(B3-B4)*B5*B6'
>>> eq.unit(["stops/year", "stops/year", "hours/stop", "USD/hour"])
'USD/year'
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import operator
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np

from cvp_xl.errors import (
    CvpDivZeroError,
    CvpError,
    CvpNameError,
    CvpNumError,
    CvpRefError,
    CvpValueError,
)

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "WordEquation",
    "currency_and_period",
    "evaluate",
    "is_money_per_period",
    "parse",
    "to_formula",
    "unit",
]

#: Longest equation accepted, in characters.
MAX_LENGTH = 2000
#: Deepest nesting of parentheses and function calls accepted.
MAX_DEPTH = 50
#: The functions a word equation may call.
FUNCTIONS = ("ABS", "MAX", "MIN", "ROUND")
_MAX_ARGS = 255
_EXCEL_FORMULA_LIMIT = 8192

_SIGNS = {"+": "+", "-": "-", "\u2212": "-", "\u2013": "-"}
_TIMES = {"*": "*", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "/": "/", "\u00f7": "/"}
_STOP_CHARS = frozenset("^()[],;=") | frozenset(_SIGNS) | frozenset(_TIMES)
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FUNCTION_CALL = re.compile(r"([A-Za-z][A-Za-z0-9_.]*)\(")

Number = float | np.ndarray


# --------------------------------------------------------------------------------------------
# Syntax tree
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Num:
    value: float
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Ref:
    index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Neg:
    operand: Any
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Chain:
    """A left-associative run of one precedence level: ``first op1 x1 op2 x2 ...``."""

    kind: str  # "add", "mul" or "pow"
    first: Any
    rest: tuple  # ((op, node), ...) with op in "+-*/^"
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Call:
    func: str
    args: tuple
    start: int
    end: int


_CHAIN_PRECEDENCE = {"add": 1, "mul": 2, "pow": 3}


def _precedence(node) -> int:
    if isinstance(node, _Chain):
        return _CHAIN_PRECEDENCE[node.kind]
    if isinstance(node, _Neg):
        return 4
    return 5


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def _display(node, text: str, names: Sequence[str]) -> str:
    """How a message names a node: a quantity by its name, anything else by its text."""
    if isinstance(node, _Ref):
        return names[node.index]
    return _collapse(text[node.start : node.end])


def _short_repr(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# --------------------------------------------------------------------------------------------
# Known names
# --------------------------------------------------------------------------------------------


class _NameIndex:
    """A trie over the normalised names, for longest-match lookups."""

    __slots__ = ("lookup", "trie")

    def __init__(self, norm_names: tuple[str, ...]):
        self.lookup = {key: i for i, key in enumerate(norm_names)}
        root: dict = {}
        for i, key in enumerate(norm_names):
            node = root
            for ch in key:
                node = node.setdefault(ch, {})
            node[None] = i
        self.trie = root


@functools.lru_cache(maxsize=256)
def _name_index(norm_names: tuple[str, ...]) -> _NameIndex:
    return _NameIndex(norm_names)


def _check_names(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the names as given and normalised, or raise on a blank, odd or repeated name."""
    if isinstance(names, (str, bytes)):
        raise CvpValueError(f"names must be a list of quantity names, got {_short_repr(names)}")
    try:
        spelled = tuple(names)
    except TypeError:
        raise CvpValueError(
            f"names must be a list of quantity names, got {_short_repr(names)}"
        ) from None
    norm = []
    seen: dict[str, int] = {}
    for i, name in enumerate(spelled, 1):
        if not isinstance(name, str):
            raise CvpValueError(f"names item {i}: expected text, got {_short_repr(name)}")
        key = _normalise(name)
        if not key:
            raise CvpValueError(f"names item {i} is blank")
        if not any(ch.isalnum() for ch in key):
            raise CvpValueError(f"names item {i} ('{name}') needs at least one letter or digit")
        if key in seen:
            raise CvpValueError(
                f"names items {seen[key]} and {i} are the same name '{_collapse(name)}' "
                "(case and spaces are ignored)"
            )
        seen[key] = i
        norm.append(key)
    return spelled, tuple(norm)


class _UnknownQuantityError(Exception):
    """Raised inside the cached parser; turned into CvpNameError with the caller's spelling."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _unknown_quantity_error(text: str, spelled, norm) -> CvpNameError:
    message = f"unknown quantity '{text}'"
    close = difflib.get_close_matches(_normalise(text), norm, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{spelled[norm.index(close[0])]}'?"
    return CvpNameError(message)


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


def _find_equals(text: str) -> int:
    """Index of the first ``=`` outside ``[...]``, or -1."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "[":
            close = text.find("]", i + 1)
            if close < 0:
                return -1
            i = close + 1
            continue
        if ch == "=":
            return i
        i += 1
    return -1


class _Parser:
    """Recursive descent over the original text; positions in messages are 1-based."""

    def __init__(self, text: str, names: _NameIndex):
        self.text = text
        self.n = len(text)
        self.names = names
        self.pos = 0
        self.prev: tuple[str, int] | None = None  # the token that wants a value after it
        self.used: list[int] = []
        # The text lower-cased (casefold) with whitespace runs as one space, and the way back.
        norm: list[str] = []
        starts: list[int] = []
        first: list[bool] = []
        to_norm = [-1] * (self.n + 1)
        i = 0
        while i < self.n:
            ch = text[i]
            if ch.isspace():
                to_norm[i] = len(norm)
                norm.append(" ")
                starts.append(i)
                first.append(True)
                while i < self.n and text[i].isspace():
                    i += 1
                continue
            to_norm[i] = len(norm)
            for k, folded in enumerate(ch.casefold()):
                norm.append(folded)
                starts.append(i)
                first.append(k == 0)
            i += 1
        self.norm = "".join(norm)
        self.starts = starts
        self.first = first
        self.to_norm = to_norm

    # -- helpers -------------------------------------------------------------------------

    def _skip_ws(self) -> None:
        text, n, pos = self.text, self.n, self.pos
        while pos < n and text[pos].isspace():
            pos += 1
        self.pos = pos

    def _standalone_x(self, p: int) -> bool:
        text = self.text
        if text[p] not in "xX":
            return False
        before = p > 0 and (text[p - 1].isspace() or text[p - 1] in ")]")
        after = p + 1 == self.n or text[p + 1].isspace() or text[p + 1] in "(["
        return before and after

    def _match_name(self, p: int) -> tuple[int, int] | None:
        """The longest known name starting at ``p``: (end position, name index) or None."""
        k = self.to_norm[p]
        if k < 0:
            return None
        norm, first = self.norm, self.first
        size = len(norm)
        node = self.names.trie
        best = None
        j = k
        while j < size:
            node = node.get(norm[j])
            if node is None:
                break
            j += 1
            index = node.get(None)
            if index is not None and (
                j == size
                or (first[j] and not (_is_word_char(norm[j - 1]) and _is_word_char(norm[j])))
            ):
                best = (j, index)
        if best is None:
            return None
        j, index = best
        return (self.starts[j] if j < size else self.n), index

    def _run_end(self, p: int) -> int:
        """End of the words starting at ``p``, up to an operator or a standalone x."""
        text, j = self.text, p
        while j < self.n:
            ch = text[j]
            if ch in _STOP_CHARS or (j > p and self._standalone_x(j)):
                break
            j += 1
        return j

    def _use(self, index: int) -> None:
        if index not in self.used:
            self.used.append(index)

    def _describe_at(self, p: int) -> str:
        text = self.text
        ch = text[p]
        if ch == "(":
            return "("
        if ch == "[":
            close = text.find("]", p + 1)
            return text[p : close + 1] if close >= 0 else "["
        match = self._match_name(p)
        if match is not None:
            return _collapse(text[p : match[0]])
        number = _NUMBER.match(text, p)
        if number is not None:
            end = number.end()
            return text[p : end + 1] if text[end : end + 1] == "%" else number.group()
        described = _collapse(text[p : max(self._run_end(p), p + 1)])
        return described if len(described) <= 60 else described[:57] + "..."

    def _peek_op(self) -> tuple[str, str, str, int, int]:
        """The token at an operator position: (kind, op, glyph, start, end), not consumed."""
        self._skip_ws()
        p = self.pos
        if p >= self.n:
            return ("end", "", "", p, p)
        ch = self.text[p]
        if ch in _SIGNS:
            return ("add", _SIGNS[ch], ch, p, p + 1)
        if ch in _TIMES:
            return ("mul", _TIMES[ch], ch, p, p + 1)
        if ch == "^":
            return ("pow", "^", ch, p, p + 1)
        if ch == ")":
            return ("close", ")", ch, p, p + 1)
        if ch in ",;":
            return ("sep", ",", ch, p, p + 1)
        if ch == "=":
            return ("eq", "=", ch, p, p + 1)
        if ch == "%":
            return ("pct", "%", ch, p, p + 1)
        if ch == "]":
            return ("rbracket", "]", ch, p, p + 1)
        if self._standalone_x(p):
            return ("mul", "*", ch, p, p + 1)
        return ("operand", "", ch, p, p)

    def _operator_error(self, tok) -> None:
        kind, _, glyph, p, _ = tok
        at = p + 1
        if kind == "close":
            raise CvpValueError(f"unbalanced parenthesis at position {at}: ')' has no matching '('")
        if kind == "sep":
            text = self.text
            if glyph == "," and p > 0 and text[p - 1].isdigit() and text[p + 1 : p + 2].isdigit():
                raise CvpValueError(
                    f"unexpected ',' at position {at}; write numbers without thousands "
                    "separators (1200, not 1,200)"
                )
            raise CvpValueError(
                f"unexpected '{glyph}' at position {at}; ',' and ';' separate the arguments "
                "of a function"
            )
        if kind == "eq":
            raise CvpValueError(
                f"unexpected '=' at position {at}; '=' may appear once, after the result's name"
            )
        if kind == "pct":
            raise CvpValueError(f"'%' at position {at} must come right after a number, as in 15%")
        if kind == "rbracket":
            raise CvpValueError(f"unbalanced bracket at position {at}: ']' has no matching '['")
        raise CvpValueError(f"missing an operator before '{self._describe_at(p)}' at position {at}")

    def _missing_value(self) -> None:
        if self.prev is None:  # pragma: no cover - parse() rejects an empty equation first
            raise CvpValueError("equation is empty")
        glyph, p = self.prev
        raise CvpValueError(f"missing a value after '{glyph}' at position {p + 1}")

    @staticmethod
    def _chain(kind: str, first, rest: list):
        if not rest:
            return first
        return _Chain(kind, first, tuple(rest), first.start, rest[-1][1].end)

    # -- grammar -------------------------------------------------------------------------

    def parse(self) -> tuple[str | None, Any]:
        text = self.text
        equals = _find_equals(text)
        result_name = None
        if equals >= 0:
            left = text[:equals].rstrip()
            if left.endswith(("<", ">", "!")):
                raise CvpValueError(
                    f"comparison '{left[-1]}=' at position {len(left)} is not supported; "
                    "a word equation computes a number"
                )
            left = left.strip()
            if left.startswith("[") and left.endswith("]") and "]" not in left[1:-1]:
                left = left[1:-1]
            result_name = _collapse(left) or None
            self.pos = equals + 1
        self._skip_ws()
        if self.pos >= self.n:
            if equals >= 0:
                raise CvpValueError(f"nothing to compute after '=' at position {equals + 1}")
            raise CvpValueError("equation is empty")
        node = self._sum(0)
        tok = self._peek_op()
        if tok[0] != "end":
            self._operator_error(tok)
        return result_name, node

    def _level(self, kind: str, operand, depth: int):
        """One precedence level: operands joined by this level's operators, left to right."""
        first = operand(depth)
        rest = []
        while True:
            found, op, glyph, start, end = self._peek_op()
            if found != kind:
                return self._chain(kind, first, rest)
            self.pos, self.prev = end, (glyph, start)
            rest.append((op, operand(depth)))

    def _sum(self, depth: int):
        return self._level("add", self._product, depth)

    def _product(self, depth: int):
        return self._level("mul", self._power, depth)

    def _power(self, depth: int):
        return self._level("pow", self._unary, depth)

    def _unary(self, depth: int):
        text = self.text
        negative = False
        sign_start = None
        while True:
            self._skip_ws()
            p = self.pos
            if p < self.n and text[p] in _SIGNS and self._match_name(p) is None:
                if sign_start is None:
                    sign_start = p
                negative ^= _SIGNS[text[p]] == "-"
                self.pos, self.prev = p + 1, (text[p], p)
                continue
            break
        node = self._primary(depth)
        if negative:
            node = _Neg(node, sign_start, node.end)
        return node

    def _primary(self, depth: int):
        self._skip_ws()
        text, p = self.text, self.pos
        if p >= self.n:
            self._missing_value()
        ch = text[p]
        if ch == "[":
            return self._bracketed(p)
        call = _FUNCTION_CALL.match(text, p)
        match = self._match_name(p)
        if call is not None and (match is None or match[0] <= call.end(1)):
            return self._call(call.group(1), p, call.end() - 1, depth)
        if match is not None:
            end, index = match
            self.pos = end
            self._use(index)
            return _Ref(index, p, end)
        if ch == "(":
            return self._group(p, depth)
        number = _NUMBER.match(text, p)
        if number is not None:
            return self._number(number)
        if ch in "),;" or self._standalone_x(p):
            if self.prev is None:
                if ch == ")":
                    raise CvpValueError(
                        f"unbalanced parenthesis at position {p + 1}: ')' has no matching '('"
                    )
            elif ch != "x" and ch != "X":
                self._missing_value()
            raise CvpValueError(
                f"unexpected '{ch}' at position {p + 1}; expected a quantity, a number or '('"
            )
        if ch == "]":
            raise CvpValueError(f"unbalanced bracket at position {p + 1}: ']' has no matching '['")
        if ch == "=":
            raise CvpValueError(
                f"unexpected '=' at position {p + 1}; '=' may appear once, after the result's name"
            )
        if ch in _TIMES or ch in "^%":
            raise CvpValueError(
                f"unexpected '{ch}' at position {p + 1}; expected a quantity, a number or '('"
            )
        raise _UnknownQuantityError(_collapse(text[p : self._run_end(p)]))

    def _bracketed(self, p: int):
        text = self.text
        close = text.find("]", p + 1)
        if close < 0:
            raise CvpValueError(f"unbalanced bracket at position {p + 1}: '[' is never closed")
        inner = text[p + 1 : close]
        key = _normalise(inner)
        if not key:
            raise CvpValueError(
                f"empty brackets at position {p + 1}; put a quantity's name between '[' and ']'"
            )
        index = self.names.lookup.get(key)
        if index is None:
            raise _UnknownQuantityError(_collapse(inner))
        self.pos = close + 1
        self._use(index)
        return _Ref(index, p, close + 1)

    def _number(self, number: re.Match):
        text, p = self.text, number.start()
        digits = number.group()
        end = number.end()
        percent = text[end : end + 1] == "%"
        if percent:
            end += 1
        if end < self.n and _is_word_char(text[end]):
            # "2nd shift hours", "15x": a name that starts with digits, not a number
            raise _UnknownQuantityError(_collapse(text[p : self._run_end(p)]))
        try:
            value = float(Decimal(digits) / 100) if percent else float(digits)
        except ArithmeticError:  # decimal.Overflow
            value = math.inf
        if not math.isfinite(value):
            raise CvpNumError(f"number '{text[p:end]}' at position {p + 1} is too large")
        self.pos = end
        return _Num(value, p, end)

    def _group(self, p: int, depth: int):
        if depth >= MAX_DEPTH:
            raise CvpValueError(
                f"equation is nested more than {MAX_DEPTH} levels deep at position {p + 1}"
            )
        self.pos, self.prev = p + 1, ("(", p)
        node = self._sum(depth + 1)
        tok = self._peek_op()
        if tok[0] == "close":
            self.pos = tok[4]
            return replace(node, start=p, end=tok[4])
        if tok[0] == "end":
            raise CvpValueError(f"unbalanced parenthesis at position {p + 1}: '(' is never closed")
        self._operator_error(tok)

    def _call(self, name: str, p: int, paren: int, depth: int):
        func = name.upper()
        if func not in FUNCTIONS:
            raise CvpNameError(
                f"unknown function '{name}' at position {p + 1}; "
                "the functions are ABS, MAX, MIN and ROUND"
            )
        if depth >= MAX_DEPTH:
            raise CvpValueError(
                f"equation is nested more than {MAX_DEPTH} levels deep at position {p + 1}"
            )
        self.pos, self.prev = paren + 1, ("(", paren)
        args = []
        tok = self._peek_op()
        if tok[0] == "close":
            self.pos = tok[4]
        else:
            while True:
                args.append(self._sum(depth + 1))
                tok = self._peek_op()
                kind, _, glyph, start, end = tok
                if kind == "sep":
                    self.pos, self.prev = end, (glyph, start)
                    continue
                if kind == "close":
                    self.pos = end
                    break
                if kind == "end":
                    raise CvpValueError(
                        f"unbalanced parenthesis at position {paren + 1}: '(' is never closed"
                    )
                self._operator_error(tok)
        count = len(args)
        where = f"{func} at position {p + 1}"
        if func == "ABS" and count != 1:
            raise CvpValueError(f"{where} needs 1 argument, got {count}")
        if func == "ROUND" and count != 2:
            raise CvpValueError(f"{where} needs 2 arguments (number, digits), got {count}")
        if count == 0:
            raise CvpValueError(f"{where} needs at least 1 argument")
        if count > _MAX_ARGS:
            raise CvpValueError(f"{where} takes at most {_MAX_ARGS} arguments, got {count}")
        return _Call(func, tuple(args), p, self.pos)


# --------------------------------------------------------------------------------------------
# Evaluation: a tree of closures over numpy, built once per parse
# --------------------------------------------------------------------------------------------


def _where_index(index: tuple) -> str:
    if len(index) == 1:
        return f" at item {index[0] + 1}"
    return f" at row {index[0] + 1}, column {index[1] + 1}"


def _where(mask) -> str:
    mask = np.asarray(mask)
    if mask.ndim == 0:
        return ""
    return _where_index(np.unravel_index(int(np.argmax(mask)), mask.shape))


def _excel_round(x, digits):
    """Excel's ROUND: half away from zero at 15 significant digits; digits truncated."""
    with np.errstate(all="ignore"):
        d = np.clip(np.trunc(digits), -308.0, 308.0)
        ax = np.abs(x)
        scale = np.power(10.0, np.abs(d))
        up = d >= 0
        y = np.where(up, ax * scale, ax / scale)
        exponent = np.floor(np.log10(np.where(y > 0, y, 1.0)))
        s = np.power(10.0, 14.0 - exponent)
        y = np.where((y > 1e-280) & (y < 1e15), np.rint(y * s) / s, y)
        r = np.floor(y + 0.5)
        rounded = np.copysign(np.where(up, r / scale, r * scale), x)
        out = np.where(np.isfinite(y) & (y < 2.0**52), rounded, x) + 0.0
    return out if out.ndim else np.float64(out)


def _fresh(node) -> bool:
    """Whether the node's array result is a new array no one else holds (safe to overwrite)."""
    if isinstance(node, (_Chain, _Neg)):
        return True
    if isinstance(node, _Call):
        return node.func in ("ABS", "ROUND") or len(node.args) > 1
    return False


def _propagates(node) -> bool:
    """Whether a NaN or infinite input always shows in the result or raises.

    True for ``+ - *``, signs and ABS. Division (x/inf is 0), powers (1^NaN is 1), MIN, MAX
    and ROUND can hide a bad input, so equations using them check every input up front.
    """
    if isinstance(node, (_Num, _Ref)):
        return True
    if isinstance(node, _Neg):
        return _propagates(node.operand)
    if isinstance(node, _Call):
        return node.func == "ABS" and _propagates(node.args[0])
    if node.kind == "pow" or any(op == "/" for op, _ in node.rest):
        return False
    return _propagates(node.first) and all(_propagates(sub) for _, sub in node.rest)


def _compile(node, text: str) -> Callable[[list], Any]:
    """Closures computing ``node`` from ``env`` (values by name index; names last).

    Arithmetic writes into arrays the closures themselves created (numpy's own trick for
    ``(a - b) * c``), so a chain of n operations allocates one array, not n.
    """
    if isinstance(node, _Num):
        value = np.float64(node.value)
        return lambda env: value
    if isinstance(node, _Ref):
        return operator.itemgetter(node.index)
    if isinstance(node, _Neg):
        inner = _compile(node.operand, text)
        if not _fresh(node.operand):
            return lambda env: -inner(env)

        def negate(env):
            value = inner(env)
            if type(value) is np.ndarray:
                return np.negative(value, out=value)
            return -value

        return negate
    if isinstance(node, _Call):
        return _compile_call(node, text)
    return _compile_chain(node, text)


def _compile_call(node: _Call, text: str):
    funcs = [_compile(arg, text) for arg in node.args]
    if node.func == "ABS":
        (arg,) = funcs
        return lambda env: np.abs(arg(env))
    if node.func == "ROUND":
        number, digits = funcs
        return lambda env: _excel_round(number(env), digits(env))
    pick = np.minimum if node.func == "MIN" else np.maximum
    first, rest = funcs[0], funcs[1:]

    def extreme(env):
        acc = first(env)
        for func in rest:
            acc = pick(acc, func(env))
        return acc

    return extreme


def _prefix(node: _Chain, k: int, text: str, names) -> str:
    """How messages name the part of a chain before its step ``k``."""
    if k == 0:
        return _display(node.first, text, names)
    return _collapse(text[node.first.start : node.rest[k - 1][1].end])


def _too_large(node: _Chain, k: int, text: str) -> CvpNumError:
    span = _collapse(text[node.first.start : node.rest[k][1].end])
    return CvpNumError(f"number too large in '{span}'")


def _compile_chain(node: _Chain, text: str):
    first = _compile(node.first, text)
    first_fresh = _fresh(node.first)
    ufuncs = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
    steps = tuple((op, ufuncs.get(op), _compile(sub, text), sub) for op, sub in node.rest)

    if node.kind != "pow":

        def chain(env):
            acc = first(env)
            owned = first_fresh and type(acc) is np.ndarray
            for k, (op, func, operand, sub) in enumerate(steps):
                x = operand(env)
                try:
                    if owned:
                        func(acc, x, out=acc)
                    else:
                        acc = func(acc, x)
                        owned = type(acc) is np.ndarray
                except FloatingPointError:
                    if op == "/":
                        zero = x == 0
                        if np.any(zero):
                            divisor = _display(sub, text, env[-1])
                            raise CvpDivZeroError(
                                f"division by zero: '{divisor}' is 0{_where(zero)}"
                            ) from None
                    raise _too_large(node, k, text) from None
            return acc

        return chain

    def power(env):
        acc = first(env)
        for k, (_, _, operand, sub) in enumerate(steps):
            x = operand(env)
            both_zero = (acc == 0) & (x == 0)
            if np.any(both_zero):
                base, exp = _prefix(node, k, text, env[-1]), _display(sub, text, env[-1])
                raise CvpNumError(
                    f"0^0 is undefined: '{base}' and its exponent '{exp}' are both 0"
                    f"{_where(both_zero)}"
                )
            try:
                acc = acc**x
            except FloatingPointError:
                base, exp = _prefix(node, k, text, env[-1]), _display(sub, text, env[-1])
                bad = (acc == 0) & (x < 0)
                if np.any(bad):
                    raise CvpDivZeroError(
                        f"division by zero: '{base}' is 0 and its exponent '{exp}' is negative"
                        f"{_where(bad)}"
                    ) from None
                bad = (acc < 0) & (x != np.trunc(x))
                if np.any(bad):
                    raise CvpNumError(
                        f"'{base}' is negative and its exponent '{exp}' is not a whole number"
                        f"{_where(bad)}"
                    ) from None
                raise _too_large(node, k, text) from None
        return acc

    return power


def _check_scalar(value: Any, name: str, where: str = "") -> float:
    if value is None:
        raise CvpValueError(f"'{name}' is blank{where}; expected a number")
    if isinstance(value, (bool, np.bool_)):
        raise CvpValueError(f"'{name}'{where}: expected a number, got {bool(value)}")
    if isinstance(value, (numbers.Real, Decimal)):
        try:
            number = float(value)
        except (OverflowError, ValueError, TypeError):
            raise CvpValueError(
                f"'{name}'{where}: expected a finite number, got {_short_repr(value)}"
            ) from None
        if math.isnan(number):
            raise CvpValueError(f"'{name}' is blank{where}; expected a number")
        if math.isinf(number):
            raise CvpValueError(f"'{name}'{where}: expected a finite number, got {number}")
        return number
    raise CvpValueError(f"'{name}'{where}: expected a number, got {_short_repr(value)}")


def _check_finite(array: np.ndarray, name: str) -> None:
    """Raise for the first NaN (blank) or infinite item of a float64 array."""
    with np.errstate(all="ignore"):
        total = array.sum()
    if not np.isfinite(total):
        bad = ~np.isfinite(array)
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), array.shape)
            _check_scalar(float(array[index]), name, _where_index(index))


def _check_array(array: np.ndarray, name: str, finite: bool = True):
    """A float64 array; NaN and infinite items are looked for only when ``finite``."""
    if array.ndim == 0:
        return np.float64(_check_scalar(array.item(), name))
    if array.ndim > 2:
        raise CvpValueError(
            f"'{name}': expected a number or a 1-D or 2-D array, got a {array.ndim}-D array"
        )
    kind = array.dtype.kind
    if kind in "fiu":
        out = array if array.dtype == np.float64 else array.astype(np.float64)
        if finite and kind == "f":
            _check_finite(out, name)
        return out
    if kind == "O":
        out = np.empty(array.shape, dtype=np.float64)
        for index, value in np.ndenumerate(array):
            out[index] = _check_scalar(value, name, _where_index(index))
        return out
    if array.size == 0:
        return np.empty(array.shape, dtype=np.float64)
    index = np.unravel_index(0, array.shape)
    first = array[index]
    shown = bool(first) if kind == "b" else _short_repr(first)
    raise CvpValueError(f"'{name}'{_where_index(index)}: expected a number, got {shown}")


def _check_value(value: Any, name: str, finite: bool = True):
    """A finite float64 scalar or a float64 array of one or two dimensions."""
    if isinstance(value, np.ndarray):
        return _check_array(value, name, finite)
    if isinstance(value, (list, tuple)) or (
        hasattr(value, "__array__") and not isinstance(value, (numbers.Number, np.generic))
    ):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            raise CvpValueError(
                f"'{name}': expected a number or a 1-D or 2-D array of numbers"
            ) from None
        return _check_array(array, name, finite)
    return np.float64(_check_scalar(value, name))


def _shape_text(shape: tuple) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    if len(shape) == 1:
        return count(shape[0], "item")
    return f"{count(shape[0], 'row')} and {count(shape[1], 'column')}"


def _aligned(items: Any, what: str, names: tuple[str, ...]) -> Sequence:
    if isinstance(items, (str, bytes, Mapping)):
        raise CvpValueError(f"{what} must be a list aligned with names, got {_short_repr(items)}")
    try:
        size = len(items)
    except TypeError:
        raise CvpValueError(
            f"{what} must be a list aligned with names, got {_short_repr(items)}"
        ) from None
    if size != len(names):
        raise CvpValueError(f"names has {len(names)} items but {what} has {size}")
    return items


def _evaluate(core: _Core, names: tuple[str, ...], values: Sequence) -> Number:
    values = _aligned(values, "values", names)
    env: list = [None] * len(names)
    env.append(names)
    shape = shape_name = None
    # When NaN and infinity always reach the result (or raise), one look at the result
    # replaces a pass over every input array; the inputs are searched only on a bad result.
    lazy = core.propagates
    for i in core.used:
        value = _check_value(values[i], names[i], finite=not lazy)
        if isinstance(value, np.ndarray):
            if shape is None:
                shape, shape_name = value.shape, names[i]
            elif value.shape != shape:
                raise CvpValueError(
                    f"'{shape_name}' has {_shape_text(shape)} but '{names[i]}' has "
                    f"{_shape_text(value.shape)}; all arrays must have one shape"
                )
        env[i] = value
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            result = core.run(env)
    except CvpError:
        if lazy:
            _check_inputs(core, names, env)
        raise
    if isinstance(result, np.ndarray):
        if result.ndim == 0:
            return float(result)
        if lazy:
            with np.errstate(all="ignore"):
                total = result.sum()
            if not np.isfinite(total) and not np.isfinite(result).all():
                _check_inputs(core, names, env)
                raise CvpNumError("the result is not a finite number")  # pragma: no cover
        if any(result is env[i] for i in core.used):
            result = result.copy()
        return result
    return float(result) + 0.0  # Excel has no negative zero


def _check_inputs(core: _Core, names: tuple[str, ...], env: list) -> None:
    for i in core.used:
        if isinstance(env[i], np.ndarray):
            _check_finite(env[i], names[i])


# --------------------------------------------------------------------------------------------
# Translation to a native Excel formula
# --------------------------------------------------------------------------------------------

_SHEET = r"(?:'(?:[^'\[\]*?/\\:]|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!"
_CELL = r"\$?[A-Za-z]{1,3}\$?[1-9][0-9]{0,6}"
_DEFINED_NAME = r"[A-Za-z_\\][A-Za-z0-9_.\\]*"
_REFERENCE = re.compile(rf"(?:{_SHEET})?(?:{_CELL}|{_DEFINED_NAME})")
_NOT_NAMES = frozenset({"TRUE", "FALSE", "R", "C"})


def _check_reference(ref: Any, name: str) -> str:
    if isinstance(ref, str) and _REFERENCE.fullmatch(ref):
        last = ref.rsplit("!", 1)[-1]
        if last.upper() not in _NOT_NAMES:
            return ref
    raise CvpValueError(
        f"the reference for '{name}' is not a cell or a defined name: {_short_repr(ref)}"
    )


def _format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}E{exponent}"
    return text


def _emit(node, refs: Mapping[int, str]) -> str:
    if isinstance(node, _Num):
        return _format_number(node.value)
    if isinstance(node, _Ref):
        return refs[node.index]
    if isinstance(node, _Neg):
        inner = _emit(node.operand, refs)
        return f"-({inner})" if _precedence(node.operand) < 5 else f"-{inner}"
    if isinstance(node, _Call):
        return f"{node.func}({','.join(_emit(arg, refs) for arg in node.args)})"
    level = _CHAIN_PRECEDENCE[node.kind]
    first = _emit(node.first, refs)
    first_prec = _precedence(node.first)
    if node.kind == "pow":
        # Excel and LibreOffice read a^b^c as (a^b)^c; many readers do not, so say it.
        text = f"({first})" if first_prec < 5 else first
        for k, (_, sub) in enumerate(node.rest):
            exponent = _emit(sub, refs)
            if _precedence(sub) < 5:
                exponent = f"({exponent})"
            text = f"{text}^{exponent}"
            if k < len(node.rest) - 1:
                text = f"({text})"
        return text
    if first_prec < level:
        first = f"({first})"
    parts = [first]
    for op, sub in node.rest:
        text = _emit(sub, refs)
        if _precedence(sub) <= level or isinstance(sub, _Neg):
            text = f"({text})"
        parts.append(op)
        parts.append(text)
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Units (Pint, with a registry of our own: time, a few physical units, currencies, and any
# other word defined on first use as a dimension of its own)
# --------------------------------------------------------------------------------------------

_UNIT_DEFINITIONS = (
    "second = [time] = _ = s = sec = secs",
    "minute = 60 * second = _ = min = mins",
    "hour = 60 * minute = _ = h = hr = hrs",
    "day = 24 * hour = _ = d",
    "week = 7 * day = _ = wk",
    "year = 365.25 * day = _ = yr = yrs = annum",
    "month = year / 12 = _ = mo",
    "quarter = 3 * month = _ = qtr",
    "joule = [energy] = J",
    "kJ = 1e3 * joule",
    "MJ = 1e6 * joule",
    "GJ = 1e9 * joule",
    "Wh = 3600 * joule = _ = watt_hour",
    "kWh = 1e3 * Wh = _ = kilowatt_hour",
    "MWh = 1e6 * Wh = _ = megawatt_hour",
    "GWh = 1e9 * Wh = _ = gigawatt_hour",
    "BTU = 1055.05585262 * joule = _ = Btu",
    "MMBtu = 1e6 * BTU",
    "therm = 1e5 * BTU",
    "watt = [power] = W",
    "kW = 1e3 * watt = _ = kilowatt",
    "MW = 1e6 * watt = _ = megawatt",
    "gram = [mass] = g",
    "kg = 1e3 * gram = _ = kilogram",
    "tonne = 1e6 * gram = t = metric_ton",
    "lb = 453.59237 * gram = _ = lbs",
    "meter = [length] = m = metre",
    "km = 1e3 * meter = _ = kilometer = kilometre",
    "mile = 1609.344 * meter = mi",
    "foot = 0.3048 * meter = ft = feet",
    "m2 = meter ** 2 = _ = square_meter",
    "hectare = 1e4 * m2 = ha",
    "acre = 4046.8564224 * m2",
    "m3 = meter ** 3 = _ = cubic_meter",
    "liter = 1e-3 * m3 = L = l = litre",
    "gallon = 3.785411784 * liter = gal",
)

#: ISO 4217 currency codes recognised as currencies (each its own dimension).
_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL""".split()
)
_CURRENCY_SYMBOLS = {"US$": "USD", "$": "USD", "\u20ac": "EUR", "\u00a3": "GBP", "\u00a5": "JPY"}
_PURE_WORDS = frozenset({"", "1", "-", "%", "percent", "pct", "dimensionless", "number", "ratio"})
_UNIT_TOKEN = re.compile(
    r"\s*(?:(?P<cur>US\$|[$\u20ac\u00a3\u00a5])|(?P<word>(?!\d)(?:(?![\u00b2\u00b3\u00b9])\w)+)"
    r"|(?P<num>\d+(?:\.\d+)?)|(?P<sup>[\u00b2\u00b3])|(?P<op>[*/\u00b7\u00d7\u22c5^()%+\-]))"
)
_MAX_UNIT_LENGTH = 100
_UNIT_LOCK = threading.RLock()
_REGISTRY: Any = None


def _registry():
    global _REGISTRY
    with _UNIT_LOCK:
        if _REGISTRY is None:
            import pint

            registry = pint.UnitRegistry(None, on_redefinition="raise")
            for line in _UNIT_DEFINITIONS:
                registry.define(line)
            _REGISTRY = registry
        return _REGISTRY


class _UnitTextError(Exception):
    pass


def _singulars(word: str) -> list[str]:
    lower = word.lower()
    if len(word) <= 3 or not lower.endswith("s") or lower.endswith(("ss", "us", "is")):
        return []
    if lower.endswith("ies"):
        return [word[:-3] + "y"]
    if lower.endswith(("ches", "shes", "sses", "xes", "zes")):
        return [word[:-2]]
    return [word[:-1]]


def _unit_named(registry, name: str):
    from pint.util import UnitsContainer

    return registry.Unit(UnitsContainer({name: 1}))


def _atom_unit(registry, word: str):
    """The unit a single word names, defining a new dimension for a word never seen before."""
    if word.lower() in ("percent", "pct", "dimensionless"):
        return registry.dimensionless
    try:
        found = _find_or_define(registry, word)
        found.dimensionality  # noqa: B018 - make Pint resolve it now, inside the try
    except Exception as exc:  # Pint refuses a few words (its own reserved names, odd scripts)
        raise _UnitTextError(f"'{word}' cannot be used as a unit") from exc
    return found


def _find_or_define(registry, word: str):
    if word in _CURRENCIES:
        if not registry.parse_unit_name(word):
            registry.define(f"{word} = [currency_{word}]")
        return _unit_named(registry, word)
    caps = word.isupper() and len(word) > 1
    candidates = [word] if caps else [word, word.lower()]
    for candidate in candidates + [s for c in candidates for s in _singulars(c)]:
        for prefix, name, _ in registry.parse_unit_name(candidate):
            if name and not prefix:
                return _unit_named(registry, name)
    base = word if caps else word.lower()
    singular = (_singulars(base) or [base])[0]
    alias = f" = _ = {base}" if base != singular else ""
    registry.define(f"{singular} = [custom_{singular}]{alias}")
    return _unit_named(registry, singular)


class _UnitParser:
    """unit := term (('*'|'/'|'per') term)*;  term := power power* (a space multiplies and
    binds tighter, so ``USD/machine hour`` is USD per machine-hour);  power := primary
    ('^' [-] number | '²' | '³')?;  primary := word | '1' | '%' | '(' unit ')'."""

    def __init__(self, registry, text: str):
        self.registry = registry
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].isspace():
                break
            m = _UNIT_TOKEN.match(text, pos)
            if m is None:
                bad = text[pos:].lstrip()[:1]
                raise _UnitTextError(f"'{bad}' cannot be part of a unit")
            kind = m.lastgroup
            value = m.group(kind)
            if kind == "word" and value.lower() == "per":
                kind, value = "op", "/"
            self.tokens.append((kind, value))
            pos = m.end()
        self.i = 0

    def parse(self):
        result = self.unit(0)
        if self.i < len(self.tokens):
            raise _UnitTextError(f"unexpected '{self.tokens[self.i][1]}'")
        return result

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def unit(self, depth: int):
        result = self.term(depth)
        while True:
            kind, value = self.peek()
            if kind != "op" or value not in "*/\u00b7\u00d7\u22c5":
                return result
            self.i += 1
            other = self.term(depth)
            result = result / other if value == "/" else result * other

    def term(self, depth: int):
        result = self.power(depth)
        while self.peek()[0] in ("word", "cur", "num") or self.peek() in (("op", "("), ("op", "%")):
            result = result * self.power(depth)
        return result

    def power(self, depth: int):
        base = self.primary(depth)
        kind, value = self.peek()
        if kind == "sup":
            self.i += 1
            return base ** (2 if value == "\u00b2" else 3)
        if (kind, value) != ("op", "^"):
            return base
        self.i += 1
        sign = 1
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = -1 if self.peek()[1] == "-" else 1
            self.i += 1
        kind, value = self.peek()
        if kind != "num" or len(value) > 6:
            raise _UnitTextError("'^' needs a number after it")
        self.i += 1
        exponent = sign * float(value)
        return base ** (int(exponent) if exponent.is_integer() else exponent)

    def primary(self, depth: int):
        kind, value = self.peek()
        self.i += 1
        if kind == "word":
            return _atom_unit(self.registry, value)
        if kind == "cur":
            return _atom_unit(self.registry, _CURRENCY_SYMBOLS[value])
        if kind == "num":
            if value != "1":
                raise _UnitTextError("a unit cannot contain a number other than 1")
            return self.registry.dimensionless
        if (kind, value) == ("op", "%"):
            return self.registry.dimensionless
        if (kind, value) == ("op", "(") and depth < 5:
            inner = self.unit(depth + 1)
            if self.peek() != ("op", ")"):
                raise _UnitTextError("'(' is never closed")
            self.i += 1
            return inner
        if kind == "end":
            raise _UnitTextError("it ends too early")
        raise _UnitTextError(f"unexpected '{value}'")


@functools.lru_cache(maxsize=512)
def _parse_unit(text: str):
    if len(text) > _MAX_UNIT_LENGTH:
        raise _UnitTextError(f"units are at most {_MAX_UNIT_LENGTH} characters")
    with _UNIT_LOCK:
        registry = _registry()
        if _collapse(text).lower() in _PURE_WORDS:
            return registry.dimensionless
        return _UnitParser(registry, text).parse()


def _unit_of_text(text: Any, what: str):
    if text is None:
        return _registry().dimensionless
    if not isinstance(text, str):
        raise CvpValueError(f"{what} must be text, got {_short_repr(text)}")
    try:
        return _parse_unit(text)
    except _UnitTextError as exc:
        raise CvpValueError(f"{what} is not understood: {_short_repr(text)} ({exc})") from None


def _unit_kind(name: str) -> int:
    dims = dict(_unit_named(_registry(), name).dimensionality)
    if len(dims) == 1 and next(iter(dims)).startswith("[currency_"):
        return 0
    if dims == {"[time]": 1}:
        return 2
    return 1


def _format_unit(u) -> str:
    """``USD/year``, ``hour/stop``, ``USD*hour/(stop*year)``; ``1`` for a pure number."""
    items = sorted(u._units.items(), key=lambda item: (_unit_kind(item[0]), item[0].lower()))

    def term(name: str, exponent: float) -> str:
        return name if exponent == 1 else f"{name}^{float(exponent):g}"

    top = [term(n, e) for n, e in items if e > 0]
    bottom = [term(n, -e) for n, e in items if e < 0]
    text = "*".join(top) or "1"
    if bottom:
        text += "/" + (bottom[0] if len(bottom) == 1 else "(" + "*".join(bottom) + ")")
    return text


def _shown(u) -> str:
    return _format_unit(u) if u._units else "no unit"


def _uses_quantity(node) -> bool:
    if isinstance(node, _Ref):
        return True
    if isinstance(node, _Num):
        return False
    if isinstance(node, _Neg):
        return _uses_quantity(node.operand)
    if isinstance(node, _Call):
        return any(_uses_quantity(arg) for arg in node.args)
    return _uses_quantity(node.first) or any(_uses_quantity(sub) for _, sub in node.rest)


class _UnitChecker:
    def __init__(self, text: str, names: tuple[str, ...], units: dict):
        self.text, self.names, self.units = text, names, units
        self.pure = _registry().dimensionless

    def show(self, node) -> str:
        return _display(node, self.text, self.names)

    def mismatch(self, verb: str, right: str, ur, left: str, ul) -> CvpValueError:
        if verb == "+":
            message = f"cannot add '{right}' ({_shown(ur)}) to '{left}' ({_shown(ul)})"
        elif verb == "-":
            message = f"cannot subtract '{right}' ({_shown(ur)}) from '{left}' ({_shown(ul)})"
        else:
            message = (
                f"cannot compare '{right}' ({_shown(ur)}) with '{left}' ({_shown(ul)}) in {verb}"
            )
        if ur.dimensionality == ul.dimensionality:
            message += "; convert them to one unit first"
        return CvpValueError(message)

    def of(self, node):
        if isinstance(node, _Num):
            return self.pure
        if isinstance(node, _Ref):
            return self.units[node.index]
        if isinstance(node, _Neg):
            return self.of(node.operand)
        if isinstance(node, _Call):
            return self.call(node)
        acc = self.of(node.first)
        for k, (op, sub) in enumerate(node.rest):
            u = self.of(sub)
            if op in "+-":
                if u != acc:
                    raise self.mismatch(
                        op, self.show(sub), u, _prefix(node, k, self.text, self.names), acc
                    )
            elif op == "*":
                acc = acc * u
            elif op == "/":
                acc = acc / u
            else:
                acc = self.power(node, k, acc, sub, u)
        return acc

    def power(self, node: _Chain, k: int, base, sub, u):
        if u._units:
            raise CvpValueError(
                f"the exponent '{self.show(sub)}' ({_shown(u)}) must be a pure number"
            )
        if not base._units:
            return base
        if _uses_quantity(sub):
            raise CvpValueError(
                f"cannot raise '{_prefix(node, k, self.text, self.names)}' ({_shown(base)}) "
                f"to a power that depends on inputs ('{self.show(sub)}')"
            )
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            exponent = float(_compile(sub, self.text)([self.names]))
        return base ** (int(exponent) if exponent.is_integer() else exponent)

    def call(self, node: _Call):
        units = [self.of(arg) for arg in node.args]
        if node.func == "ROUND" and units[1]._units:
            raise CvpValueError(
                f"the digits '{self.show(node.args[1])}' ({_shown(units[1])}) of ROUND "
                "must be a pure number"
            )
        if node.func in ("MIN", "MAX"):
            for arg, u in zip(node.args[1:], units[1:], strict=True):
                if u != units[0]:
                    raise self.mismatch(
                        node.func, self.show(arg), u, self.show(node.args[0]), units[0]
                    )
        return units[0]


def _money_per_period(u) -> tuple[str, str] | None:
    items = list(u._units.items())
    if len(items) != 2:
        return None
    currency = [n for n, e in items if e == 1 and _unit_kind(n) == 0]
    period = [n for n, e in items if e == -1 and _unit_kind(n) == 2]
    if len(currency) == 1 and len(period) == 1:
        return currency[0], period[0]
    return None


def currency_and_period(unit_text: str) -> tuple[str, str] | None:
    """Split a money-per-period unit into its currency and its period.

    Parameters
    ----------
    unit_text : str
        A unit such as ``'USD/year'``, ``'EUR per month'`` or ``'$/yr'``.

    Returns
    -------
    tuple of (str, str) or None
        ``(currency, period)`` with the ISO 4217 code and the time unit's name, or None when
        the unit is not one currency divided by one period.

    Raises
    ------
    CvpValueError
        The unit text cannot be read.

    Examples
    --------
    >>> currency_and_period("USD/year")
    ('USD', 'year')
    >>> currency_and_period("EUR per months")
    ('EUR', 'month')
    >>> currency_and_period("USD/customer/year") is None
    True
    """
    return _money_per_period(_unit_of_text(unit_text, f"the unit {_short_repr(unit_text)}"))


def is_money_per_period(unit_text: str) -> bool:
    """Whether a unit is money per period, as every value word equation's result must be.

    Parameters
    ----------
    unit_text : str
        A unit such as ``'USD/year'``.

    Returns
    -------
    bool
        True for exactly one currency (an ISO 4217 code or ``$ € £ ¥``) divided by exactly one
        time unit (second ... year); False otherwise, including ``USD*hour/minute``, whose
        number would need converting first.

    Examples
    --------
    >>> is_money_per_period("USD/year"), is_money_per_period("$/month")
    (True, True)
    >>> is_money_per_period("USD"), is_money_per_period("hours/year")
    (False, False)
    """
    return currency_and_period(unit_text) is not None


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Core:
    """What the parser learns from one equation, cached per (text, normalised names)."""

    text: str
    result_name: str | None
    root: Any
    used: tuple[int, ...]
    run: Callable[[list], Any]
    propagates: bool


@functools.lru_cache(maxsize=1024)
def _parse_core(equation: str, norm_names: tuple[str, ...]) -> _Core:
    parser = _Parser(equation, _name_index(norm_names))
    result_name, root = parser.parse()
    return _Core(
        equation,
        result_name,
        root,
        tuple(parser.used),
        _compile(root, equation),
        _propagates(root),
    )


def _core_for(equation: Any, names: Sequence[str]) -> tuple[_Core, tuple[str, ...]]:
    if not isinstance(equation, str):
        raise CvpValueError(f"the equation must be text, got {_short_repr(equation)}")
    if len(equation) > MAX_LENGTH:
        raise CvpValueError(
            f"equation is {len(equation):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    spelled, norm = _check_names(names)
    try:
        return _parse_core(equation, norm), spelled
    except _UnknownQuantityError as exc:
        raise _unknown_quantity_error(exc.text, spelled, norm) from None


@dataclass(frozen=True)
class WordEquation:
    """A parsed value word equation; build one with :func:`parse`.

    Attributes
    ----------
    text : str
        The equation as written.
    result_name : str or None
        The name before the first ``=``, whitespace collapsed; None without one.
    quantities : tuple of str
        The known names the equation uses, in order of first appearance, spelled as in the
        ``names`` given to :func:`parse`.
    """

    text: str
    result_name: str | None
    quantities: tuple[str, ...]
    _names: tuple[str, ...] = field(repr=False)
    _core: _Core = field(repr=False, compare=False)

    def evaluate(self, values: Sequence[Any]) -> Number:
        """Compute the equation; see :func:`evaluate`.

        Examples
        --------
        >>> parse("a - b", ["a", "b"]).evaluate([10, 2.5])
        7.5
        """
        return _evaluate(self._core, self._names, values)

    def unit(self, units: Sequence[str | None]) -> str:
        """The unit of the result; see :func:`unit`.

        Examples
        --------
        >>> parse("a / b", ["a", "b"]).unit(["kWh/year", "kWh"])
        '1/year'
        """
        units = _aligned(units, "units", self._names)
        parsed = {
            i: _unit_of_text(units[i], f"the unit of '{self._names[i]}'") for i in self._core.used
        }
        checker = _UnitChecker(self.text, self._names, parsed)
        with _UNIT_LOCK:
            return _format_unit(checker.of(self._core.root))

    def to_formula(self, refs: Mapping[str, str]) -> str:
        """A native Excel formula; see :func:`to_formula`.

        Examples
        --------
        >>> parse("-a^2", ["a"]).to_formula({"a": "Inputs!$C$4"})
        '=(-Inputs!$C$4)^2'
        """
        if not isinstance(refs, Mapping):
            raise CvpValueError(
                f"refs must map quantity names to cell references, got {_short_repr(refs)}"
            )
        by_key: dict[str, Any] = {}
        for key, ref in refs.items():
            if isinstance(key, str):
                norm = _normalise(key)
                if norm in by_key and by_key[norm] != ref:
                    raise CvpValueError(
                        f"refs names '{_collapse(key)}' twice with different references "
                        "(case and spaces are ignored)"
                    )
                by_key[norm] = ref
        by_index = {}
        for i in self._core.used:
            name = self._names[i]
            key = _normalise(name)
            if key not in by_key:
                raise CvpRefError(f"no cell reference for '{name}'")
            by_index[i] = _check_reference(by_key[key], name)
        formula = "=" + _emit(self._core.root, by_index)
        if len(formula) > _EXCEL_FORMULA_LIMIT:
            raise CvpValueError(
                f"the formula would be {len(formula):,} characters long; "
                f"Excel's limit is {_EXCEL_FORMULA_LIMIT:,}"
            )
        return formula


def parse(equation: str, names: Sequence[str]) -> WordEquation:
    """Read a value word equation against the known quantity names.

    Parameters
    ----------
    equation : str
        At most 2,000 characters, for example
        ``'Savings = (Stops before - Stops after) x Hours lost per stop x Cost per hour'``.
        The language and its precedence are described in the module docstring.
    names : sequence of str
        The known quantities. Matching ignores case and runs of whitespace; two names that
        differ only in those are rejected.

    Returns
    -------
    WordEquation
        With ``.text``, ``.result_name``, ``.quantities`` and the methods ``evaluate``,
        ``unit`` and ``to_formula``. Parsing is cached per (equation, normalised names).

    Raises
    ------
    CvpNameError
        An unknown quantity (with the closest known name, when one is close) or function.
    CvpValueError
        Any other mistake, with its 1-based position: unbalanced parenthesis or bracket,
        missing value or operator, too long, nested too deep, blank or repeated names.
    CvpNumError
        A number literal too large for a double.

    Examples
    --------
    >>> names = ["Hours", "Hours lost per stop", "Cost (USD) per hour"]
    >>> eq = parse("Loss = Hours lost per stop × [Cost (USD) per hour]", names)
    >>> eq.result_name, eq.quantities
    ('Loss', ('Hours lost per stop', 'Cost (USD) per hour'))
    >>> try:
    ...     parse("Cost per hour downtime * 2", ["Cost per hour of downtime"])
    ... except CvpNameError as error:
    ...     print(error)
    #NAME? unknown quantity 'Cost per hour downtime'; did you mean 'Cost per hour of downtime'?
    """
    core, spelled = _core_for(equation, names)
    return WordEquation(
        text=equation,
        result_name=core.result_name,
        quantities=tuple(spelled[i] for i in core.used),
        _names=spelled,
        _core=core,
    )


def evaluate(equation: str, names: Sequence[str], values: Sequence[Any]) -> Number:
    """Compute a word equation for one customer or, vectorised, for many.

    Parameters
    ----------
    equation : str
        The word equation (see :func:`parse`).
    names : sequence of str
        The known quantities.
    values : sequence
        Aligned with ``names``: each a number or a 1-D or 2-D numpy array (one entry per
        customer). Arrays must all have one shape; numbers broadcast over them. Only the
        quantities the equation uses are checked.

    Returns
    -------
    float or numpy.ndarray
        A float when every used value is a number, else a float64 array of the arrays' shape.

    Raises
    ------
    CvpValueError
        Lengths differ, a value is blank (None or NaN), text, a boolean or infinite (naming the
        quantity and, in an array, the 1-based item), or arrays differ in shape.
    CvpDivZeroError
        A divisor is 0 (for arrays: for any customer; the message names the first one).
    CvpNumError
        A result beyond ±1.8E308, 0^0, or a negative number to a fractional power.

    Examples
    --------
    >>> evaluate("(a - b) x c", ["a", "b", "c"], [12, 4, 1.5])
    12.0
    >>> evaluate("a * 15%", ["a"], [np.array([100.0, 200.0])])
    array([15., 30.])
    >>> evaluate("-2^2 + 2^3^2", [], [])
    68.0
    """
    core, spelled = _core_for(equation, names)
    return _evaluate(core, spelled, values)


def unit(equation: str, names: Sequence[str], units: Sequence[str | None]) -> str:
    """The unit of a word equation's result, checking that its terms agree.

    Parameters
    ----------
    equation : str
        The word equation (see :func:`parse`).
    names : sequence of str
        The known quantities.
    units : sequence of str or None
        Aligned with ``names``: a unit such as ``'stops/year'``, ``'hours per stop'``,
        ``'USD/hour'``, ``'kWh'`` or ``'%'``; None or ``''`` for a pure number. ``*``, ``/``,
        ``per``, ``^n``, ``²`` and parentheses combine units; a space multiplies and binds
        tighter than ``/``. Time units (second ... year), a few physical units (kWh, kg,
        liter, ...) and ISO 4217 currencies (each its own dimension; ``$ € £ ¥`` too) are
        known; any other word becomes a dimension of its own, singular and plural alike
        (``stop``/``stops``).

    Returns
    -------
    str
        Such as ``'USD/year'``; ``'1'`` for a pure number. Numbers are never converted, so
        units combine exactly as written: ``minute/hour`` stays as it is.

    Raises
    ------
    CvpValueError
        Terms added, subtracted or compared (MIN, MAX) have different units; an exponent
        has a unit, or depends on inputs while its base has a unit; ROUND's digits have a
        unit; a unit cannot be read.

    Examples
    --------
    >>> unit("a * b * c", ["a", "b", "c"], ["stops/year", "hours/stop", "USD/hour"])
    'USD/year'
    >>> unit("a + b", ["a", "b"], ["stops/year", "hours/stop"])
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpValueError: #VALUE! cannot add 'b' (hour/stop) to 'a' (stop/year)
    """
    return parse(equation, names).unit(units)


def to_formula(equation: str, refs: Mapping[str, str]) -> str:
    """Translate a word equation into a native Excel formula.

    Parameters
    ----------
    equation : str
        The word equation (see :func:`parse`); its result name is dropped.
    refs : mapping of str to str
        Quantity name (matched like :func:`parse`'s names) to an A1 cell reference or defined
        name: ``'B3'``, ``'Inputs!$C$4'``, ``"'My sheet'!A1"``, ``'stops_alt'``.

    Returns
    -------
    str
        A formula starting with ``=``, in ASCII, with decimal numbers (``15%`` becomes
        ``0.15``) and parentheses wherever grouping could be misread, which computes in
        Excel and LibreOffice what :func:`evaluate` computes.

    Raises
    ------
    CvpValueError
        A reference that is not a cell or a defined name, or a formula longer than Excel's
        8,192 characters; and whatever :func:`parse` raises.

    Examples
    --------
    >>> to_formula("(a - b) × c ÷ d", {"a": "B3", "b": "B4", "c": "B5", "d": "B6"})
    '=(B3-B4)*B5/B6'
    >>> to_formula("2^-x^2 − 15%", {"x": "stops_alt"})
    '=(2^(-stops_alt))^2-0.15'
    """
    if not isinstance(refs, Mapping):
        raise CvpValueError(
            f"refs must map quantity names to cell references, got {_short_repr(refs)}"
        )
    return parse(equation, list(refs)).to_formula(refs)
