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

The package
-----------
This module is the API.  The work is done in ``parse`` (known names, the parser, the
limits), ``tree`` (the syntax tree), ``evaluate`` (numpy), ``formula`` (native Excel) and
``units`` (Pint, imported only when a unit is asked for).  Reading and evaluating load numpy
and the standard library only.  Here ``parse`` and ``evaluate`` are the functions, which hide
the modules of the same names: reach those with ``from cvp_xl.wordeq.parse import ...``
(``import cvp_xl.wordeq.parse as m`` gives the function).

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

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np  # noqa: F401 - the doctests use np and CvpNameError

from cvp_xl.errors import CvpNameError  # noqa: F401

from .evaluate import Number, _compile, _evaluate, _propagates
from .formula import _check_refs, _formula
from .parse import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    _check_names,
    _check_text,
    _name_index,
    _Parser,
    _unknown_quantity_error,
    _UnknownQuantityError,
)
from .tree import _Core
from .units import _unit, currency_and_period, is_money_per_period

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
    _check_text(equation)
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
        return _unit(self._core, self._names, units)

    def to_formula(self, refs: Mapping[str, str]) -> str:
        """A native Excel formula; see :func:`to_formula`.

        Examples
        --------
        >>> parse("-a^2", ["a"]).to_formula({"a": "Inputs!$C$4"})
        '=(-Inputs!$C$4)^2'
        """
        return _formula(self._core, self._names, refs)


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
    _check_refs(refs)
    return parse(equation, list(refs)).to_formula(refs)
