"""The pricing and positioning workbooks: built from the example specs, checked by the engines.

The builders compute every formula's value in Python and write it with the formula
(:class:`~cvp_xl.workbooks.book.Book`).  The example workbooks are built once per module and
recomputed by the formulas engine and by LibreOffice (once, with a few edge-case workbooks that
take the error paths); every stored value must equal both engines' values, and the key results
the Python functions, all within 1e-9 relative.
"""

from __future__ import annotations

import copy
import math
import zipfile

import openpyxl
import pytest
from helpers import NO_LIBREOFFICE, close, requires_libreoffice
from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer

from cvp_xl.commands.recalc import compute
from cvp_xl.domain.positioning import (
    fair_value_gap,
    point_type,
    relative_price,
    resonating_focus,
    value_map,
)
from cvp_xl.domain.pricing import eve, price_for_share, price_range, reference_value, value_capture
from cvp_xl.domain.value import differential, incentive
from cvp_xl.errors import CvpNumError, CvpValueError, ErrorValue
from cvp_xl.hosts.libreoffice import find_soffice, read_values
from cvp_xl.workbooks import book, positioning, pricing
from cvp_xl.xlsx.cached import write_cached_values
from cvp_xl.xlsx.share_safe import SHARE_SAFE_FUNCTIONS


def _pricing_edges() -> dict[str, dict]:
    """Pricing specs that take the error and corner paths of the formulas."""
    base = pricing.load_spec()
    none = copy.deepcopy(base)  # no differentiation value: capture is #DIV/0!
    none["positive"], none["negative"] = [], []
    none["comparison"]["offerings"][1]["price"] = 0  # ratio #DIV/0!: RANK and the pick too
    none["price"] = 0.05
    negative = copy.deepcopy(base)  # a negative price: below the floor, capture below 0
    negative["price"] = -0.01
    negative["positive"][1]["name"] = ""  # an empty name: the chart label shows 0
    negative["comparison"]["offerings"] = [  # tied ratios; one offering best on both
        {"name": "Tie one", "value": 0.1, "price": 0.05},
        {"name": "Tie two", "value": 0.2, "price": 0.1},
        {"name": "Best", "value": 0.3, "price": 0.1}]
    above = copy.deepcopy(base)  # above the ceiling; no negative value
    above["price"] = 0.2
    above["negative"] = []
    return {"none": none, "negative": negative, "above": above}


def _positioning_edges() -> dict[str, dict]:
    base = positioning.load_spec()
    few = copy.deepcopy(base)  # fewer favorable points than asked; a tie; an empty name
    few["focus_count"] = 5
    few["elements"][1]["customer_view"] = 9500  # ties with the first
    few["elements"][5]["name"] = ""
    few["value_map"]["offerings"][2] = {"name": "Rival A clone", "price": 12000,
                                        "scores": [6, 7, 6, 8]}  # on the line
    zero = copy.deepcopy(base)  # no tolerance
    zero["tolerance"] = 0
    zero["focus_count"] = 1
    return {"few": few, "zero": zero}


EDGES = {**{f"pricing-edge-{k}": (pricing, v) for k, v in _pricing_edges().items()},
         **{f"positioning-edge-{k}": (positioning, v) for k, v in _positioning_edges().items()}}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("pricing_books")
    paths = pricing.build_example_workbooks(out) + positioning.build_example_workbooks(out)
    names = sorted(p.name for p in paths)
    assert names == ["positioning-process-pump.xlsx", "pricing-super-towel.xlsx"]
    return {p.name.split("-")[0]: p for p in paths}


@pytest.fixture(scope="module")
def cached(books):
    return {kind: read_values(path) for kind, path in books.items()}


@pytest.fixture(scope="module")
def all_books(books, tmp_path_factory):
    """The example workbooks (by kind) and the edge-case ones (by name)."""
    out = tmp_path_factory.mktemp("pricing_edges")
    edges = {name: module.build(out / f"{name}.xlsx", spec)
             for name, (module, spec) in EDGES.items()}
    return {**books, **edges}


@pytest.fixture(scope="module")
def libreoffice(all_books):
    """LibreOffice's values for every workbook, from one run."""
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    if find_soffice() is None:
        pytest.skip(NO_LIBREOFFICE)
    names = sorted(all_books)
    return dict(zip(names, libreoffice_values_many([all_books[k] for k in names])))


def formula_cells(path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.data_type == "f"}


def waterfall(values: dict) -> int:
    """The row of the waterfall's header on the Pricing sheet; its steps follow, one a row
    (column A the step, B to G base, increase, decrease, total, our price, running total)."""
    rows = [int(ref[1:]) for (s, ref), v in values.items() if s == "Pricing" and ref[0] == "A"
            and ref[1:].isdigit() and v == pricing.WATERFALL_HEADER]
    assert len(rows) == 1
    return rows[0]


def right_of(values: dict, sheet: str, label: str, col: str = "B"):
    """The value next to the label in column A of ``sheet`` (on Pricing, above the waterfall's
    data, whose steps repeat some labels)."""
    end = waterfall(values) if sheet == "Pricing" else math.inf
    rows = [ref[1:] for (s, ref), v in values.items() if s == sheet and ref[0] == "A"
            and ref[1:].isdigit() and int(ref[1:]) < end and v == label]
    assert len(rows) == 1, f"label {label!r} found {len(rows)} times"
    return values[(sheet, f"{col}{rows[0]}")]


# -- cached values, LibreOffice, Python --------------------------------------------------------


@pytest.mark.parametrize("kind", ["pricing", "positioning"])
def test_every_formula_has_a_cached_value_and_no_error(kind, books, cached):
    cells = formula_cells(books[kind])
    assert len(cells) > 40
    assert not [key for key in cells if key not in cached[kind]]
    assert not {key: cached[kind][key] for key in cells
                if isinstance(cached[kind][key], ErrorValue)}


@requires_libreoffice
@pytest.mark.parametrize("kind", ["pricing", "positioning"])
def test_libreoffice_recomputes_the_cached_values(kind, books, cached, libreoffice):
    cells = formula_cells(books[kind])
    lo = libreoffice[kind]
    diffs = []
    for key in cells:
        mine, theirs = cached[kind].get(key, ""), lo.get(key, "")
        if not close(theirs, mine):
            diffs.append(f"{key}: cached {mine!r}, LibreOffice {theirs!r}")
    assert not diffs, "\n".join(diffs)


MISSING = object()


def same(mine, theirs) -> bool:
    """Numbers within 1e-9 (relative, or absolute near 0); text, errors, bools exactly."""
    if isinstance(mine, bool) or isinstance(theirs, bool):
        return type(mine) is type(theirs) and mine == theirs
    if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-9)
    return type(mine) is type(theirs) and mine == theirs


def mismatches(path, theirs: dict) -> list[str]:
    """The formula cells whose stored value differs from an engine's value (``theirs``)."""
    stored = read_values(path)  # openpyxl, data_only=True
    out = []
    for key in formula_cells(path):
        mine, other = stored.get(key, MISSING), theirs.get(key, "")
        if mine is MISSING or not same(mine, other):
            out.append(f"{key[0]}!{key[1]}: stored {mine!r}, recomputed {other!r}")
    return out


WORKBOOKS = ["pricing", "positioning", *EDGES]


@pytest.mark.parametrize("name", WORKBOOKS)
def test_stored_values_equal_the_formulas_engine(name, all_books):
    path = all_books[name]
    assert len(formula_cells(path)) > 40
    assert not (diffs := mismatches(path, compute(path).values)), "\n".join(diffs)


@requires_libreoffice
@pytest.mark.parametrize("name", WORKBOOKS)
def test_stored_values_equal_libreoffice(name, all_books, libreoffice):
    path = all_books[name]
    assert not (diffs := mismatches(path, libreoffice[name])), "\n".join(diffs)


def test_the_edge_cases_take_the_error_paths(all_books):
    v = read_values(all_books["pricing-edge-none"])
    assert v[("Pricing", "B28")] == ErrorValue("#DIV/0!")  # capture: no differentiation value
    assert v[("Pricing", "D38")] == ErrorValue("#DIV/0!")  # ratio at a price of 0
    assert v[("Pricing", "B43")] == ErrorValue("#DIV/0!")  # the measures' comparison
    v = read_values(all_books["pricing-edge-negative"])
    assert v[("Pricing", f"A{waterfall(v) + 3}")] == 0  # =A13, an empty name
    assert right_of(v, "Pricing", "Do the two measures agree?").startswith("Yes")
    v = read_values(all_books["positioning-edge-few"])
    assert positioning.NOT_ENOUGH in [v.get(("Propositions", f"F{r}")) for r in range(5, 13)]


def test_a_wrong_stored_value_is_caught(all_books, tmp_path):
    path = all_books["pricing"]
    engine = compute(path).values
    assert not mismatches(path, engine)
    bad = tmp_path / "pricing-wrong.xlsx"
    write_cached_values(path, bad, {("Pricing", "B9"): 0.06 * (1 + 1e-7),  # reference value
                                    ("Pricing", "B31"): "Below the floor",  # where the price lies
                                    ("Pricing", "D38"): ErrorValue("#DIV/0!")})  # a ratio
    assert [d.split(":")[0] for d in mismatches(bad, engine)] == [
        "Pricing!B9", "Pricing!B31", "Pricing!D38"]


def formula_cells_without_a_value(path) -> list[str]:
    """Formula cells (``<c>`` with an ``<f>``) that carry no cached value (no ``<v>``)."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    out = []
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/sheet") and member.endswith(".xml"):
                root = etree.fromstring(archive.read(member))
                out += [f"{member}!{c.get('r')}" for c in root.iter(f"{ns}c")
                        if c.find(f"{ns}f") is not None and c.find(f"{ns}v") is None]
    return out


@pytest.mark.parametrize("module", [pricing, positioning])
def test_book_save_writes_the_file_and_no_engine_is_asked(module, tmp_path, monkeypatch):
    saved = []
    real_save = book.Book.save

    def spy(self, path):
        saved.append(path)
        return real_save(self, path)

    def refuse(*args, **kwargs):
        raise AssertionError("a builder asked the formulas engine for its values")

    monkeypatch.setattr(book.Book, "save", spy)
    monkeypatch.setattr("cvp_xl.commands.recalc.compute", refuse)
    monkeypatch.setattr("cvp_xl.commands.recalc.recalc", refuse)
    path = module.build(tmp_path / "built.xlsx")
    assert saved == [tmp_path / "built.xlsx"] and path.is_file()
    assert not hasattr(module, "recalc")
    assert len(formula_cells(path)) > 40
    assert not formula_cells_without_a_value(path)


@pytest.mark.parametrize("name", WORKBOOKS)
def test_no_formula_cell_lacks_a_cached_value(name, all_books):
    assert not formula_cells_without_a_value(all_books[name])


def test_pricing_results_equal_python(books, cached):
    v = cached["pricing"]
    spec = pricing.load_spec()
    alt = spec["alternative"]
    pos = [e["value"] for e in spec["positive"]]
    neg = [e["value"] for e in spec["negative"]]
    ref = reference_value(alt["price"], alt["units_per_unit"])
    eco = eve(ref, pos, neg)
    price = spec["price"]
    floor, ceiling = price_range(ref, eco)[0]
    expected = {
        "Reference value (price x units)": ref,  # hand: 0.02 x 3 = 0.06 (LeveragePoint)
        "Total economic value": eco,  # hand: 0.06 + 0.012 + 0.006 - 0.004 = 0.074
        "Price floor (reference value: the customer keeps all the differentiation value)": floor,
        "Price ceiling (total economic value: the customer keeps none)": ceiling,
        "Share of the differentiation value captured by the supplier":
            value_capture(price, ref, eco),  # hand: 0.01 / 0.014 = 0.714
        "Customer's share of the differentiation value": 1 - value_capture(price, ref, eco),
        "Customer's incentive to switch (economic value - price)": incentive(eco, price),
        "Price that leaves the customer that share":
            price_for_share(ref, eco, spec["target_customer_share"]),  # 0.074 - 0.4 x 0.014
        "Check of the amounts": "OK",
        "Where the price lies": "Within the value-based price range",
    }
    for label, want in expected.items():
        got = right_of(v, "Pricing", label)
        assert close(got, want), f"{label}: {got!r} != {want!r}"
    assert close(right_of(v, "Pricing", "Total economic value"), 0.074)


def test_pricing_ratio_and_differential_disagree_and_the_differential_decides(cached):
    v = cached["pricing"]
    comparison = pricing.load_spec()["comparison"]
    alt = comparison["alternative"]
    for o in comparison["offerings"]:
        assert close(right_of(v, "Pricing", o["name"], "D"), o["value"] / o["price"])
        assert close(right_of(v, "Pricing", o["name"], "F"),
                     differential(o["value"], o["price"], alt["value"], alt["price"]))
    # hand: ratios 0.09/0.045 = 2.0, 0.114/0.07 = 1.63, 0.16/0.10 = 1.6; differentials
    # 0.045 - 0.04 = 0.005, 0.044 - 0.04 = 0.004, 0.06 - 0.04 = 0.02
    assert right_of(v, "Pricing", "Best value-to-price ratio") == "Super towel Economy"
    assert right_of(v, "Pricing", "Largest differential: this decides") == "Super towel Pro"
    assert right_of(v, "Pricing", "Do the two measures agree?") == "No: follow the differential"
    assert any(isinstance(x, str) and x.startswith("The differential decides")
               for x in v.values())


def test_waterfall_steps_add_up(cached):
    v = cached["pricing"]
    # hand: reference 0.06, +0.012 -> 0.072, +0.006 -> 0.078, -0.004 -> 0.074 = total
    head = waterfall(v)
    running = [v[("Pricing", f"G{r}")] for r in range(head + 1, head + 6)]
    assert all(close(a, b) for a, b in zip(running, [0.06, 0.072, 0.078, 0.074, 0.074]))
    assert v[("Pricing", f"A{head + 4}")] == "- Dispenser retrofit, spread per towel"
    assert close(v[("Pricing", f"B{head + 4}")], 0.074)  # the base: the running total after
    assert close(v[("Pricing", f"D{head + 4}")], 0.004)  # the decrease
    assert all(close(v[("Pricing", f"F{r}")], 0.07)  # the price line
               for r in range(head + 1, head + 6))


def test_positioning_point_types_equal_python(cached):
    v = cached["positioning"]
    spec = positioning.load_spec()
    for k, e in enumerate(spec["elements"]):
        r = positioning.LEDGER_FIRST + k
        assert v[("Ledger", f"A{r}")] == e["name"]
        assert v[("Ledger", f"G{r}")] == point_type(e["supplier_view"], e["customer_view"],
                                                    spec["tolerance"])
    # hand, tolerance 500: 3 favorable, 1 parity, 3 contention, 1 unfavorable
    counts = {kind: right_of(v, "Ledger", kind) for kind in
              ("parity", "favorable difference", "unfavorable difference", "contention")}
    assert counts == {"parity": 1, "favorable difference": 3, "unfavorable difference": 1,
                      "contention": 3}


def test_positioning_three_propositions_with_pitfalls(cached):
    v = cached["positioning"]
    spec = positioning.load_spec()
    rows = range(5, 5 + len(spec["elements"]))

    def column(col):
        return [v.get(("Propositions", f"{col}{r}"), "") for r in rows]

    # hand: all benefits = supplier view >= -500: every element but the spare parts price
    assert column("B") == ["Uptime (fewer unplanned stops)", "Energy savings",
                           "Delivery lead time", "Remote monitoring", "+1 year warranty",
                           "-20 % noise on the line", "Local service engineer", ""]
    assert column("C") == ["", "", "Benefit assertion: a point of parity",
                           "Benefit assertion: the customer sees no advantage", "",
                           "Benefit assertion: the customer sees no advantage", "", ""]
    # hand: favorable points of difference = supplier view > 500
    assert column("D") == ["Uptime (fewer unplanned stops)", "Energy savings",
                           "Remote monitoring", "+1 year warranty", "-20 % noise on the line",
                           "", "", ""]
    presumption = "Value presumption: the customer does not value this difference"
    assert column("E") == ["", "", presumption, "", presumption, "", "", ""]
    # resonating focus: exactly what CVP_RESONATING_FOCUS gives for the ledger
    names = [e["name"] for e in spec["elements"]]
    views = [e["customer_view"] for e in spec["elements"]]
    types = [v[("Ledger", f"G{positioning.LEDGER_FIRST + k}")] for k in range(len(names))]
    focus = resonating_focus(names, views, types, spec["focus_count"])
    assert focus == [["Uptime (fewer unplanned stops)"], ["Energy savings"]]
    assert column("F")[:2] == [row[0] for row in focus]
    assert column("F")[2:] == [""] * (len(names) - 2)
    assert column("G")[:2] == ["Documented: example: field value assessment at the customer's "
                               "plant", positioning.NO_SOURCE]


def test_value_map_equals_python(cached):
    v = cached["positioning"]
    vm = positioning.load_spec()["value_map"]
    weights = [a["weight"] for a in vm["attributes"]]
    ref = next(o for o in vm["offerings"] if o["name"] == vm["reference"])
    assert v[("Value map", "B3")] == "Rival A"
    for o in vm["offerings"]:
        q = value_map(weights, o["scores"], ref["scores"])
        p = relative_price(o["price"], ref["price"])
        assert close(right_of(v, "Value map", o["name"], "B"), q)
        assert close(right_of(v, "Value map", o["name"], "C"), p)
        assert close(right_of(v, "Value map", o["name"], "D"), fair_value_gap(q, p))
    # hand: ours 117.708 against 90: below/right of the line
    assert right_of(v, "Value map", "Our pump", "E").startswith("Below/right")
    assert right_of(v, "Value map", "Rival A", "E") == "On the fair-value line"


# -- share-safe, text stays text, protection ---------------------------------------------------


@pytest.mark.parametrize("kind", ["pricing", "positioning"])
def test_only_share_safe_functions_and_no_cvp_calls(kind, books):
    wb = openpyxl.load_workbook(books[kind])
    used = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                assert isinstance(c.value, str), f"{ws.title}!{c.coordinate}: array formula"
                assert "CVP_" not in c.value.upper() and "_XLFN." not in c.value.upper()
                for tok in Tokenizer(c.value).items:
                    if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
                        used.add(tok.value[:-1].upper())
    assert used and used <= SHARE_SAFE_FUNCTIONS, used - SHARE_SAFE_FUNCTIONS


@pytest.mark.parametrize("kind,texts", [
    ("pricing", ["+ Less waste to haul away", "- Dispenser retrofit, spread per towel"]),
    ("positioning", ["+1 year warranty", "-20 % noise on the line", "@Budget import"]),
])
def test_data_that_looks_like_a_formula_is_text(kind, texts, books):
    wb = openpyxl.load_workbook(books[kind])
    found = {c.value: c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value in texts}
    assert set(found) == set(texts)
    for cell in found.values():
        assert cell.data_type == "s" and cell.quotePrefix


def test_a_spec_with_formula_text_stays_text(tmp_path):
    spec = copy.deepcopy(pricing.load_spec())
    spec["title"] = "=HYPERLINK(\"http://example.invalid\",\"click\")"
    spec["positive"][0]["name"] = "=1+1"
    spec["negative"][0]["source"] = "@SUM(A1:A9)"
    path = pricing.build(tmp_path / "hostile.xlsx", spec)
    wb = openpyxl.load_workbook(path)
    ws = wb["Pricing"]
    for ref, text in (("A1", spec["title"]), ("A12", "=1+1"), ("D16", "@SUM(A1:A9)")):
        assert ws[ref].value == text and ws[ref].data_type == "s"
    values = read_values(path)
    assert values[("Pricing", f"A{waterfall(values) + 2}")] == "=1+1"  # the chart label: text


@pytest.mark.parametrize("kind", ["pricing", "positioning"])
def test_inputs_unlocked_formulas_protected(kind, books):
    wb = openpyxl.load_workbook(books[kind])
    inputs = 0
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert c.protection.locked, f"{ws.title}!{c.coordinate}"
                elif c.fill.fgColor.rgb == "00FFF2CC":
                    assert not c.protection.locked
                    inputs += 1
    assert inputs >= 10


def test_charts_are_there(books):
    pricing_book = openpyxl.load_workbook(books["pricing"])
    positioning_book = openpyxl.load_workbook(books["positioning"])
    assert len(pricing_book["Pricing"]._charts) == 1
    assert len(positioning_book["Value map"]._charts) == 1


# -- bad specs ---------------------------------------------------------------------------------


def test_bad_pricing_specs_are_refused_with_the_field_named(tmp_path):
    spec = copy.deepcopy(pricing.load_spec())
    spec["negative"][0]["value"] = -0.004
    with pytest.raises(CvpNumError) as info:
        pricing.build(tmp_path / "bad.xlsx", spec)
    assert info.value.message == (
        "spec: negative_values: is -0.004; enter negative differentiation value as a positive "
        "amount (it is subtracted)")
    spec = copy.deepcopy(pricing.load_spec())
    spec["alternative"]["price"] = "two cents"
    with pytest.raises(CvpValueError) as info:
        pricing.build(tmp_path / "bad.xlsx", spec)
    assert info.value.message == "spec: alternative: price: expected a number, got 'two cents'"
    assert not (tmp_path / "bad.xlsx").exists()


def test_bad_positioning_specs_are_refused_with_the_field_named(tmp_path):
    spec = copy.deepcopy(positioning.load_spec())
    spec["elements"][1]["category"] = "financial"
    with pytest.raises(CvpValueError) as info:
        positioning.build(tmp_path / "bad.xlsx", spec)
    assert info.value.message == ("spec: elements[2]: category: expected one of technical, "
                                  "economic, service, social, got 'financial'")
    spec = copy.deepcopy(positioning.load_spec())
    spec["value_map"]["offerings"][1]["scores"][2] = 0
    with pytest.raises(Exception) as info:
        positioning.build(tmp_path / "bad.xlsx", spec)
    assert info.value.message == (
        "spec: value_map: scores_a (item 3): the competitor's score is 0; the relative score "
        "s_i / a_i needs a score above 0")
