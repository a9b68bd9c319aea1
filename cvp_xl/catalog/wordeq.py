"""Registry entries for value word equations (DOMAIN.md §4): ``CVP_WORDEQ``, ``CVP_WORDEQ_UNIT``.

The language, its evaluator and its unit checker live in :mod:`cvp_xl.wordeq`; this module
only reads spreadsheet ranges into its arguments, and translates a call into native arithmetic.

How names and values pair (the shape rule)
------------------------------------------
``names`` holds n names. With ``values`` given:

1. ``values`` has n cells, both ranges a single row or column (or both the same block):
   one customer; name i goes with value i in reading order; the result is one number.
2. ``names`` is a column of n and ``values`` has n rows and k > 1 columns: one column per
   customer; the result is a row of k numbers (enter it as an array formula over k cells).
3. ``names`` is a row of n and ``values`` has k > 1 rows and n columns: one row per
   customer; the result is a column of k numbers.

With ``values`` omitted, ``names`` is a table: names in its first column, values in the next
(one number), or in the next k > 1 columns (one per customer; a row of k numbers).  A single
name with ``values`` omitted reads as a name whose value is blank.  Any other pair of shapes is
a ``#VALUE!`` that says what was expected.

Native translation
------------------
``CVP_WORDEQ`` has no fixed native form: its formula depends on the equation's text and on the
names, which are cell *contents*.  Its entry sets ``native_reads_cells``, so the translation
receives a cell reader (``cells(ref)`` gives the rows of values at ``ref``) and produces the
arithmetic the equation says over the value cell paired with each name, keeping the call's own
``$`` signs and sheet: ``=CVP_WORDEQ(A1,B3:B6,$C$3:$C$6)`` becomes ``=($C$3-$C$4)*$C$5*$C$6``.
Per customer (rule 2 or 3), each name maps to its row or column of values (``C3:E3``), for an
array formula; an equation using MIN or MAX has no per-customer translation, because Excel's
MIN over ranges takes the smallest of all customers at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cvp_xl import wordeq
from cvp_xl.args import describe, flat, texts_of
from cvp_xl.errors import CvpError, CvpValueError, ErrorValue, error_for_code
from cvp_xl.registry import Argument, CellReader, Example, Function, NoTranslation, register
from cvp_xl.xlsx.a1 import MAX_FORMULA, RANGE_RE, column_letter, parse_range

__all__ = ["cvp_wordeq", "cvp_wordeq_unit", "native_wordeq", "CATEGORY"]

CATEGORY = "CVP Word equations"
BLANK_NOTE = "Excel's arithmetic reads a blank cell as 0; the function refuses it"
UNTRANSLATABLE = "the equation cannot be translated, so there is no native formula to compare"


# -- reading the ranges ------------------------------------------------------------------------


def _block(value) -> list[list]:
    """A cell or range as rows of cells (a flat list is one row)."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim else value.item()
    if isinstance(value, (list, tuple)):
        if not value:
            return [[]]
        if all(isinstance(row, (list, tuple)) for row in value):
            return [list(row) for row in value]
        return [list(value)]
    return [[value]]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _size_text(shape: tuple[int, int]) -> str:
    rows, cols = shape
    if rows == 1 or cols == 1:
        return str(rows * cols)
    return f"{_count(rows, 'row')} x {_count(cols, 'column')}"


@dataclass(frozen=True)
class _Plan:
    """Where each name and its value(s) are, by (row, column) inside their blocks."""

    names: tuple[tuple[int, int], ...]
    values: tuple[tuple[tuple[int, int], ...], ...]  # per name: one cell per customer
    result: str  # "one", "row" or "column"
    table: bool  # values are read from the names block

    @property
    def customers(self) -> int:
        return len(self.values[0]) if self.values else 1


def _plan(names_shape: tuple[int, int], values_shape: tuple[int, int] | None,
          what: str = "values") -> _Plan:
    """Pair names with values by the shape rule of the module docstring."""
    rows, cols = names_shape
    n = rows * cols
    if values_shape is None:
        if cols == 2 or (cols > 2 and what == "values"):
            k = cols - 1
            return _Plan(
                tuple((r, 0) for r in range(rows)),
                tuple(tuple((r, c) for c in range(1, cols)) for r in range(rows)),
                "one" if k == 1 else "row",
                True,
            )
        if n == 1:
            return _Plan(((0, 0),), (((0, -1),),), "one", False)  # a blank value
        if cols > 2:
            raise CvpValueError(f"names has {cols} columns; a table of names and units has 2")
        raise CvpValueError(
            f"{what} is missing: give {what} of the same size as names, or names as a table "
            f"with the names in its first column and the {what} in the next"
        )
    vrows, vcols = values_shape
    reading = [(r, c) for r in range(rows) for c in range(cols)]
    vector = (rows == 1 or cols == 1) and (vrows == 1 or vcols == 1)
    if vrows * vcols == n and (vector or values_shape == names_shape):
        vreading = [(r, c) for r in range(vrows) for c in range(vcols)]
        return _Plan(tuple(reading), tuple((cell,) for cell in vreading), "one", False)
    if what == "values" and cols == 1 and vrows == rows and vcols > 1:
        return _Plan(tuple(reading),
                     tuple(tuple((r, c) for c in range(vcols)) for r in range(rows)),
                     "row", False)
    if what == "values" and rows == 1 and vcols == cols and vrows > 1:
        return _Plan(tuple(reading),
                     tuple(tuple((r, c) for r in range(vrows)) for c in range(cols)),
                     "column", False)
    message = (f"names has {n} items but {what} has {_size_text(values_shape)}; "
               f"give one {what[:-1]} per name")
    if what == "values" and cols == 1 and n > 1:
        message += ", or one column per customer with a value for each name"
    elif what == "values" and rows == 1 and n > 1:
        message += ", or one row per customer with a value for each name"
    raise CvpValueError(message)


def _shape(block: list[list]) -> tuple[int, int]:
    return len(block), max((len(row) for row in block), default=0)


def _cell(block: list[list], at: tuple[int, int]):
    r, c = at
    if c < 0 or r >= len(block) or c >= len(block[r]):
        return None
    return block[r][c]


def _equation_text(equation) -> str:
    cells = flat(equation) if isinstance(equation, (list, tuple, np.ndarray)) else [equation]
    if len(cells) != 1:
        raise CvpValueError(f"equation: expected one cell with the text of a word equation, "
                            f"got {len(cells)} cells")
    value = cells[0]
    if isinstance(value, ErrorValue):
        raise error_for_code(value.code, f"equation: the input is the error {value.code}")
    if not isinstance(value, str) or not value.strip():
        raise CvpValueError(f"equation: expected the text of a word equation, "
                            f"got {describe(value)}")
    return value


def _names_and_plan(names, values, what: str = "values"):
    """The names (as text) and the plan; values as a block, or None when omitted."""
    names_block = _block(names)
    values_block = None if values is None else _block(values)
    plan = _plan(_shape(names_block), None if values_block is None else _shape(values_block),
                 what)
    texts = texts_of([_cell(names_block, at) for at in plan.names], "names")
    return texts, plan, names_block if plan.table else values_block


def _checked(value, name: str, item: int | None = None):
    if isinstance(value, ErrorValue):
        where = f"'{name}'" if item is None else f"'{name}' at item {item}"
        raise error_for_code(value.code, f"{where}: the input is the error {value.code}")
    return value


# -- the spreadsheet functions -----------------------------------------------------------------


def cvp_wordeq(equation, names, values=None):
    """Compute a value word equation from a range of names and a range of values.

    Parameters
    ----------
    equation : str
        The word equation, such as ``'Savings = (Stops before - Stops after) x Hours lost per
        stop x Margin per hour'`` (the language: :mod:`cvp_xl.wordeq`).
    names : range
        The quantities' names; or, with ``values`` omitted, a table with the names in its
        first column and the values in the next column(s).
    values : range, optional
        The values, paired with ``names`` by the shape rule of this module: same size (one
        customer), or one column (row) per customer when ``names`` is a column (row).

    Returns
    -------
    float or list of lists
        One number for one customer; per customer, a row (or a column) of numbers.

    Raises
    ------
    CvpNameError
        ``#NAME?``: an unknown quantity, with the closest known name.
    CvpValueError
        ``#VALUE!``: a blank or text value (naming the quantity and, per customer, the item),
        an equation that does not parse (with the position), names and values whose sizes
        do not pair.
    CvpDivZeroError
        ``#DIV/0!``: a divisor is 0.

    Examples
    --------
    >>> names = [["Stops before"], ["Stops after"], ["Hours lost per stop"],
    ...          ["Margin per hour"]]
    >>> eq = "Savings = (Stops before - Stops after) x Hours lost per stop x Margin per hour"
    >>> cvp_wordeq(eq, names, [[12], [4], [6], [1500]])
    72000.0
    >>> cvp_wordeq(eq, names, [[12, 10], [4, 4], [6, 5], [1500, 1200]])
    [[72000.0, 36000.0]]
    >>> cvp_wordeq(eq, [["Stops before", 12], ["Stops after", 4],
    ...                 ["Hours lost per stop", 6], ["Margin per hour", 1500]])
    72000.0
    """
    text = _equation_text(equation)
    texts, plan, block = _names_and_plan(names, values)
    parsed = wordeq.parse(text, texts)
    used = {texts.index(q) for q in parsed.quantities}
    args: list = []
    for i, name in enumerate(texts):
        if i not in used:
            args.append(0.0)
            continue
        cells = [_cell(block, at) if block is not None else None for at in plan.values[i]]
        if plan.result == "one":
            args.append(_checked(cells[0], name))
        else:
            column = np.empty(len(cells), dtype=object)
            for j, v in enumerate(cells):
                column[j] = _checked(v, name, j + 1)
            args.append(column)
    result = parsed.evaluate(args)
    if plan.result == "one":
        return float(result)
    row = np.broadcast_to(np.asarray(result, dtype=float), (plan.customers,)).tolist()
    return [row] if plan.result == "row" else [[v] for v in row]


def cvp_wordeq_unit(equation, names, units=None):
    """The unit of a value word equation's result, from the units of its quantities.

    Parameters
    ----------
    equation : str
        The word equation.
    names : range
        The quantities' names.
    units : range, optional
        One unit per name, same size (``stops/year``, ``hours per stop``, ``USD/hour``,
        ``%``); a blank cell is a pure number.  Omitted: ``names`` is a two-column table
        of names and units.

    Returns
    -------
    str
        Such as ``'USD/year'``; ``'1'`` for a pure number.

    Raises
    ------
    CvpValueError
        ``#VALUE!``: terms added, subtracted or compared have different units (naming the
        term), a unit cannot be read, sizes differ, or the equation does not parse.
    CvpNameError
        ``#NAME?``: an unknown quantity.

    Examples
    --------
    >>> cvp_wordeq_unit("(a - b) x c x d", [["a"], ["b"], ["c"], ["d"]],
    ...                 [["stops/year"], ["stops/year"], ["hours/stop"], ["USD/hour"]])
    'USD/year'
    """
    text = _equation_text(equation)
    texts, plan, block = _names_and_plan(names, units, "units")
    parsed = wordeq.parse(text, texts)
    used = {texts.index(q) for q in parsed.quantities}
    shown = []
    for i, name in enumerate(texts):
        unit = _checked(_cell(block, plan.values[i][0]), name) if i in used else None
        if isinstance(unit, str) and not unit.strip():
            unit = None
        shown.append(unit)
    return parsed.unit(shown)


# -- native translation ------------------------------------------------------------------------

_A1_BLOCK = re.compile(
    rf"^(?P<sheet>(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?(?P<range>{RANGE_RE.pattern})$"
)
_PLACEHOLDER = re.compile(r"_cvpq([0-9]+)_")


def _unwrap(expr: str) -> str:
    """The expression without the parentheses around it (``("a")`` is ``"a"``)."""
    text = expr.strip()
    while text.startswith("(") and text.endswith(")"):
        inner = text[1:-1].strip()
        depth, quoted = 0, False
        for ch in inner:
            if ch == '"':
                quoted = not quoted
            elif not quoted:
                depth += (ch == "(") - (ch == ")")
                if depth < 0:
                    return text
        text = inner
    return text


def _string_literal(expr: str) -> str | None:
    if len(expr) >= 2 and expr[0] == '"' and expr[-1] == '"' and '"' not in \
            expr[1:-1].replace('""', ""):
        return expr[1:-1].replace('""', '"')
    return None


class _Anchor:
    """A block's top-left cell, from which cells inside are addressed with its own ``$``."""

    def __init__(self, expr: str):
        self.expr = expr
        match = _A1_BLOCK.match(expr)
        try:  # first row, first column, last row, last column
            self.bounds = parse_range(match["range"]) if match else None
        except ValueError:  # past the sheet's last row or column: not a cell range
            self.bounds = None
        self.match = match if self.bounds else None

    @property
    def shape(self) -> tuple[int, int] | None:
        if self.bounds is None:
            return None
        r1, c1, r2, c2 = self.bounds
        return r2 - r1 + 1, c2 - c1 + 1

    def _a1(self, at: tuple[int, int]) -> str:
        m = self.match
        row, col = self.bounds[0], self.bounds[1]
        return f"{m['c1']}{column_letter(col + at[1])}{m['r1']}{row + at[0]}"

    def cell(self, at: tuple[int, int]) -> str:
        if self.match is None:
            return f"INDEX({self.expr},{at[0] + 1},{at[1] + 1})"
        return f"{self.match['sheet'] or ''}{self._a1(at)}"

    def span(self, cells: tuple[tuple[int, int], ...]) -> str:
        if self.match is None:
            raise NoTranslation("CVP_WORDEQ", f"per-customer values need a cell range, not "
                                              f"{self.expr}")
        return f"{self.match['sheet'] or ''}{self._a1(cells[0])}:{self._a1(cells[-1])}"


def _read(cells: CellReader, expr: str, what: str) -> list[list]:
    try:
        return _block(cells(expr))
    except LookupError as exc:
        raise NoTranslation("CVP_WORDEQ", f"cannot read the {what} at {expr}: {exc}") from None


def native_wordeq(equation: str, names: str, values: str | None = None, *,
                  cells: CellReader) -> str:
    """The native formula (without ``=``) for ``CVP_WORDEQ(equation, names, values)``.

    Parameters
    ----------
    equation, names, values : str
        The call's argument expressions: a reference (or a string literal, for the equation).
    cells : callable
        Reads the rows of values at a reference (see :data:`cvp_xl.registry.CellReader`).

    Returns
    -------
    str
        The equation's arithmetic over the value cells, such as ``($C$3-$C$4)*$C$5*$C$6``.

    Raises
    ------
    NoTranslation
        With the reason: the cells cannot be read, the equation does not parse or names a
        quantity not in ``names``, the shapes do not pair, or a per-customer call uses MIN
        or MAX.

    Examples
    --------
    >>> book = {"A1": [["Savings = (Before - After) x Price"]],
    ...         "Inputs!B3:C5": [["Before", 10], ["After", 4], ["Price", 2.5]]}
    >>> native_wordeq("A1", "Inputs!B3:C5", cells=book.__getitem__)
    '(Inputs!C3-Inputs!C4)*Inputs!C5'
    """
    literal = _string_literal(_unwrap(equation))
    equation_cells = None if literal is not None else _read(cells, _unwrap(equation), "equation")
    names_expr = _unwrap(names)
    names_block = _read(cells, names_expr, "names")
    values_anchor = None
    values_shape = None
    if values is not None:
        values_anchor = _Anchor(_unwrap(values))
        values_shape = values_anchor.shape or _shape(_read(cells, values_anchor.expr, "values"))
    try:
        text = literal if literal is not None else _equation_text(equation_cells)
        plan = _plan(_shape(names_block), values_shape)
        texts = texts_of([_cell(names_block, at) for at in plan.names], "names")
        parsed = wordeq.parse(text, texts)
        formula = parsed.to_formula({name: f"_cvpq{i}_" for i, name in enumerate(texts)})
    except CvpError as exc:
        raise NoTranslation("CVP_WORDEQ", str(exc)) from None
    if plan.values and plan.values[0][0][1] < 0:  # a single name and no value at all
        raise NoTranslation("CVP_WORDEQ", "there is no value cell for the name")
    anchor = _Anchor(names_expr) if plan.table else values_anchor
    if plan.result == "one":
        refs = [anchor.cell(at[0]) for at in plan.values]
    else:
        if re.search(r"\b(?:MIN|MAX)\(", formula):
            raise NoTranslation("CVP_WORDEQ", "MIN and MAX over per-customer ranges would take "
                                              "the smallest or largest of all customers at once")
        refs = [anchor.span(at) for at in plan.values]
    native = _PLACEHOLDER.sub(lambda m: refs[int(m[1])], formula)[1:]
    if len(native) + 1 > MAX_FORMULA:
        raise NoTranslation("CVP_WORDEQ", f"the formula would be longer than Excel's "
                                          f"{MAX_FORMULA:,} characters")
    return native


# -- registry entries --------------------------------------------------------------------------

DOWNTIME = ("Savings from fewer unplanned stops per year = "
            "(Unplanned stops per year with the alternative - Unplanned stops per year with ours)"
            " x Hours lost per stop x Contribution margin lost per hour")
DOWNTIME_NAMES = [["Unplanned stops per year with the alternative"],
                  ["Unplanned stops per year with ours"], ["Hours lost per stop"],
                  ["Contribution margin lost per hour"]]
DOWNTIME_UNITS = [["stops/year"], ["stops/year"], ["hours/stop"], ["USD/hour"]]
ENERGY = ("Energy cost savings per year = (Electricity used per year with the alternative "
          "− Electricity used per year with ours) × Electricity price")
ENERGY_NAMES = [["Electricity used per year with the alternative",
                 "Electricity used per year with ours", "Electricity price"]]
LABOUR = "Labour savings = Technician hours per year × 15% × Loaded labour cost per hour"
LABOUR_NAMES = [["Technician hours per year"], ["Loaded labour cost per hour"]]
UNIT_COST = "Cost per unit = Annual cost of the line / Units produced per year"
UNIT_COST_NAMES = [["Annual cost of the line"], ["Units produced per year"]]

register(Function(
    name="CVP_WORDEQ",
    func=cvp_wordeq,
    description=(
        "Computes a value word equation, such as 'Savings = (Stops before - Stops after) x "
        "Hours lost per stop x Cost per hour', from names and values; one column of values "
        "per customer gives a row of results."
    ),
    category=CATEGORY,
    args=(
        Argument("equation", "The word equation: quantities named in words, + - x / ^ ( ), "
                             "numbers, 15%, MIN MAX ABS ROUND", kind="text"),
        Argument("names", "The quantities' names (or a table: names, then values)",
                 kind="range"),
        Argument("values", "The value of each name, same size; or one column per customer",
                 kind="range", optional=True),
    ),
    native=native_wordeq,
    native_reads_cells=True,
    examples=(
        Example((DOWNTIME, DOWNTIME_NAMES, [[12], [4], [6], [1500]]), 72000.0,
                "DOMAIN.md §4 downtime equation, figures composed for this example; hand: "
                "(12 - 4) x 6 x 1500 = 8 x 9000 = 72000"),
        Example((DOWNTIME, [[n[0], v] for n, v in zip(DOWNTIME_NAMES, [12, 4, 6, 1500])]),
                72000.0, "two-column table (names, values), values omitted; hand: "
                         "(12 - 4) x 6 x 1500 = 72000"),
        Example((DOWNTIME, DOWNTIME_NAMES, [[12, 10, 8], [4, 4, 8], [6, 5, 6],
                                            [1500, 1200, 1500]]),
                [[72000.0, 36000.0, 0.0]],
                "one column per customer; hand: (12-4) x 6 x 1500 = 72000; "
                "(10-4) x 5 x 1200 = 36000; (8-8) x 6 x 1500 = 0"),
        Example((ENERGY, ENERGY_NAMES, [[250000, 200000, 0.12], [180000, 150000, 0.10]]),
                [[(250000 - 200000) * 0.12], [(180000 - 150000) * 0.10]],
                "names in a row, one row per customer; hand: 50000 kWh x 0.12 = 6000; "
                "30000 kWh x 0.10 = 3000 (in binary floating point)"),
        Example((LABOUR, LABOUR_NAMES, [[2000], [45]]), 2000 * 0.15 * 45,
                "hand: 2000 h x 15% x 45 USD/h = 13500 (15% read as 0.15)"),
        Example(("Loss = Hours lost per stop × Cost per hour downtime",
                 [["Hours lost per stop"], ["Cost per hour of downtime"]], [[6], [1500]]),
                "#NAME?", "a misspelt quantity is named, with the closest known name",
                message="unknown quantity 'Cost per hour downtime'; "
                        "did you mean 'Cost per hour of downtime'?",
                native=False, native_note=UNTRANSLATABLE),
        Example((DOWNTIME, DOWNTIME_NAMES, [[12], [4], [None], [1500]]), "#VALUE!",
                "a blank value is refused, not read as 0",
                message="'Hours lost per stop' is blank; expected a number",
                native=False, native_note=BLANK_NOTE),
        Example((DOWNTIME, DOWNTIME_NAMES, [[12], [4], ["six"], [1500]]), "#VALUE!",
                "text is not a number, even in words",
                message="'Hours lost per stop': expected a number, got 'six'"),
        Example(("Savings = (Stops before - Stops after × Cost per stop",
                 [["Stops before"], ["Stops after"], ["Cost per stop"]], [[12], [4], [900]]),
                "#VALUE!", "the '(' at position 11 is never closed",
                message="unbalanced parenthesis at position 11: '(' is never closed",
                native=False, native_note=UNTRANSLATABLE),
        Example((UNIT_COST, UNIT_COST_NAMES, [[250000], [0]]), "#DIV/0!",
                "no units produced: the cost per unit is undefined",
                message="division by zero: 'Units produced per year' is 0"),
        Example((DOWNTIME, DOWNTIME_NAMES, [[12], [4], [6]]), "#VALUE!",
                "4 names cannot be paired with 3 values",
                message="names has 4 items but values has 3; give one value per name, or one "
                        "column per customer with a value for each name",
                native=False, native_note=UNTRANSLATABLE),
        Example((DOWNTIME, DOWNTIME_NAMES), "#VALUE!",
                "values omitted, and names is a single column, not a table",
                message="values is missing: give values of the same size as names, or names "
                        "as a table with the names in its first column and the values in the "
                        "next",
                native=False, native_note=UNTRANSLATABLE),
        Example((DOWNTIME, DOWNTIME_NAMES, [[12, 10], [4, 4], [6, None], [1500, 1200]]),
                "#VALUE!", "per customer, the message names the customer's item",
                message="'Hours lost per stop' is blank at item 2; expected a number",
                native=False, native_note=BLANK_NOTE),
    ),
))

register(Function(
    name="CVP_WORDEQ_UNIT",
    func=cvp_wordeq_unit,
    description=(
        "Unit of a value word equation's result, such as USD/year from stops/year x "
        "hours/stop x USD/hour; an error naming the term where unlike units are added or "
        "subtracted."
    ),
    category=CATEGORY,
    args=(
        Argument("equation", "The word equation (as for CVP_WORDEQ)", kind="text"),
        Argument("names", "The quantities' names (or a table: names, then units)",
                 kind="range"),
        Argument("units", "The unit of each name, same size (stops/year, USD/hour, %; blank: "
                          "none); omit it for a table of names and units", kind="range",
                 optional=True),
    ),
    returns="text",
    examples=(
        Example((DOWNTIME, DOWNTIME_NAMES, DOWNTIME_UNITS), "USD/year",
                "DOMAIN.md §4; hand: stops/year x hours/stop x USD/hour = USD/year "
                "(stops and hours cancel)"),
        Example((ENERGY, ENERGY_NAMES, [["kWh/year", "kWh per year", "USD/kWh"]]), "USD/year",
                "hand: kWh/year x USD/kWh = USD/year"),
        Example((LABOUR, LABOUR_NAMES, [["hours/year"], ["USD/hour"]]), "USD/year",
                "hand: hours/year x 15% (a pure number) x USD/hour = USD/year"),
        Example(("(Unplanned stops per year with the alternative - Hours lost per stop) "
                 "x Contribution margin lost per hour", DOWNTIME_NAMES, DOWNTIME_UNITS),
                "#VALUE!", "stops per year cannot be subtracted from hours per stop",
                message="cannot subtract 'Hours lost per stop' (hour/stop) from 'Unplanned "
                        "stops per year with the alternative' (stop/year)"),
        Example((DOWNTIME, DOWNTIME_NAMES, [["stops/year"], ["stops/year"], ["hours/stop"]]),
                "#VALUE!", "4 names cannot be paired with 3 units",
                message="names has 4 items but units has 3; give one unit per name"),
        Example(("Loss = Hours lost per stop × Cost per hour downtime",
                 [["Hours lost per stop"], ["Cost per hour of downtime"]],
                 [["hours/stop"], ["USD/hour"]]),
                "#NAME?", "a misspelt quantity is named, with the closest known name",
                message="unknown quantity 'Cost per hour downtime'; "
                        "did you mean 'Cost per hour of downtime'?"),
    ),
))
