"""Alternatives beyond competitors: doing nothing (``kind: status_quo``) and making it yourself
(``kind: make``), with the costs they carry: hand-worked numbers, spec errors, and the built
workbook recomputed by LibreOffice and the formulas engine."""

from __future__ import annotations

import math

import openpyxl
import pytest
from helpers import close, requires_libreoffice

from cvp_xl.commands.recalc import compute
from cvp_xl.errors import ErrorValue
from cvp_xl.workbooks.calculator import SpecError, parse_spec
from cvp_xl.workbooks.calculator import model as calc_model
from cvp_xl.workbooks.calculator.builder import build


def same(a, b) -> bool:
    """Equal within 1e-9; an empty result is an empty cell (as test_calculator_workbook)."""
    a = "" if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = "" if b is None or (isinstance(b, float) and math.isnan(b)) else b
    return close(a, b)


def formula_cells(path) -> dict:
    """Every formula cell with the value stored in the file (as test_calculator_workbook)."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)

    def stored(cell):
        return ErrorValue(cell.value) if cell.data_type == "e" else cell.value

    return {(ws.title, c.coordinate): stored(values[ws.title][c.coordinate])
            for ws in formulas.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"}


THREE = """\
name: Three kinds
currency: USD
offering: {name: Ours, one_time: 10000, recurring: 5000}
alternatives:
  - name: Rival
    one_time: 2000
    recurring: 8000
  - name: Keep the manual process
    kind: status_quo
    cost_per_year: 6000
  - name: Build it in-house
    kind: make
    build_cost: 12000
    upkeep_per_year: 3000
    value_per_year: 9000
    months_to_build: 8
horizon_years: 4
discount_rate: 10%
inputs:
  - {name: Hours saved per year, unit: hours/year, base: 1000, low: 800, high: 1200}
  - {name: Cost per hour, unit: USD/hour, base: 50}
value_elements:
  - name: Hours saved
    category: economic
    equation: Hours saved per year × Cost per hour
"""


def test_the_three_kinds_by_hand():
    spec = parse_spec(THREE, "three.yaml")
    assert [a.kind for a in spec.alternatives] == ["competitor", "status_quo", "make"]
    r = calc_model.evaluate(spec)
    # value per year: 1,000 hours x 50 USD/hour = 50,000; ours over 4 years: 200,000;
    # price 10,000 + 4 x 5,000 = 30,000; incentive 170,000
    assert (r.total_per_year, r.value_s, r.price_s, r.incentive_s) == (50_000, 200_000,
                                                                       30_000, 170_000)
    # Rival (competitor, the reference): value 0, price 2,000 + 4 x 8,000 = 34,000
    # Keep the manual process (status quo): no price; value 4 x (0 - 6,000) = -24,000
    # Build it in-house (make): lost while building 9,000 x 8 / 12 = 6,000;
    #   value 4 x 9,000 - 6,000 = 30,000; price 12,000 + 4 x 3,000 = 24,000
    assert r.alt_value == [0, -24_000, 30_000]
    assert r.alt_price == [34_000, 0, 24_000]
    assert r.alt_incentive == [-34_000, -24_000, 6_000]
    assert r.next_best == 2  # the largest incentive: making it yourself
    assert r.differential == 170_000 - 6_000
    assert r.breakeven_price == 24_000 + (200_000 - 30_000)
    # ROI: benefit 200,000 - 30,000 = 170,000; extra cost 30,000 - 24,000 = 6,000
    assert close(r.roi, (170_000 - 6_000) / 6_000)
    # year 0: -(10,000 - 12,000 - 6,000) = 8,000 (ours costs less up front and loses no time);
    # years 1-4: (50,000 - (9,000 - 0)) - (5,000 - 3,000) = 39,000; together the differential
    assert r.cash_flows == [8_000] + [39_000] * 4
    assert sum(r.cash_flows) == r.differential
    assert (r.payback, r.payback_note) == (0.0, "")
    assert close(r.npv, 8_000 + 39_000 * (1 - 1.1 ** -4) / 0.1)  # the 4-year annuity at 10 %


def doing_nothing_is_next_best() -> str:
    # the make alternative at 40,000 to build: price 40,000 + 12,000 = 52,000, incentive
    # 30,000 - 52,000 = -22,000; the status quo at 1,000 a year: -4,000, the largest
    text = THREE.replace("cost_per_year: 6000", "cost_per_year: 1000")
    return text.replace("build_cost: 12000", "build_cost: 40000")


def test_doing_nothing_as_the_next_best_by_hand():
    r = calc_model.evaluate(parse_spec(doing_nothing_is_next_best(), "nothing.yaml"))
    assert r.alt_incentive == [-34_000, -4_000, -22_000]
    assert r.next_best == 1
    # differential 170,000 + 4,000; year 0 -(10,000 - 0 - 0); years (50,000 + 1,000) - 5,000
    assert r.differential == 174_000
    assert r.cash_flows == [-10_000] + [46_000] * 4


def where(text: str, line: str) -> int:
    """The line number of ``line`` in ``text``, from 1."""
    return text.splitlines().index(line) + 1


def error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "calc.yaml")
    return str(info.value)


@pytest.mark.parametrize("old,new,at,message", [
    ("kind: make", "kind: diy", "    kind: diy",
     "alternative 'Build it in-house': 'kind' must be one of competitor, status_quo, make, got "
     "'diy'"),
    ("cost_per_year: 6000", "cost_per_year: 6000\n    one_time: 50", "    one_time: 50",
     "alternative 'Keep the manual process': a status_quo alternative takes no 'one_time' (it "
     "takes cost_per_year); 'one_time' is for kind: competitor"),
    ("recurring: 8000", "recurring: 8000\n    build_cost: 5", "    build_cost: 5",
     "alternative 'Rival': a competitor alternative takes no 'build_cost' (it takes one_time, "
     "recurring, value_per_year); 'build_cost' is for kind: make"),
    ("upkeep_per_year: 3000", "recurring: 3000", "    recurring: 3000",
     "alternative 'Build it in-house': a make alternative takes no 'recurring' (it takes "
     "build_cost, upkeep_per_year, value_per_year, months_to_build); 'recurring' is for kind: "
     "competitor"),
    ("cost_per_year: 6000", "cost_per_year: 6000\n    value_per_year: 5",
     "    value_per_year: 5",
     "alternative 'Keep the manual process': a status_quo alternative takes no "
     "'value_per_year' (it takes cost_per_year); 'value_per_year' is for kind: competitor, "
     "make"),
    ("cost_per_year: 6000", "cost_per_year: -5", "    cost_per_year: -5",
     "alternative 'Keep the manual process': cost_per_year must be 0 or more, got -5"),
    ("cost_per_year: 6000", "cost_per_year: lots", "    cost_per_year: lots",
     "alternative 'Keep the manual process': 'cost_per_year' must be a number, got 'lots'"),
    ("build_cost: 12000", "build_cost: -1", "    build_cost: -1",
     "alternative 'Build it in-house': build_cost must be 0 or more, got -1"),
    ("months_to_build: 8", "months_to_build: -2", "    months_to_build: -2",
     "alternative 'Build it in-house': months_to_build must be 0 or more, got -2"),
    ("months_to_build: 8", "months_to_build: 49", "    months_to_build: 49",
     "alternative 'Build it in-house': months_to_build (49) is longer than the horizon (48 "
     "months)"),
    ("  - name: Rival\n", "  - name: Rival\n    kind: status_quo\n    cost_per_year: 1\n",
     "    one_time: 2000",
     "alternative 'Rival': a status_quo alternative takes no 'one_time' (it takes "
     "cost_per_year); 'one_time' is for kind: competitor"),
])
def test_bad_kinds_and_costs_are_refused_naming_the_key(old, new, at, message):
    text = THREE.replace(old, new, 1)
    assert text != THREE
    assert error(text) == f"calc.yaml:{where(text, at)}: {message}"


REFERENCE = """\
name: Reference kinds
currency: USD
offering: {name: Ours, one_time: 10}
alternatives:
  - name: First
    kind: KIND
    KEY: 1
  - name: Second
horizon_years: 2
discount_rate: 0
inputs:
  - {name: Hours saved per year, unit: hours/year, base: 1000}
  - {name: Cost per hour, unit: USD/hour, base: 50}
value_elements:
  - {name: Hours saved, category: economic, equation: Hours saved per year × Cost per hour}
"""


@pytest.mark.parametrize("kind,key,message", [
    ("status_quo", "cost_per_year",
     "the reference (first) alternative is what value elements are measured against: they "
     "count the cost of the problem it leaves, so its cost_per_year must be 0"),
    ("make", "months_to_build",
     "the reference (first) alternative gives no value of its own to lose while it is built; "
     "its months_to_build must be 0 (put it after another alternative to count the time)"),
])
def test_the_reference_carries_no_cost_of_its_own(kind, key, message):
    text = REFERENCE.replace("KIND", kind).replace("KEY", key)
    assert error(text) == f"calc.yaml:7: alternative 'First': {message}"


def test_the_offering_has_no_kind():
    text = THREE.replace("{name: Ours,", "{name: Ours, kind: make,")
    assert error(text) == "calc.yaml:3: offering: unknown key 'kind'"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("kinds")
    made = {}
    for name, text in (("make", THREE), ("nothing", doing_nothing_is_next_best())):
        spec = parse_spec(text, f"{name}.yaml")
        made[name] = (spec, out / f"{name}.xlsx", build(spec, out / f"{name}.xlsx",
                                                        customer="Acme"))
    return made


def test_the_workbook_names_each_alternative_with_its_kind_and_costs(books):
    spec, path, layout = books["make"]
    wb = openpyxl.load_workbook(path, data_only=True)
    inputs = wb["Inputs"]
    rows = {layout.price_rows[p.name]: p.name for p in (spec.offering,) + spec.alternatives}
    header = min(rows) - 1
    assert [inputs.cell(header, c).value for c in (1, 2, 4, 5, 6, 7, 8)] == [
        "Offering or alternative", "Kind", "One-time", "Recurring per year",
        "Value per year vs reference", "Problem cost per year", "Months to build"]
    assert [[inputs.cell(r, c).value for c in (1, 2, 4, 5, 6, 7, 8)] for r in sorted(rows)] == [
        ["Ours", "ours", 10_000, 5_000, 0, None, None],
        ["Rival", "competitor", 2_000, 8_000, 0, 0, 0],
        ["Keep the manual process", "status quo", 0, 0, 0, 6_000, 0],
        ["Build it in-house", "make: build, upkeep", 12_000, 3_000, 9_000, 0, 8]]
    status_quo = max(rows) - 1  # no price: plain locked cells, not inputs
    assert all(inputs.cell(status_quo, c).protection.locked for c in (4, 5, 6, 7, 8))
    summary = wb["Summary"]
    assert summary[layout.results["next_best"]].value == "Build it in-house (making it yourself)"
    names = [summary.cell(r, 1).value for r in range(1, 90)]
    assert "Keep the manual process (doing nothing)" in names
    assert summary["A13"].value == (
        "Over 4 years, Ours is worth USD 164,000 more to Acme than Build it in-house (making it "
        "yourself), the next best alternative.")


def test_against_doing_nothing(books):
    _, path, layout = books["nothing"]
    summary = openpyxl.load_workbook(path, data_only=True)["Summary"]
    assert summary[layout.results["next_best"]].value == "Keep the manual process (doing nothing)"
    assert summary["A13"].value == (
        "Over 4 years, Ours is worth USD 174,000 more to Acme than Keep the manual process "
        "(doing nothing), the next best alternative.")


def test_the_formulas_engine_recomputes_the_stored_values(books):
    for _spec, path, _layout in books.values():
        engine = compute(path, by_model=False).values  # the engine, not the Python model
        cells = formula_cells(path)
        assert {k: (engine.get(k), v) for k, v in cells.items()
                if not same(engine.get(k), v)} == {}


@pytest.fixture(scope="module")
def edited(books, tmp_path_factory):
    """The make calculator with the customer's own build cost and value per year typed in."""
    spec, path, layout = books["make"]
    target = tmp_path_factory.mktemp("edited") / "edited.xlsx"
    wb = openpyxl.load_workbook(path)
    row = layout.price_rows["Build it in-house"]
    wb["Inputs"][f"D{row}"], wb["Inputs"][f"F{row}"] = 30_000, 3_000
    wb.save(target)
    return target


def test_the_model_follows_a_typed_build_cost(edited):
    values = compute(edited).values  # recalc's path for a calculator: the Python model
    # by hand: make: value 4 x 3,000 - 3,000 x 8 / 12 = 10,000; price 30,000 + 12,000 = 42,000;
    # incentive -32,000: the rival (-34,000) and doing nothing (-24,000) are behind it no more:
    # the status quo is the next best; differential 170,000 + 24,000 = 194,000
    found = {v for v in values.values() if isinstance(v, str) and "(doing nothing)" in v}
    assert "Keep the manual process (doing nothing)" in found
    assert 194_000 in values.values() and -32_000 in values.values()


@requires_libreoffice
def test_libreoffice_recomputes_the_stored_values(books, edited):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    paths = [path for _spec, path, _layout in books.values()]
    results = libreoffice_values_many(paths + [edited])
    for path, lo in zip(paths, results):
        cells = formula_cells(path)
        assert len(cells) > 90
        assert {k: (lo.get(k), v) for k, v in cells.items() if not same(lo.get(k), v)} == {}
    model = compute(edited).values  # the customer's edit: LibreOffice agrees with the model
    assert {k: (results[-1].get(k), v) for k, v in model.items()
            if not same(results[-1].get(k), v)} == {}
