"""Value-based pricing and positioning: EVE, price range, points of difference, value map.

Definitions follow DOMAIN.md §2, §3 and §5: economic value estimation
(Nagle and Holden, *The Strategy and Tactics of Pricing*), points of parity,
difference and contention and the resonating focus (Anderson, Narus and van
Rossum, HBR 2006), and the customer value map (Bradley T. Gale, *Managing
Customer Value*, 1994).  Every function takes numbers or ranges (lists of
lists, numpy arrays) and raises a :class:`~cvp_xl.errors.CvpError` that
names the argument, and the item of a range, on bad input.

Conventions, chosen where the definitions leave a choice:

- Money amounts that are prices (a reference value, a price, an economic
  value used as a price ceiling) are 0 or more; a negative one is ``#NUM!``.
- Negative differentiation value is entered as *positive* amounts that are
  subtracted; a negative amount in either list of :func:`eve` is ``#NUM!``.
- In the lists of differentiation values a blank cell means "none" and is
  skipped, as Excel's ``SUM`` skips it.  Everywhere else a blank is an error.
- A capture share below 0 (price below the reference value) or above 1
  (price above the economic value) is returned as it is, not refused: it is
  a finding about the price, not bad input (see :func:`value_capture`).
"""

from __future__ import annotations

import numpy as np

from cvp_xl.args import broadcast, describe, flat, number, numbers_of, same_length
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
    "reference_value",
    "eve",
    "price_range",
    "value_capture",
    "price_for_share",
    "point_type",
    "resonating_focus",
    "value_map",
    "relative_price",
    "fair_value_gap",
]

#: The four classes of a value element, as :func:`point_type` names them.
POINT_TYPES = ("parity", "favorable difference", "unfavorable difference", "contention")


def _amount(x: float) -> str:
    """A number as it reads in a message: up to 10 significant digits, thousands separated."""
    return f"{x:,.10g}"


def _out(result, shape):
    return float(result) if shape is None else result


def _label(name: str, arr, k: int) -> str:
    """``name`` or ``name (item k)`` when the argument is a range computed element by element."""
    return f"{name} (item {k + 1})" if isinstance(arr, np.ndarray) else name


def _at(arr, k: int) -> float:
    return float(arr.ravel()[k]) if isinstance(arr, np.ndarray) else float(arr)


def _first(mask, shape) -> int | None:
    """Index (reading order) of the first True of a mask broadcast to ``shape``, or None."""
    flat_mask = np.broadcast_to(mask, shape if shape is not None else ()).ravel()
    hits = np.flatnonzero(flat_mask)
    return int(hits[0]) if hits.size else None


def _not_negative(arr, name: str, shape, what: str) -> None:
    k = _first(np.asarray(arr) < 0, shape)
    if k is not None:
        raise CvpNumError(f"{_label(name, arr, k)}: expected {what}, got {_amount(_at(arr, k))}")


def _reference_ok(ref, shape) -> None:
    _not_negative(ref, "reference_value", shape,
                  "0 or more (the next best alternative's price in our units)")


def _range_ok(ref, eco, shape) -> None:
    """The economic value must not lie below the reference value."""
    k = _first(np.asarray(eco) < np.asarray(ref), shape)
    if k is not None:
        raise CvpNumError(
            f"{_label('economic_value', eco, k)}: {_amount(_at(eco, k))} is below "
            f"{_label('reference_value', ref, k)} {_amount(_at(ref, k))}; the net "
            "differentiation value is negative, so there is no value-based price range"
        )


def reference_value(alternative_price, alternative_units_per_unit):
    """The reference value: the next best alternative's price in our offering's units.

    ``reference_value = alternative_price * alternative_units_per_unit``

    Unit equivalence (DOMAIN.md §5): one unit of our offering does the work of
    ``alternative_units_per_unit`` units of the alternative.  Ranges of one
    shape are computed element by element.

    Parameters
    ----------
    alternative_price : number or range
        Price of one unit of the next best alternative (0 or more).
    alternative_units_per_unit : number or range
        How many units of the alternative one unit of ours replaces (above 0).

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    One super towel replaces three conventional towels at $0.02 each, so the
    reference value per super towel is $0.06 (LeveragePoint, "Prices as
    Quoted" chart help):

    >>> round(reference_value(0.02, 3), 12)
    0.06
    >>> reference_value(0.02, 0)
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpNumError: #NUM! alternative_units_per_unit: expected more than 0 \
(units of the alternative that one unit of ours replaces), got 0
    """
    (price, units), shape = broadcast(alternative_price=alternative_price,
                                      alternative_units_per_unit=alternative_units_per_unit)
    _not_negative(price, "alternative_price", shape, "a price of 0 or more")
    k = _first(np.asarray(units) <= 0, shape)
    if k is not None:
        raise CvpNumError(
            f"{_label('alternative_units_per_unit', units, k)}: expected more than 0 (units of "
            f"the alternative that one unit of ours replaces), got {_amount(_at(units, k))}"
        )
    return _out(price * units, shape)


def _amounts(values, name: str) -> list[float]:
    """The non-blank amounts of a list of differentiation values; each 0 or more."""
    cells = flat(values)
    out = []
    for i, v in enumerate(cells, start=1):
        if v is None:
            continue  # a blank means "none", as SUM skips it
        item = i if len(cells) > 1 else None
        x = number(v, name, item)
        if x < 0:
            where = name if item is None else f"{name} (item {item})"
            if name == "negative_values":
                raise CvpNumError(
                    f"{where}: is {_amount(x)}; enter negative differentiation value as a "
                    "positive amount (it is subtracted)"
                )
            raise CvpNumError(
                f"{where}: is {_amount(x)}; enter negative differentiation value as a "
                "positive amount in negative_values"
            )
        out.append(x)
    return out


def eve(reference_value, positive_values, negative_values):
    """Total economic value (economic value estimation, Nagle and Holden).

    ``economic_value = reference_value + sum(positive_values) - sum(negative_values)``

    Negative differentiation value is entered as positive amounts, which are
    subtracted; a negative amount in either list is ``#NUM!``.  Blank cells
    in the lists are skipped (a blank means "none", as ``SUM`` reads it).

    Parameters
    ----------
    reference_value : number
        The next best alternative's price in our units (0 or more).
    positive_values : number or range
        Positive differentiation values: what ours is worth more, in money (each 0 or more).
    negative_values : number or range
        Negative differentiation values, entered as positive amounts (each 0 or more).

    Returns
    -------
    float

    Examples
    --------
    >>> eve(100, [[30], [20]], [[15]])
    135.0
    >>> eve(100, [[30], [None]], [[-15]])
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpNumError: #NUM! negative_values: is -15; enter negative differentiation \
value as a positive amount (it is subtracted)
    """
    ref = number(reference_value, "reference_value")
    _reference_ok(ref, None)
    plus = _amounts(positive_values, "positive_values")
    minus = _amounts(negative_values, "negative_values")
    return float(ref + sum(plus) - sum(minus))


def price_range(reference_value, economic_value):
    """The value-based price range: floor and ceiling, as one row of two cells.

    ``[[floor, ceiling]] = [[reference_value, economic_value]]``

    At the floor the customer keeps all of the differentiation value; at the
    ceiling none of it.  An economic value below the reference value (negative
    net differentiation value) leaves no range and is ``#NUM!``.

    Parameters
    ----------
    reference_value : number
        The next best alternative's price in our units (0 or more).
    economic_value : number
        Total economic value of our offering (not below the reference value).

    Returns
    -------
    numpy.ndarray
        Shape (1, 2): floor, ceiling.

    Examples
    --------
    >>> price_range(100, 135)
    array([[100., 135.]])
    >>> price_range(100, 90)
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpNumError: #NUM! economic_value: 90 is below reference_value 100; the net \
differentiation value is negative, so there is no value-based price range
    """
    ref = number(reference_value, "reference_value")
    eco = number(economic_value, "economic_value")
    _reference_ok(ref, None)
    _range_ok(ref, eco, None)
    return np.array([[ref, eco]])


def value_capture(price, reference_value, economic_value):
    """The supplier's share of the differentiation value captured in the price.

    ``capture = (price - reference_value) / (economic_value - reference_value)``

    The rest, ``1 - capture``, is the customer's share: its incentive to
    switch, ``economic_value - price``, over the differentiation value.

    A price outside the range is not an error; the share says what it means:

    - below 0 (price below the reference value): the supplier gives away more
      than all of the differentiation value, and undercuts the alternative;
    - above 1 (price above the economic value): the customer's incentive is
      negative, so a customer who knows the figures buys the alternative.

    Ranges of one shape are computed element by element.

    Parameters
    ----------
    price : number or range
        Our price (0 or more).
    reference_value : number or range
        The next best alternative's price in our units (0 or more).
    economic_value : number or range
        Total economic value of our offering (above the reference value).

    Returns
    -------
    float or numpy.ndarray
        A fraction; format the cell as a percentage.

    Examples
    --------
    >>> value_capture(121, 100, 135)
    0.6
    >>> value_capture(90, 100, 135)  # below the floor: the customer gets 10 more than all
    -0.2857142857142857
    >>> value_capture(120, 100, 100)
    Traceback (most recent call last):
    ...
    cvp_xl.errors.CvpDivZeroError: #DIV/0! economic_value: equals reference_value (100); with \
no differentiation value there is no share to capture
    """
    (p, ref, eco), shape = broadcast(price=price, reference_value=reference_value,
                                     economic_value=economic_value)
    _not_negative(p, "price", shape, "a price of 0 or more")
    _reference_ok(ref, shape)
    _range_ok(ref, eco, shape)
    k = _first(np.asarray(eco) == np.asarray(ref), shape)
    if k is not None:
        raise CvpDivZeroError(
            f"{_label('economic_value', eco, k)}: equals {_label('reference_value', ref, k)} "
            f"({_amount(_at(ref, k))}); with no differentiation value there is no share to "
            "capture"
        )
    return _out((p - ref) / (eco - ref), shape)


def price_for_share(reference_value, economic_value, customer_share):
    """The price that leaves the customer ``customer_share`` of the differentiation value.

    ``price = economic_value - customer_share * (economic_value - reference_value)``

    A share of 1 gives the floor (the reference value), 0 the ceiling (the
    economic value).  Ranges of one shape are computed element by element.

    Parameters
    ----------
    reference_value : number or range
        The next best alternative's price in our units (0 or more).
    economic_value : number or range
        Total economic value of our offering (not below the reference value).
    customer_share : number or range
        The customer's share of the differentiation value, from 0 to 1.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> price_for_share(100, 135, 0.4)
    121.0
    """
    (ref, eco, share), shape = broadcast(reference_value=reference_value,
                                         economic_value=economic_value,
                                         customer_share=customer_share)
    _reference_ok(ref, shape)
    _range_ok(ref, eco, shape)
    k = _first((np.asarray(share) < 0) | (np.asarray(share) > 1), shape)
    if k is not None:
        raise CvpNumError(
            f"{_label('customer_share', share, k)}: expected a share from 0 to 1 "
            f"(0.25 for 25 %), got {_amount(_at(share, k))}"
        )
    return _out(eco - share * (eco - ref), shape)


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
            f"got {_amount(tol)}"
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
        raise CvpNumError(f"n: expected a whole number of 1 or more, got {_amount(count)}")
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
                              f"got {_amount(arr[k])}")
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
    _not_negative(ps, "price_s", shape, "a price of 0 or more")
    _not_negative(pa, "price_a", shape, "a price above 0")
    k = _first(np.asarray(pa) == 0, shape)
    if k is not None:
        raise CvpDivZeroError(
            f"{_label('price_a', pa, k)}: is 0; relative price = 100 x price_s / price_a "
            "needs a price above 0"
        )
    return _out(100 * ps / pa, shape)


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
    return _out(q - p, shape)
