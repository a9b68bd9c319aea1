"""The fundamental value equation and the measures built on it.

Definitions follow DOMAIN.md §1 and §4 (Anderson, Narus and van Rossum,
"Customer Value Propositions in Business Markets", HBR 2006).  Every
function takes numbers or ranges (lists of lists, numpy arrays) and raises a
:class:`~cvp_xl.errors.CvpError` that names the argument on bad input.
"""

from __future__ import annotations

import numpy as np

from cvp_xl.args import (
    as_result,
    broadcast,
    number,
    numbers_of,
    same_length,
    texts_of,
)
from cvp_xl.errors import CvpDivZeroError, CvpNAError, CvpNumError

__all__ = ["differential", "incentive", "next_best", "breakeven_price", "roi", "payback"]


def differential(value_s, price_s, value_a, price_a):
    """The customer's value differential against the next best alternative.

    ``differential = (value_s - price_s) - (value_a - price_a)``

    The customer buys only when it is positive.  Ranges of one shape are
    computed element by element; a single number is used for every element.

    Parameters
    ----------
    value_s, price_s : number or range
        Value and price of the supplier's offering.
    value_a, price_a : number or range
        Value and price of the next best alternative.

    Examples
    --------
    >>> differential(1000, 600, 700, 450)
    150.0
    >>> differential([[1000], [800]], 600, 700, 450)
    array([[150.],
           [-50.]])
    """
    (vs, ps, va, pa), shape = broadcast(value_s=value_s, price_s=price_s, value_a=value_a,
                                        price_a=price_a)
    return as_result((vs - ps) - (va - pa), shape)


def incentive(value, price):
    """The customer's incentive to buy an offering: ``value - price``.

    >>> incentive(1000, 600)
    400.0
    """
    (v, p), shape = broadcast(value=value, price=price)
    return as_result(v - p, shape)


def next_best(names, values, prices):
    """The name of the alternative with the largest incentive ``value - price``.

    The first one wins a tie (reading the ranges row by row).

    >>> next_best(["Status quo", "Rival A", "Make in-house"], [0, 900, 700], [0, 500, 250])
    'Make in-house'
    """
    labels = texts_of(names, "names")
    vals = np.atleast_1d(numbers_of(values, "values")).ravel()
    pris = np.atleast_1d(numbers_of(prices, "prices")).ravel()
    same_length(("names", labels), ("values", vals), ("prices", pris))
    return labels[int(np.argmax(vals - pris))]


def breakeven_price(value_s, value_a, price_a):
    """The price at which the customer is indifferent (relative worth).

    ``price_s* = price_a + (value_s - value_a)`` — customervaluecenter.org,
    "relative worth".

    >>> breakeven_price(1000, 700, 450)
    750.0
    """
    (vs, va, pa), shape = broadcast(value_s=value_s, value_a=value_a, price_a=price_a)
    return as_result(pa + (vs - va), shape)


def roi(benefit, cost):
    """Return on investment: ``(benefit - cost) / cost``, as a fraction.

    A benefit of 200,000 on a cost of 50,000 gives 3.0, i.e. 300 %
    (prezentor.com, "How to build and use ROI calculators in sales").

    >>> roi(200_000, 50_000)
    3.0
    """
    (b, c), shape = broadcast(benefit=benefit, cost=cost)
    if np.any(np.asarray(c) == 0):
        raise CvpDivZeroError("cost: is 0; ROI = (benefit - cost) / cost needs a non-zero cost")
    return as_result((b - c) / c, shape)


def payback(investment, cash_flows):
    """Periods until the cumulative cash flow first covers the investment.

    The investment is paid at time 0; ``cash_flows`` are the net flows of
    periods 1, 2, ... (a range read row by row).  Within the period in which
    the cumulative flow turns non-negative the time is interpolated
    linearly: ``payback = (k - 1) + still_open_after_k-1 / cash_flow_k``.

    With nothing invested the payback is 0 when the first non-zero flow is positive; when it
    is negative the cumulative flow goes below zero first, and the payback is the time it
    takes to come back.  Raises ``#N/A`` when the cumulative flow never turns positive,
    whatever the investment (DOMAIN: "none when it never turns").

    >>> payback(1000, [400, 400, 400])
    2.5
    >>> payback(0, [100])
    0.0
    >>> payback(0, [-50, 100])
    1.5
    """
    inv = number(investment, "investment")
    if inv < 0:
        raise CvpNumError(
            f"investment: expected an amount of 0 or more (paid at time 0), got {inv:g}"
        )
    flows = np.atleast_1d(numbers_of(cash_flows, "cash_flows")).ravel().tolist()
    if inv == 0 and next((f for f in flows if f != 0), 0.0) > 0:
        return 0.0
    cumulative = -inv
    for k, flow in enumerate(flows, start=1):
        after = cumulative + flow
        if after >= 0 and cumulative < 0:
            return float((k - 1) + (-cumulative) / flow)
        cumulative = after
    raise CvpNAError(
        f"payback not reached: cumulative cash flow after {len(flows)} "
        f"period{'s' * (len(flows) != 1)} is {cumulative:,.10g}"
    )
