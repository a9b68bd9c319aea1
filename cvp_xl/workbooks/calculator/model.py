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
  alternative; ``value_j = H * value_per_year_j`` for each alternative;
- incentive ``= value - price``; the next best alternative is the one with
  the largest incentive (the first on ties);
- differential ``= incentive_s - incentive_nb`` (DOMAIN.md §1);
- break-even price ``= price_nb + (value_s - value_nb)``;
- ROI on the customer's extra spend: ``(benefit - cost) / cost`` with
  ``benefit = value_s - value_nb`` and ``cost = price_s - price_nb``; when
  ours costs no more (``cost <= 0``) ROI is not defined and shown as text;
- cash flows of choosing ours over the next best: year 0
  ``-(one_time_s - one_time_nb)``, years 1..H ``(value per year - value per
  year_nb) - (recurring_s - recurring_nb)``;
- payback in years: ``0`` when nothing is paid up front; otherwise year-0
  outlay / yearly net flow when that flow is positive and the payback falls
  within the horizon; otherwise text "not within H years";
- NPV at the discount rate: year-0 flow plus Excel's ``NPV(rate, years
  1..H)`` (Excel's convention: the first value is discounted one period).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cvp_xl import wordeq
from cvp_xl.errors import CvpValueError
from cvp_xl.workbooks.calculator.spec import CONSERVATIVE_FACTOR, PERIODS_PER_YEAR, SCENARIOS, Spec

__all__ = ["evaluate", "Results", "PERIODS_PER_YEAR", "annual_factor", "input_values"]

NOT_DEFINED = "n/a: ours costs no more"


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
    roi: object            # float, or NOT_DEFINED (object array for many)
    payback: object        # float, or text
    npv: object
    cash_flows: list       # years 0..H


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
        low_first = True if lowers is None else lowers[i.name]
        pick_low = low_first if scenario == "Low" else np.logical_not(low_first)
        out[i.name] = np.where(pick_low, i.low, i.high) if isinstance(pick_low, np.ndarray) \
            else (i.low if pick_low else i.high)
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
    alt_value = [a.value_per_year * h for a in spec.alternatives]
    alt_price = [a.one_time + h * a.recurring for a in spec.alternatives]
    alt_incentive = [v - p for v, p in zip(alt_value, alt_price)]
    nb = int(np.argmax(alt_incentive))  # alternatives do not depend on customer inputs
    a_nb = spec.alternatives[nb]
    incentive_s = value_s - price_s
    differential = incentive_s - alt_incentive[nb]
    breakeven = alt_price[nb] + (value_s - alt_value[nb])
    benefit = value_s - alt_value[nb]
    cost = price_s - alt_price[nb]
    roi = (benefit - cost) / cost if cost > 0 else NOT_DEFINED
    outlay = spec.offering.one_time - a_nb.one_time
    yearly = (total - a_nb.value_per_year) - (spec.offering.recurring - a_nb.recurring)
    payback = _payback(outlay, yearly, h)
    flows = [-outlay + 0 * total] + [yearly] * h
    rate = spec.discount_rate
    npv = flows[0] + sum(f / (1 + rate) ** t for t, f in enumerate(flows[1:], start=1))
    return Results(
        scenario=scenario, inputs=values, elements=elements, total_per_year=total,
        value_s=value_s, price_s=price_s, alt_value=alt_value, alt_price=alt_price,
        alt_incentive=alt_incentive, next_best=nb, incentive_s=incentive_s,
        incentive_nb=alt_incentive[nb], differential=differential, breakeven_price=breakeven,
        roi=roi, payback=payback, npv=npv, cash_flows=flows,
    )


def not_within(h: int) -> str:
    return f"not within {h} years"


def _payback(outlay, yearly, h):
    if outlay <= 0:
        return 0.0 * yearly if isinstance(yearly, np.ndarray) else 0.0
    if isinstance(yearly, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            years = outlay / yearly
        ok = (yearly > 0) & (years <= h)
        if ok.all():
            return years
        out = years.astype(object)  # numbers stay numbers; np.where would make them all text
        out[~ok] = not_within(h)
        return out
    if yearly > 0 and outlay / yearly <= h:
        return outlay / yearly
    return not_within(h)


def sensitivity(spec: Spec, given: Mapping[str, object] | None = None) -> list[dict]:
    """Total value per year with each input at its low and at its high, the others at base."""
    base_inputs = input_values(spec, "Base", given)
    names = spec.input_names
    factors = {el.name: annual_factor(el.unit) for el in spec.elements}

    def total(values):
        return sum(wordeq.evaluate(el.equation, names, [values[n] for n in names])
                   * factors[el.name] for el in spec.elements)

    base_total = total(base_inputs)
    rows = []
    for i in spec.inputs:
        at_low = total({**base_inputs, i.name: i.low})
        at_high = total({**base_inputs, i.name: i.high})
        rows.append({"input": i.name, "low": i.low, "high": i.high, "at_low": at_low,
                     "at_high": at_high, "swing": abs(at_high - at_low), "base": base_total})
    return rows


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
