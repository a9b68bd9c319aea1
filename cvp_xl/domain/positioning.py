"""Positioning: points of parity, difference and contention, resonating focus, value map.

Definitions follow DOMAIN.md §2 and §3: points of parity, difference and contention and the
resonating focus (Anderson, Narus and van Rossum, HBR 2006), and the customer value map
(Bradley T. Gale, *Managing Customer Value*, 1994).  Every function takes numbers or ranges
(lists of lists, numpy arrays) and raises a :class:`~cvp_xl.errors.CvpError` that names the
argument, and the item of a range, on bad input.
"""

from __future__ import annotations

import numpy as np

from cvp_xl.args import (
    amount_text,
    as_result,
    broadcast,
    describe,
    first_item,
    flat,
    item_label,
    not_negative,
    number,
    numbers_of,
    same_length,
)
from cvp_xl.errors import (
    CvpDivZeroError,
    CvpNAError,
    CvpNumError,
    CvpValueError,
    ErrorValue,
    error_for_code,
)

__all__ = [
    "POINT_TYPES",
    "point_type",
    "resonating_focus",
    "value_map",
    "relative_price",
    "fair_value_gap",
]

POINT_TYPES = ("parity", "favorable difference", "unfavorable difference", "contention")


def _side(view: float, tolerance: float) -> int:
    """-1 unfavorable, 0 parity, +1 favorable."""
    if abs(view) <= tolerance:
        return 0
    return 1 if view > 0 else -1


_CLASS = {0: "parity", 1: "favorable difference", -1: "unfavorable difference"}


def point_type(supplier_view, customer_view, tolerance):
    """Classify one value element: parity, favorable or unfavorable difference, or contention.

    Each view is ours minus the next best alternative's on the element, in
    money, positive when ours is better for the customer.  A view whose
    absolute value is at most ``tolerance`` is parity; above it a favorable
    difference; below ``-tolerance`` an unfavorable difference.  When the
    supplier's and the customer's views fall in the same class that is the
    answer; when they differ the element is a point of ``contention``.

    Parameters
    ----------
    supplier_view : number
        Ours minus the alternative's, as the supplier sees it, in money.
    customer_view : number
        Ours minus the alternative's, as the customer sees it, in money.
    tolerance : number
        The largest difference still counted as parity (0 or more).

    Returns
    -------
    str
        One of :data:`POINT_TYPES`.

    Examples
    --------
    >>> point_type(5000, 4000, 500)
    'favorable difference'
    >>> point_type(5000, 300, 500)
    'contention'
    >>> point_type(-200, 400, 500)
    'parity'
    """
    s = number(supplier_view, "supplier_view")
    c = number(customer_view, "customer_view")
    tol = number(tolerance, "tolerance")
    if tol < 0:
        raise CvpNumError(
            f"tolerance: expected 0 or more (the largest difference still counted as parity), "
            f"got {amount_text(tol)}"
        )
    side_s, side_c = _side(s, tol), _side(c, tol)
    return _CLASS[side_s] if side_s == side_c else "contention"


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _name(v, where: str) -> str:
    if isinstance(v, ErrorValue):
        raise error_for_code(v.code, f"{where}: the input is the error {v.code}")
    if _blank(v):
        raise CvpValueError(f"{where}: expected a name, got a blank cell")
    if isinstance(v, (bool, np.bool_)):
        raise CvpValueError(f"{where}: expected a name, got {describe(v)}")
    return v if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v)


def _type(v, where: str) -> str:
    if isinstance(v, ErrorValue):
        raise error_for_code(v.code, f"{where}: the input is the error {v.code}")
    text = v.strip().lower() if isinstance(v, str) else None
    if text not in POINT_TYPES:
        raise CvpValueError(
            f"{where}: expected parity, favorable difference, unfavorable difference or "
            f"contention, got {describe(v)}"
        )
    return text


def resonating_focus(names, values, types=None, n=2):
    """The ``n`` favorable points of difference of greatest value, largest first.

    Candidates are the elements whose value is above 0 and, when ``types`` is
    given, whose type is ``favorable difference`` (as :func:`point_type`
    names it; case and surrounding blanks ignored).  They are ranked by value,
    largest first; on a tie the one listed first wins.  A row whose name,
    value and type are all blank is skipped, so a range may include empty
    rows for elements still to come.

    Parameters
    ----------
    names : range
        Names of the value elements.
    values : range
        Value of each element to the customer, in money (the customer's view).
    types : range, optional
        Point type of each element.  Without it (or with a single blank cell)
        every element of positive value counts as a favorable point of
        difference.
    n : number, optional
        How many points to return (a whole number, 1 or more; default 2).

    Returns
    -------
    list of list of str
        A column of ``n`` names.

    Raises
    ------
    CvpNAError
        Fewer than ``n`` candidates: ``#N/A`` with the count.

    Examples
    --------
    >>> resonating_focus(["Uptime", "Energy", "Training"], [5000, 3200, 800])
    [['Uptime'], ['Energy']]
    >>> resonating_focus(["Uptime", "Energy"], [5000, 3200],
    ...                  ["favorable difference", "contention"], 2)
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpNAError: #N/A n: asks for 2 favorable points of difference but there is \
only 1 (typed favorable difference, value above 0)
    """
    name_cells = flat(names)
    value_cells = flat(values)
    type_cells = None if types is None else flat(types)
    same_length(("names", name_cells), ("values", value_cells),
                *([("types", type_cells)] if type_cells is not None else []))
    count = 2 if n is None else number(n, "n")
    if count < 1 or count != int(count):
        raise CvpNumError(f"n: expected a whole number of 1 or more, got {amount_text(count)}")
    count = int(count)
    several = len(name_cells) > 1
    candidates = []
    for i, (label, v) in enumerate(zip(name_cells, value_cells)):
        kind = type_cells[i] if type_cells is not None else None
        if _blank(label) and v is None and _blank(kind):
            continue
        item = i + 1 if several else None

        def where(arg, item=item):
            return arg if item is None else f"{arg} (item {item})"

        text = _name(label, where("names"))
        x = number(v, "values", item)
        favorable = type_cells is None or _type(kind, where("types")) == "favorable difference"
        if favorable and x > 0:
            candidates.append((-x, i, text))
    if count > len(candidates):
        k = len(candidates)
        rule = "typed favorable difference, value above 0" if types is not None else \
            "value above 0"
        raise CvpNAError(
            f"n: asks for {count} favorable points of difference but there "
            f"{'is' if k == 1 else 'are'} only {k} ({rule})"
        )
    candidates.sort()
    return [[text] for _, _, text in candidates[:count]]


def _items(value, name: str) -> np.ndarray:
    return np.atleast_1d(numbers_of(value, name)).ravel()


def _first_item(arr: np.ndarray, mask) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _where_item(name: str, arr: np.ndarray, k: int) -> str:
    return f"{name} (item {k + 1})" if arr.size > 1 else name


def value_map(weights, scores_s, scores_a):
    """Relative performance (quality) score on Gale's customer value map.

    ``score = sum_i (w_i * 100 / sum(w)) * (s_i / a_i)``

    The weights are normalised to sum to 100 by the rule
    ``w_i * 100 / sum(w)``, so weights that already sum to 100 are used as
    they are, and weights on any scale (1-5 ratings, say) give the same score
    as their rescaled form.  100 means parity with the competitor; above 100,
    ours performs better on what the customer weighs.

    Parameters
    ----------
    weights : range
        Importance weight of each attribute (each 0 or more, not all 0).
    scores_s : range
        Our performance score on each attribute (each 0 or more).
    scores_a : range
        The competitor's score on each attribute (each above 0).

    Returns
    -------
    float

    Examples
    --------
    Hand calculation: weights 40, 25, 20, 15; scores ours 8, 7, 9, 5 against
    6, 7, 6, 8: 40 * 8/6 + 25 * 7/7 + 20 * 9/6 + 15 * 5/8 = 53.333... + 25 +
    30 + 9.375 = 117.708333...

    >>> round(value_map([40, 25, 20, 15], [8, 7, 9, 5], [6, 7, 6, 8]), 9)
    117.708333333
    >>> value_map([4, 2], [8, 7], [6, 7]) == value_map([200, 100], [8, 7], [6, 7])
    True
    """
    w = _items(weights, "weights")
    s = _items(scores_s, "scores_s")
    a = _items(scores_a, "scores_a")
    same_length(("weights", w), ("scores_s", s), ("scores_a", a))
    for name, arr, what in (("weights", w, "an importance weight of 0 or more"),
                            ("scores_s", s, "a score of 0 or more"),
                            ("scores_a", a, "a score above 0")):
        k = _first_item(arr, arr < 0)
        if k is not None:
            raise CvpNumError(f"{_where_item(name, arr, k)}: expected {what}, "
                              f"got {amount_text(arr[k])}")
    total = float(np.sum(w))
    if total == 0:
        raise CvpDivZeroError(
            "weights: sum to 0; each weight is normalised as w_i x 100 / sum of weights, "
            "so at least one weight must be above 0"
        )
    k = _first_item(a, a == 0)
    if k is not None:
        raise CvpDivZeroError(
            f"{_where_item('scores_a', a, k)}: the competitor's score is 0; the relative "
            "score s_i / a_i needs a score above 0"
        )
    return float(np.sum(w * (s / a)) * 100 / total)


def relative_price(price_s, price_a):
    """Relative price on the customer value map: ``100 * price_s / price_a``.

    100 means the same price as the competitor.  Ranges of one shape are
    computed element by element.

    Parameters
    ----------
    price_s : number or range
        Our price (0 or more).
    price_a : number or range
        The competitor's price (above 0).

    Examples
    --------
    >>> relative_price(1080, 1200)
    90.0
    """
    (ps, pa), shape = broadcast(price_s=price_s, price_a=price_a)
    not_negative(ps, "price_s", shape, "a price of 0 or more")
    not_negative(pa, "price_a", shape, "a price above 0")
    k = first_item(np.asarray(pa) == 0, shape)
    if k is not None:
        raise CvpDivZeroError(
            f"{item_label('price_a', pa, k)}: is 0; relative price = 100 x price_s / price_a "
            "needs a price above 0"
        )
    return as_result(100 * ps / pa, shape)


def fair_value_gap(relative_quality, relative_price):
    """Position against the fair-value line of the customer value map.

    ``gap = relative_quality - relative_price``

    The fair-value line is the diagonal where relative quality equals relative
    price.  A positive gap puts the offering below and to the right of it
    (more quality for its price): better customer value; a negative gap,
    worse.  The gap is the vertical (and horizontal) distance from the line in
    score points; the perpendicular distance is ``gap / sqrt(2)``.  Ranges
    of one shape are computed element by element.

    Parameters
    ----------
    relative_quality : number or range
        Relative performance score (100 = parity), e.g. from :func:`value_map`.
    relative_price : number or range
        Relative price (100 = parity), e.g. from :func:`relative_price`.

    Examples
    --------
    >>> fair_value_gap(117.5, 90)
    27.5
    """
    (q, p), shape = broadcast(relative_quality=relative_quality, relative_price=relative_price)
    return as_result(q - p, shape)
