"""Guards that make a native translation refuse what its function refuses.

A ``CVP_*`` function refuses a blank cell, text (even ``'12'``), TRUE/FALSE, ranges that do not
pair, and numbers outside its domain; Excel's arithmetic would read a blank as 0 and ``'12'``
as 12.  A native translation therefore puts the function's checks in front of its
arithmetic, in the function's order, each as ``IF(condition, error, ...)``:

>>> first_failing("(B2-C9)/C9", numbers("B2", "C9"))
'IF(COUNT(B2,C9)<2,SUM(B2,C9)+#VALUE!,(B2-C9)/C9)'

The error of a failed check is the function's: ``#VALUE!`` for a cell that is not a number,
the code of an error value in an input (``SUM`` passes the first one on, and ``+`` keeps the
left one), ``#NUM!`` or ``#DIV/0!`` for the domain.  A guard is written only where it can
fail: a literal number needs no check, and the checks that only matter for ranges (shapes
that do not pair, a zero somewhere in a range) are left out when every argument is one cell:

>>> first_failing("B1:B3/C1", numbers("B1:B3", "C1"), same_shape("B1:B3", "C1"),
...               (any_equal("C1", 0), "#DIV/0!"))
'IF(COUNT(B1:B3,C1)<1+ROWS(B1:B3)*COLUMNS(B1:B3),SUM(B1:B3,C1)+#VALUE!,B1:B3/C1)'
>>> first_failing("B1:B3/C1:C3", same_shape("B1:B3", "C1:C3"), (any_equal("C1:C3", 0), "#DIV/0!"))
'IF(OR(ROWS(B1:B3)<>ROWS(C1:C3),COLUMNS(B1:B3)<>COLUMNS(C1:C3)),#VALUE!,\
IF(COUNTIF(C1:C3,0)>0,#DIV/0!,B1:B3/C1:C3))'

An argument is a literal number, one cell, an expression of single cells, a range, or
anything else (a defined name, a LAMBDA parameter) whose size is only known when it is
computed (:func:`kind`); each gets the checks it can fail.  Only functions on the share-safe
list are used (:data:`cvp_xl.xlsx.share_safe.SHARE_SAFE_FUNCTIONS`), in forms that Excel 2016,
LibreOffice and the formulas engine evaluate alike without array entry: aggregates (``COUNT``,
``SUM``, ``MIN``, ``ROWS``), and ``SUMPRODUCT((...)*1)`` for a test over every element.

Known limits, where the shared formula still gives an error but maybe another code:

- when an error value in an input meets another bad input (text before it, ranges that do
  not pair), the error value's code shows where the function names the first problem;
- within one range of differentiation values (``CVP_EVE``), a cell that is not a number is
  reported before a negative amount, whichever comes first;
- LibreOffice has no logical type: it reads TRUE as the number 1 in every function on the
  share-safe list, so there a TRUE input computes as 1 (Excel refuses it, as the function
  does).  Only ``ISLOGICAL`` tells them apart in LibreOffice.
"""

from __future__ import annotations

import re

from cvp_xl.xlsx import a1

__all__ = [
    "NUMBER", "CELL", "SCALAR", "RANGE", "OTHER", "OMITTED", "SHAPE_NOTE",
    "kind", "omitted", "static_shape", "literal_number", "literal_text",
    "first_failing", "elementwise", "scalars", "numbers", "single", "amounts", "same_shape",
    "same_size",
    "rows", "columns", "below", "above", "at_most", "any_equal", "any_pair", "either",
]

NUMBER, CELL, SCALAR, RANGE, OTHER, OMITTED = (
    "number", "cell", "scalar", "range", "other", "omitted")

Check = tuple[str, str]  # (condition, the error when it holds)

#: Why an example with ranges that do not pair is not run natively in the conformance suite.
SHAPE_NOTE = ("the formulas engine computes both branches of an IF, and fails on the arithmetic "
              "over ranges that do not pair instead of giving the guard's #VALUE! (LibreOffice "
              "gives #VALUE!: tests/hosts/test_native_guards.py)")

_SHEET = rf"(?:(?:{a1.SHEET})!)?"
_CELL_REF = re.compile(rf"^{_SHEET}(?P<ref>{a1.CELL})$")
_RANGE_REF = re.compile(
    rf"^{_SHEET}(?P<ref>{a1.CELL}:{a1.CELL}|\$?[A-Za-z]{{1,3}}:\$?[A-Za-z]{{1,3}}"
    r"|\$?[1-9][0-9]{0,6}:\$?[1-9][0-9]{0,6})$"
)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?$")
_TEXT = re.compile(r'^"(?:[^"]|"")*"$')
_STRING = re.compile(r'"(?:[^"]|"")*"')
_LITERAL_NUMBER = re.compile(r"(?<![\w$.])\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")
_WORD = re.compile(rf"(?:{_SHEET}\$?[A-Za-z_][\w.$]*|#[A-Z/0!?]+)(?P<call>\()?")
#: Functions whose value is one value when every argument is one value.
_ONE_VALUE = frozenset("""
ABS AND CHOOSE COUNT COUNTA IF IFERROR INT ISBLANK ISERROR ISNUMBER ISTEXT MAX MIN NOT OR ROUND
SIGN SQRT SUM SUMPRODUCT ROWS COLUMNS
""".split())


def _bare(expr: str) -> str:
    """The expression without parentheses around the whole of it."""
    text = expr.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            depth += (ch == "(") - (ch == ")")
            if depth < 0:
                return False
    return depth == 0 and not quoted


def omitted(expr: str | None) -> bool:
    """An argument left out (``None``) or left empty (``f(A1,,B1)`` gives ``""`` or ``()``)."""
    return expr is None or _bare(expr) == ""


def kind(expr: str | None) -> str:
    """What an argument expression is: NUMBER, CELL, SCALAR, RANGE, OTHER or OMITTED.

    SCALAR is an expression of single cells and numbers that gives one value
    (``C2*2``, ``-B1``, ``"abc"``, ``IF(A1>0,A1,0)``); OTHER is anything whose size is only
    known when it is computed (a defined name, a LAMBDA parameter, ``OFFSET(...)``).

    >>> [kind(x) for x in ("12", "(-5)", "$B$3", "Inputs!C4", "B3:B3", "B3:C9", "A:A")]
    ['number', 'number', 'cell', 'cell', 'cell', 'range', 'range']
    >>> [kind(x) for x in ("(C2*2)", '"a:b"', "(-B1)", "SUM(A1,B1)", "()")]
    ['scalar', 'scalar', 'scalar', 'scalar', 'omitted']
    >>> [kind(x) for x in ("price_a", "_xlpm.cost", "(A1:A3*2)", "INDEX(A1,1)", "{1,2}")]
    ['other', 'other', 'other', 'other', 'other']
    """
    if omitted(expr):
        return OMITTED
    text = _bare(expr)
    if _NUMBER.match(text):
        return NUMBER
    if _CELL_REF.match(text):
        return CELL
    match = _RANGE_REF.match(text)
    if match:
        ref = match["ref"]
        if ":" in ref and re.fullmatch(rf"{a1.CELL}:{a1.CELL}", ref):
            try:
                if a1.shape(ref.replace("$", "")) == (1, 1):
                    return CELL
            except ValueError:
                return OTHER
        return RANGE
    return SCALAR if _one_value(text) else OTHER


def _one_value(text: str) -> bool:
    """An expression of single cells, numbers, text and one-value functions only."""
    bare = _LITERAL_NUMBER.sub("0", _STRING.sub('""', text))
    if ":" in bare or "{" in bare:
        return False
    for match in _WORD.finditer(bare):
        word = match.group(0)
        if match["call"]:
            if word[:-1].upper() not in _ONE_VALUE:
                return False
        elif word.startswith("#"):
            continue  # an error literal
        elif not _CELL_REF.match(word) and word.upper() not in ("TRUE", "FALSE"):
            return False
    return True


def static_shape(expr: str | None) -> tuple[int, int] | None:
    """(rows, columns) of a number, a cell or a range of cells; None when not known now.

    >>> static_shape("Inputs!$B$2:$C$4"), static_shape("7"), static_shape("A:A")
    ((3, 2), (1, 1), None)
    """
    k = kind(expr)
    if k in (NUMBER, CELL, SCALAR):
        return (1, 1)
    if k != RANGE:
        return None
    ref = _RANGE_REF.match(_bare(expr))["ref"].replace("$", "")
    if not re.fullmatch(rf"{a1.CELL}:{a1.CELL}", ref):
        return None
    return a1.shape(ref)


def literal_number(expr: str | None) -> float | None:
    """The value of a literal number argument (``12``, ``(-5)``, ``40%``), else None."""
    if expr is None or kind(expr) != NUMBER:
        return None
    text = _bare(expr)
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def literal_text(expr: str | None) -> str | None:
    """The text of a literal string argument (``"median"``), else None."""
    if expr is None:
        return None
    text = _bare(expr)
    return text[1:-1].replace('""', '"') if _TEXT.match(text) else None


def _scalar(expr: str) -> bool:
    return kind(expr) in (NUMBER, CELL, SCALAR)


def first_failing(body: str, *checks: Check | None) -> str:
    """``body`` behind its checks: the error of the first check that holds, else ``body``.

    A check is ``(condition, error)``; a check or condition that is None is left out.

    >>> first_failing("A1/B1", ("B1<0", "#NUM!"), None)
    'IF(B1<0,#NUM!,A1/B1)'
    """
    out = body
    for check in reversed([c for c in checks if c is not None and c[0] is not None]):
        condition, error = check
        out = f"IF({condition},{error},{out})"
    return out


def elementwise(body: str, args: tuple[str, ...], *domain: Check | None) -> str:
    """The guards of a function computed element by element, then its domain checks.

    Every cell a number (:func:`numbers`), ranges of one shape (:func:`same_shape`), then
    ``domain`` in the function's order.

    >>> elementwise("(B2-C9)/C9", ("B2", "C9"))
    'IF(COUNT(B2,C9)<2,SUM(B2,C9)+#VALUE!,(B2-C9)/C9)'
    """
    return first_failing(body, numbers(*args), same_shape(*args), *domain)


def scalars(body: str, args: tuple[str, ...], *domain: Check | None) -> str:
    """The guards of a function of single numbers: one cell each (:func:`single`), every one
    a number (:func:`numbers`), then ``domain`` in the function's order."""
    return first_failing(body, single(*args), numbers(*args), *domain)


def _either(conditions: list[str]) -> str | None:
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    if "TRUE" in conditions:
        return "TRUE"
    return conditions[0] if len(conditions) == 1 else f"OR({','.join(conditions)})"


def either(*conditions: str | None) -> str | None:
    """One condition that holds when any of ``conditions`` does (``OR``), None for none."""
    return _either(list(conditions))


def rows(expr: str) -> str:
    """The rows of an argument: ``1`` for a number or a cell, ``ROWS`` of anything else.

    ``ROWS`` of a single number is an error in LibreOffice, so an argument of unknown size
    counts as one row there.
    """
    k = kind(expr)
    if _scalar(expr):
        return "1"
    return f"ROWS({expr})" if k == RANGE else f"IFERROR(ROWS({expr}),1)"


def columns(expr: str) -> str:
    """The columns of an argument, as :func:`rows` counts rows."""
    k = kind(expr)
    if _scalar(expr):
        return "1"
    return f"COLUMNS({expr})" if k == RANGE else f"IFERROR(COLUMNS({expr}),1)"


def _size(expr: str) -> str:
    return f"{rows(expr)}*{columns(expr)}"


def numbers(*exprs: str) -> Check | None:
    """Every cell of every argument holds a number (blank, text, TRUE/FALSE do not).

    Fails with the first error value among the inputs, or ``#VALUE!`` when there is none.

    >>> numbers("A1", "A2", "12")
    ('COUNT(A1,A2)<2', 'SUM(A1,A2)+#VALUE!')
    >>> numbers("B1:B3", "x")
    ('OR(COUNT(B1:B3)<ROWS(B1:B3)*COLUMNS(B1:B3),SUMPRODUCT(1-ISNUMBER(x))>0)', \
'SUM(B1:B3,x)+#VALUE!')
    """
    args = [a for a in exprs if kind(a) not in (NUMBER, OMITTED)]
    if not args:
        return None
    counted = [a for a in args if kind(a) in (CELL, RANGE)]
    conditions = []
    if counted:
        ones = sum(kind(a) == CELL for a in counted)
        sizes = ([str(ones)] if ones else []) + [_size(a) for a in counted if kind(a) == RANGE]
        conditions.append(f"COUNT({','.join(counted)})<{'+'.join(sizes)}")
    # COUNT would count the text "12" or TRUE given as a value, not in a cell
    conditions += [f"NOT(ISNUMBER({a}))" for a in args if kind(a) == SCALAR]
    conditions += [f"SUMPRODUCT(1-ISNUMBER({a}))>0" for a in args if kind(a) == OTHER]
    return _either(conditions), f"SUM({','.join(args)})+#VALUE!"


def amounts(expr: str) -> Check | None:
    """Every cell of a list is a number or blank (blank cells count as none, as SUM reads them).

    >>> amounts("B2:B5")
    ('COUNTA(B2:B5)>COUNT(B2:B5)', 'SUM(B2:B5)+#VALUE!')
    """
    k = kind(expr)
    if k in (NUMBER, OMITTED):
        return None
    if k == OTHER:
        condition = f"SUMPRODUCT(1-ISNUMBER({expr})-ISBLANK({expr}))>0"
    elif k == SCALAR:
        condition = f"NOT(ISNUMBER({expr}))"
    else:
        condition = f"COUNTA({expr})>COUNT({expr})"
    return condition, f"SUM({expr})+#VALUE!"


def single(*exprs: str) -> Check | None:
    """Each argument is one cell or one number, not a range of several cells (``#VALUE!``)."""
    conditions = [f"{_size(a)}>1" for a in exprs if kind(a) in (RANGE, OTHER)]
    condition = _either(conditions)
    return None if condition is None else (condition, "#VALUE!")


def same_shape(*exprs: str) -> Check | None:
    """Arguments that are ranges all have one shape; single cells and numbers go with any.

    Only written when two or more arguments may be ranges.

    >>> same_shape("B1:B3", "C1", "D1:D3")
    ('OR(ROWS(B1:B3)<>ROWS(D1:D3),COLUMNS(B1:B3)<>COLUMNS(D1:D3))', '#VALUE!')
    >>> same_shape("B1", "C1") is None
    True
    """
    ranges = [a for a in exprs if kind(a) in (RANGE, OTHER)]
    if len(ranges) < 2:
        return None
    conditions = []
    if all(kind(a) == RANGE for a in ranges):
        first = ranges[0]
        for other in ranges[1:]:
            conditions += [f"ROWS({first})<>ROWS({other})",
                           f"COLUMNS({first})<>COLUMNS({other})"]
    else:  # an argument of unknown size may be one cell, which pairs with anything
        for i, x in enumerate(ranges):
            for y in ranges[i + 1:]:
                differ = f"OR({rows(x)}<>{rows(y)},{columns(x)}<>{columns(y)})"
                several = [f"{_size(a)}>1" for a in (x, y) if kind(a) == OTHER]
                conditions.append(f"AND({','.join(several + [differ])})")
    return _either(conditions), "#VALUE!"


def same_size(*exprs: str) -> Check | None:
    """Every argument has the same rows and columns (a single cell pairs only with one cell).

    >>> same_size("B1:B4", "C1:C4", "D1")
    ('OR(ROWS(B1:B4)<>ROWS(C1:C4),COLUMNS(B1:B4)<>COLUMNS(C1:C4),ROWS(B1:B4)<>1,\
COLUMNS(B1:B4)<>1)', '#VALUE!')
    """
    first, *others = exprs
    conditions = []
    for other in others:
        for measure in (rows, columns):
            a, b = measure(first), measure(other)
            if a != b:
                conditions.append(f"{a}<>{b}")
    condition = _either(conditions)
    return None if condition is None else (condition, "#VALUE!")


def _compare(expr: str, op: str, bound: float, aggregate: str) -> str | None:
    value = literal_number(expr)
    if value is not None:
        holds = {"<": value < bound, ">": value > bound, "<=": value <= bound}[op]
        return "TRUE" if holds else None
    subject = expr if _scalar(expr) else f"{aggregate}({expr})"
    return f"{subject}{op}{bound:g}"


def below(expr: str, bound: float = 0) -> str | None:
    """A condition: some cell of the argument is below ``bound`` (None when it cannot be).

    >>> below("B1"), below("B1:B3"), below("4"), below("(-4)")
    ('B1<0', 'MIN(B1:B3)<0', None, 'TRUE')
    """
    return _compare(expr, "<", bound, "MIN")


def at_most(expr: str, bound: float = 0) -> str | None:
    """A condition: some cell of the argument is at most ``bound``."""
    return _compare(expr, "<=", bound, "MIN")


def above(expr: str, bound: float) -> str | None:
    """A condition: some cell of the argument is above ``bound``."""
    return _compare(expr, ">", bound, "MAX")


def any_equal(expr: str, value: float) -> str | None:
    """A condition: some cell of a range equals ``value``; None for a single cell.

    A single cell needs no guard: the arithmetic itself fails there (a division by it gives
    ``#DIV/0!``); in a range only that element would fail, where the function fails whole.

    >>> any_equal("C1", 0), any_equal("C1:C3", 0), any_equal("x", 0)
    (None, 'COUNTIF(C1:C3,0)>0', 'SUMPRODUCT((x=0)*1)>0')
    """
    k = kind(expr)
    if _scalar(expr) or k == OMITTED:
        return None
    if k == RANGE:
        return f"COUNTIF({expr},{value:g})>0"
    return f"SUMPRODUCT(({expr}={value:g})*1)>0"


def any_pair(left: str, op: str, right: str, always: bool = False) -> str | None:
    """A condition: ``left op right`` holds for some pair of elements.

    Between single cells it is the comparison itself; with a range, ``SUMPRODUCT`` counts the
    pairs.  Without ``always``, a comparison of single cells is left out (None): use it for
    a check that the arithmetic makes itself (``e=r`` before a division by ``e-r``).

    >>> any_pair("E1", "<", "R1", always=True), any_pair("E1:E3", "=", "R1")
    ('E1<R1', 'SUMPRODUCT((E1:E3=R1)*1)>0')
    """
    if _scalar(left) and _scalar(right):
        return f"{left}{op}{right}" if always else None
    return f"SUMPRODUCT(({left}{op}{right})*1)>0"
