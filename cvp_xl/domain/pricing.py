"""Value-based pricing: reference value, EVE, price range, value capture.

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

from cvp_xl.args import (
    amount_text,
    as_result,
    broadcast,
    first_item,
    flat,
    item_at,
    item_label,
    not_negative,
    number,
)
from cvp_xl.errors import (
    CvpDivZeroError,
    CvpNumError,
)

__all__ = [
    "reference_value",
    "eve",
    "price_range",
    "value_capture",
    "price_for_share",
]

def _reference_ok(ref, shape) -> None:
    not_negative(ref, "reference_value", shape,
                  "0 or more (the next best alternative's price in our units)")


def _range_ok(ref, eco, shape) -> None:
    """The economic value must not lie below the reference value."""
    k = first_item(np.asarray(eco) < np.asarray(ref), shape)
    if k is not None:
        raise CvpNumError(
            f"{item_label('economic_value', eco, k)}: {amount_text(item_at(eco, k))} is below "
            f"{item_label('reference_value', ref, k)} {amount_text(item_at(ref, k))}; the net "
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
    not_negative(price, "alternative_price", shape, "a price of 0 or more")
    k = first_item(np.asarray(units) <= 0, shape)
    if k is not None:
        raise CvpNumError(
            f"{item_label('alternative_units_per_unit', units, k)}: expected more than 0 (units of "
            f"the alternative that one unit of ours replaces), got {amount_text(item_at(units, k))}"
        )
    return as_result(price * units, shape)


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
                    f"{where}: is {amount_text(x)}; enter negative differentiation value as a "
                    "positive amount (it is subtracted)"
                )
            raise CvpNumError(
                f"{where}: is {amount_text(x)}; enter negative differentiation value as a "
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
    not_negative(p, "price", shape, "a price of 0 or more")
    _reference_ok(ref, shape)
    _range_ok(ref, eco, shape)
    k = first_item(np.asarray(eco) == np.asarray(ref), shape)
    if k is not None:
        raise CvpDivZeroError(
            f"{item_label('economic_value', eco, k)}: equals "
            f"{item_label('reference_value', ref, k)} "
            f"({amount_text(item_at(ref, k))}); with no differentiation value there is no share to "
            "capture"
        )
    return as_result((p - ref) / (eco - ref), shape)


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
    k = first_item((np.asarray(share) < 0) | (np.asarray(share) > 1), shape)
    if k is not None:
        raise CvpNumError(
            f"{item_label('customer_share', share, k)}: expected a share from 0 to 1 "
            f"(0.25 for 25 %), got {amount_text(item_at(share, k))}"
        )
    return as_result(eco - share * (eco - ref), shape)
