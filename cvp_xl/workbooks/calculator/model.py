"""The Python evaluation of a calculator spec, vectorised over customers.

This is the definition the workbook's native formulas must reproduce; the
builder writes both (formulas, and these numbers as cached values) and the
tests recompute the workbook in LibreOffice and the formulas engine to prove
they agree.

Definitions (all money over the horizon of ``H`` years unless "per year"):

- value of each element per year: its word equation, annualised (a value
  per month counts 12 times a year), halved in the conservative case;
- ``value_s = H * total value per year`` — our value, measured against the
  reference alternative (whose value is 0 by definition);
- ``price_x = one_time_x + H * recurring_x`` for the offering and each
  alternative (a make alternative: build cost + H * upkeep; the status quo: 0);
  ``value_j = H * (value_per_year_j - cost_per_year_j) - lost_j`` for each
  alternative, where ``cost_per_year_j`` is the ongoing cost of the problem a
  status quo leaves and ``lost_j = value_per_year_j * months_to_build_j / 12``
  the value a make alternative gives up until it is built (both 0 for a
  competitor; see :mod:`cvp_xl.workbooks.calculator.spec`);
- incentive ``= value - price``; the next best alternative is the one with
  the largest incentive (the first on ties);
- differential ``= incentive_s - incentive_nb`` (DOMAIN.md §1);
- break-even price ``= price_nb + (value_s - value_nb)``;
- ROI on the customer's extra spend: ``(benefit - cost) / cost`` with
  ``benefit = value_s - value_nb`` and ``cost = price_s - price_nb``; when
  ours costs no more (``cost <= 0``) ROI is not defined: NaN, and the note
  ``roi_note`` says why;
- cash flows of choosing ours over the next best: year 0
  ``-(one_time_s - one_time_nb - lost_nb)``, years 1..H ``(value per year -
  (value_per_year_nb - cost_per_year_nb)) - (recurring_s - recurring_nb)``:
  the value a make alternative loses while it is built counts once, in year
  0, like its build cost (the flows add up to the differential);
- payback in years (DOMAIN.md §4: the time until the cumulative net cash
  flow first reaches zero, linear within the year in which it turns; none
  when it never turns): with a year-0 outlay ``outlay`` and the same net flow
  ``yearly`` in every year, the cumulative flow ``-outlay + t * yearly``
  rises only when ``yearly > 0``; then payback is ``max(outlay, 0) /
  yearly`` (0 when nothing more is paid up front), and when that is later
  than the horizon there is none within it.  When ``yearly <= 0`` the
  cumulative flow never rises, whatever is paid up front, and there is no
  payback.  No payback is NaN, never text; ``payback_note`` says which case
  (``"never"`` or ``"not within H years"``, ``""`` when there is a payback);
- NPV at the discount rate: year-0 flow plus Excel's ``NPV(rate, years
  1..H)`` (Excel's convention: the first value is discounted one period).

Every result is a float (one customer) or a float array (many); the notes
are text (str, or an array of str): a number never becomes text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cvp_xl import wordeq
from cvp_xl.errors import CvpError, CvpValueError
from cvp_xl.workbooks.calculator.spec import CONSERVATIVE_FACTOR, PERIODS_PER_YEAR, SCENARIOS, Spec

__all__ = ["evaluate", "Results", "PERIODS_PER_YEAR", "annual_factor", "input_values",
           "payback", "NOT_DEFINED", "NEVER", "not_within"]

#: The note when ROI is not defined (ours costs no more than the next best).
NOT_DEFINED = "n/a: ours costs no more"
#: The note when the cumulative net cash flow never rises (no payback, whatever the horizon).
NEVER = "never"


def annual_factor(unit: str) -> float:
    """How many periods of this money-per-period unit make a year."""
    money = wordeq.currency_and_period(unit)
    if money is None or money[1] not in PERIODS_PER_YEAR:
        raise CvpValueError(f"unit '{unit}' is not money per year, quarter or month")
    return PERIODS_PER_YEAR[money[1]]


@dataclass
class Results:
    """Every number the calculator shows, as floats (one customer) or arrays (many)."""

    scenario: str
    inputs: dict           # input name -> value used in this scenario
    elements: dict         # element name -> value per year
    total_per_year: object
    value_s: object
    price_s: float
    alt_value: list        # per alternative, over the horizon
    alt_price: list
    alt_incentive: list
    next_best: object      # index into spec.alternatives (int or int array)
    incentive_s: object
    incentive_nb: object
    differential: object
    breakeven_price: object
    roi: object            # float (NaN when not defined: see roi_note)
    payback: object        # float in years (NaN when none: see payback_note)
    npv: object
    cash_flows: list       # years 0..H
    roi_note: object = ""      # "" or NOT_DEFINED
    payback_note: object = ""  # "", NEVER or not_within(H) (str, or an array of str)


def input_ranges(spec: Spec, given: Mapping[str, object] | None = None) -> dict:
    """Each input's (low, high) for these customers: the spec's range, widened to include a
    customer's own base value where it lies outside (so Low <= Base <= High always holds).

    """
    base = input_values(spec, "Base", given)
    out = {}
    for i in spec.inputs:
        b = base[i.name]
        if isinstance(b, np.ndarray):
            out[i.name] = (np.minimum(i.low, b), np.maximum(i.high, b))
        else:
            out[i.name] = (min(i.low, float(b)), max(i.high, float(b)))
    return out


def input_values(spec: Spec, scenario: str, given: Mapping[str, object] | None = None,
                 lowers: Mapping[str, object] | None = None) -> dict:
    """The value of each input in a scenario, ``given`` overriding the spec's base values.

    ``given`` maps input names to a number or an array (one value per customer).
    In the Low case each input sits at the end of its range that gives the
    lower total value, in the High case at the other end: ``lowers[name]`` is
    True where the input's ``low`` end is the one that lowers the value (see
    :func:`lowers_value`).
    """
    given = {" ".join(k.split()).casefold(): v for k, v in (given or {}).items()}
    out = {}
    for i in spec.inputs:
        base = given.get(" ".join(i.name.split()).casefold(), i.base)
        if scenario in ("Base", "Conservative"):
            out[i.name] = base
            continue
        if isinstance(base, np.ndarray):
            low, high = np.minimum(i.low, base), np.maximum(i.high, base)
        else:
            low, high = min(i.low, base), max(i.high, base)
        low_first = True if lowers is None else lowers[i.name]
        pick_low = low_first if scenario == "Low" else np.logical_not(low_first)
        if isinstance(pick_low, np.ndarray) or isinstance(base, np.ndarray):
            out[i.name] = np.where(pick_low, low, high)
        else:
            out[i.name] = low if pick_low else high
    return out


def lowers_value(sens: list[dict]) -> dict:
    """For each input, whether its ``low`` end gives the lower total value (ties: True)."""
    return {row["input"]: np.asarray(row["at_low"] <= row["at_high"]) if isinstance(
        row["at_low"], np.ndarray) else bool(row["at_low"] <= row["at_high"]) for row in sens}


def evaluate(spec: Spec, given: Mapping[str, object] | None = None,
             scenario: str = "Base") -> Results:
    """Evaluate the calculator for one scenario (inputs may be arrays: one value per customer)."""
    if scenario not in SCENARIOS:
        raise CvpValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    lowers = lowers_value(sensitivity(spec, given)) if scenario in ("Low", "High") else None
    values = input_values(spec, scenario, given, lowers)
    names = spec.input_names
    factor = CONSERVATIVE_FACTOR if scenario == "Conservative" else 1.0
    elements = {}
    for el in spec.elements:
        v = wordeq.evaluate(el.equation, names, [values[n] for n in names])
        elements[el.name] = v * annual_factor(el.unit) * factor
    total = sum(elements.values())
    h = spec.horizon_years
    value_s = total * h
    price_s = spec.offering.one_time + h * spec.offering.recurring
    alt_value = [a.net_value_per_year * h - a.lost_while_building for a in spec.alternatives]
    alt_price = [a.one_time + h * a.recurring for a in spec.alternatives]
    alt_incentive = [v - p for v, p in zip(alt_value, alt_price)]
    nb = int(np.argmax(alt_incentive))  # alternatives do not depend on customer inputs
    a_nb = spec.alternatives[nb]
    incentive_s = value_s - price_s
    differential = incentive_s - alt_incentive[nb]
    breakeven = alt_price[nb] + (value_s - alt_value[nb])
    benefit = value_s - alt_value[nb]
    cost = price_s - alt_price[nb]
    roi = (benefit - cost) / cost if cost > 0 else np.nan + 0 * benefit
    roi_note = "" if cost > 0 else NOT_DEFINED
    outlay = spec.offering.one_time - a_nb.one_time - a_nb.lost_while_building
    yearly = (total - a_nb.net_value_per_year) - (spec.offering.recurring - a_nb.recurring)
    years, note = payback(outlay, yearly, h)
    flows = [-outlay + 0 * total] + [yearly] * h
    rate = spec.discount_rate
    npv = flows[0] + sum(f / (1 + rate) ** t for t, f in enumerate(flows[1:], start=1))
    return Results(
        scenario=scenario, inputs=values, elements=elements, total_per_year=total,
        value_s=value_s, price_s=price_s, alt_value=alt_value, alt_price=alt_price,
        alt_incentive=alt_incentive, next_best=nb, incentive_s=incentive_s,
        incentive_nb=alt_incentive[nb], differential=differential, breakeven_price=breakeven,
        roi=roi, payback=years, npv=npv, cash_flows=flows, roi_note=roi_note,
        payback_note=note,
    )


def not_within(h: int) -> str:
    """The note when the payback is later than the horizon of ``h`` years."""
    return f"not within {h} year{'s' * (h != 1)}"


def payback(outlay, yearly, h: int):
    """Payback in years of a year-0 ``outlay`` followed by ``yearly`` net flows, and its note.

    The cumulative net cash flow is ``-outlay + t * yearly`` (linear within
    each year).  It first reaches zero from below at ``max(outlay, 0) /
    yearly`` when ``yearly > 0``; when ``yearly <= 0`` it never rises, and
    there is no payback whatever the outlay (DOMAIN.md §4).  A payback later
    than ``h`` years is none within the horizon.

    Parameters
    ----------
    outlay : float
        What choosing ours costs more up front (negative when it costs less).
    yearly : float or numpy.ndarray
        The net cash flow of each year 1..h (one per customer for an array).
    h : int
        The horizon in years.

    Returns
    -------
    (years, note)
        ``years`` is a float (or float array), NaN when there is no payback;
        ``note`` is ``""``, ``"never"`` or ``"not within h years"`` (str, or a str array).

    Examples
    --------
    An outlay of 25,000 and 10,000 a year: 25,000 / 10,000 = 2.5 years.

    >>> payback(25_000, 10_000.0, 3)
    (2.5, '')
    >>> payback(25_000, 5_000.0, 3)   # 5 years: later than the horizon
    (nan, 'not within 3 years')
    >>> payback(0, -44_440.0, 3)      # nothing up front, a loss every year
    (nan, 'never')
    >>> payback(-1_000, 200.0, 3)     # ours costs less up front and gains every year
    (0.0, '')
    """
    y = np.asarray(yearly, dtype=float)
    rises = y > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        years = np.where(rises, max(float(outlay), 0.0) / np.where(rises, y, 1.0), np.nan)
    late = rises & (years > h)
    years = np.where(late, np.nan, years)
    note = np.where(rises, np.where(late, not_within(h), ""), NEVER)
    if y.ndim == 0:
        return float(years), str(note)
    return years, note


#: At most this many numbers in one vectorised evaluation of an element with its inputs moved
#: (32 MB of float64): the sensitivity's memory stays bounded whatever the spec and the number
#: of customers.
SENSITIVITY_BLOCK = 1 << 22


def sensitivity(spec: Spec, given: Mapping[str, object] | None = None) -> list[dict]:
    """Total value per year with each input at its low and at its high, the others at base.

    Each row: ``input``, ``low``, ``high``, ``at_low``, ``at_high``, ``swing``, ``base`` (the
    total at base) and ``elements``: for each element whose equation uses the input, its
    change per year with the input at its low and at its high (``[low, high]``), in the
    spec's order (the Sensitivity sheet writes one formula for each).

    Moving one input changes only the elements whose equations use it, so the total with an
    input moved is the total at base plus the change of those elements.  Each equation is
    parsed once, evaluated once at base, and once more, vectorised, with each input it uses
    moved to its low and to its high (in blocks of at most :data:`SENSITIVITY_BLOCK`
    numbers): the cost grows with the size of the spec, not with inputs times elements.  An
    element that cannot be computed with an input moved raises the error that moving the
    inputs one at a time, in the spec's order, meets first.
    """
    base_inputs = input_values(spec, "Base", given)
    names = spec.input_names
    base = [base_inputs[n] for n in names]
    ranges = input_ranges(spec, given)
    ends = [ranges[n] for n in names]  # (low, high) of each input, widened to its base
    position = {n: k for k, n in enumerate(names)}
    equations = [wordeq.parse(el.equation, names) for el in spec.elements]
    factors = [annual_factor(el.unit) for el in spec.elements]
    at_base = [eq.evaluate(base) * f for eq, f in zip(equations, factors)]
    base_total = sum(at_base)
    change = [[0.0, 0.0] for _ in names]  # per input: change of the total at low, at high
    by_element: list[dict] = [{} for _ in names]  # per input: element -> [change at low, high]
    try:
        for el, eq, factor, before in zip(spec.elements, equations, factors, at_base):
            for k, side, after in _moved(eq, ends, base, position):
                moved = after * factor - before
                change[k][side] = change[k][side] + moved
                by_element[k].setdefault(el.name, [0.0, 0.0])[side] = _plain(moved)
    except CvpError:
        _first_error(ends, equations, base, position)
        raise
    rows = []
    for i, (low, high), elements, (end_low, end_high) in zip(spec.inputs, change, by_element,
                                                              ends):
        at_low, at_high = _plain(base_total + low), _plain(base_total + high)
        rows.append({"input": i.name, "low": _plain(end_low), "high": _plain(end_high),
                     "at_low": at_low,
                     "at_high": at_high, "swing": abs(at_high - at_low), "base": base_total,
                     "elements": elements})
    return rows


def _moved(eq, ends: list, base: list, position: dict):
    """``(input index, 0 at low or 1 at high, value)`` of one element for each input its
    equation uses moved to its low and to its high, the other inputs at base."""
    used = [position[q] for q in eq.quantities]
    if not used:
        return
    shape = np.broadcast_shapes(*(np.shape(base[k]) for k in used))
    size = int(np.prod(shape))
    moves = [(k, side) for k in used for side in (0, 1)]
    rows = max(1, SENSITIVITY_BLOCK // (size * len(used)))
    values = list(base)
    for start in range(0, len(moves), rows):
        block = moves[start:start + rows]
        for k in used:
            values[k] = np.empty((len(block), size))
            values[k][:] = np.reshape(np.broadcast_to(base[k], shape), size)
        for r, (k, side) in enumerate(block):
            values[k][r] = np.reshape(np.broadcast_to(ends[k][side], shape), size)
        result = np.broadcast_to(eq.evaluate(values), (len(block), size))
        for r, (k, side) in enumerate(block):
            yield k, side, result[r].reshape(shape) if shape else float(result[r, 0])


def _first_error(ends: list, equations: list, base: list, position: dict) -> None:
    """Move the inputs one at a time, in the spec's order, to raise the first error met."""
    users: list[list] = [[] for _ in base]
    for eq in equations:
        for q in eq.quantities:
            users[position[q]].append(eq)
    values = list(base)
    for k, (low, high) in enumerate(ends):
        for moved in (low, high):
            values[k] = moved
            for eq in users[k]:
                eq.evaluate(values)
        values[k] = base[k]


def _plain(x):
    """A float for one customer, the array for many."""
    return float(x) if np.ndim(x) == 0 else x


def _item(v, k: int):
    if isinstance(v, np.ndarray):
        x = v[k] if v.ndim else v
        return x.item() if isinstance(x, np.generic) else x
    if isinstance(v, list):
        return [_item(x, k) for x in v]
    if isinstance(v, dict):
        return {key: _item(x, k) for key, x in v.items()}
    return v


def pick(results: Results, k: int) -> Results:
    """One customer's results out of results evaluated for many (arrays indexed by ``k``)."""
    return Results(**{name: (_item(value, k) if name not in ("scenario", "next_best") else value)
                      for name, value in results.__dict__.items()})


def pick_sensitivity(rows: list[dict], k: int) -> list[dict]:
    """One customer's sensitivity rows out of rows evaluated for many."""
    return [{key: (_item(v, k) if key != "input" else v) for key, v in row.items()} for row in rows]
