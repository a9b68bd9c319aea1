"""Reading a word equation: known names, the recursive-descent parser, the limits.

The parser reads the text once, left to right, without backtracking (user text never reaches
``eval``, ``exec`` or ``compile``) and builds the tree of :mod:`cvp_xl.wordeq.tree`.  It counts
its work in *steps* (:func:`steps_to_read`), so its cost can be bounded by the size of its
input, without a clock.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from cvp_xl.errors import CvpError, CvpNameError, CvpNumError, CvpValueError

from .tree import _Call, _Chain, _collapse, _Neg, _normalise, _Num, _Ref, _short_repr

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "steps_to_read"]

#: Longest equation accepted, in characters.
MAX_LENGTH = 2000
#: Deepest nesting of parentheses and function calls accepted.
MAX_DEPTH = 50
#: The functions a word equation may call.
FUNCTIONS = ("ABS", "MAX", "MIN", "ROUND")
_MAX_ARGS = 255

_SIGNS = {"+": "+", "-": "-", "\u2212": "-", "\u2013": "-"}
_TIMES = {"*": "*", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "/": "/", "\u00f7": "/"}
_STOP_CHARS = frozenset("^()[],;=") | frozenset(_SIGNS) | frozenset(_TIMES)
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FUNCTION_CALL = re.compile(r"([A-Za-z][A-Za-z0-9_.]*)\(")


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
        #: Work done so far (see steps_to_read): this pass over the text counts one per char.
        self.steps = self.n

    # -- helpers -------------------------------------------------------------------------

    def _skip_ws(self) -> None:
        text, n, pos = self.text, self.n, self.pos
        while pos < n and text[pos].isspace():
            pos += 1
        self.steps += pos - self.pos
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
        self.steps += j - k + 1
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
        self.steps += j - p + 1
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
        self.steps += 1
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
        self.steps += self.n  # the look for '=' passes over the text at most once
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
        self.steps += 1
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
        self.steps += 1
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
        self.steps += 1
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
        self.steps += close - p + 1
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
        self.steps += end - p
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


def _check_text(equation: Any) -> str:
    """The equation, once it is known to be text within the length limit."""
    if not isinstance(equation, str):
        raise CvpValueError(f"the equation must be text, got {_short_repr(equation)}")
    if len(equation) > MAX_LENGTH:
        raise CvpValueError(
            f"equation is {len(equation):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    return equation


def steps_to_read(equation: Any, names: Sequence[str]) -> int:
    """The parser's work on ``equation``, in steps, whether it reads the equation or refuses it.

    A step is one grammar rule entered, one operator looked at, or one character passed over
    (normalising the text, looking for ``=``, skipping spaces, matching known names, scanning
    a bracket, a number or a run of words).  An equation refused before reading (not text,
    too long) or with names refused by their own check takes 0 steps.  Uncached: tests use it
    to bound the parser's work by the size of its input, never by a clock.

    Examples
    --------
    >>> steps_to_read("a + b", ["a", "b"])
    32
    >>> steps_to_read("x" * 1_000_000, ["a"])
    0
    """
    try:
        _check_text(equation)
        _, norm = _check_names(names)
    except CvpError:
        return 0
    parser = _Parser(equation, _name_index(norm))
    try:
        parser.parse()
    except (CvpError, _UnknownQuantityError):
        pass
    return parser.steps
