"""The word-equation library workbook: built from its spec, checked by two engines.

The workbook is built once for the module, with formulas and the values Python computed for
them (nothing else fills them in).  The formulas engine recomputes every formula cell
(``CVP_WORDEQ`` included) and LibreOffice every native one, once each; both must find the
stored values (numbers within 1e-9, relative or absolute).  For every equation the CVP_WORDEQ
column, the native column and Python's ``wordeq.evaluate`` agree, and the unit is money per
period.
"""

from __future__ import annotations

import math
import numbers

import openpyxl
import pytest
from helpers import close, requires_libreoffice
from openpyxl.formula.tokenizer import Token, Tokenizer

from cvp_xl import wordeq
from cvp_xl.errors import CvpError, ErrorValue
from cvp_xl.hosts.libreoffice import read_values
from cvp_xl.hosts.native import cvp_calls
from cvp_xl.workbooks import wordeq_library as lib
from cvp_xl.xlsx.share_safe import functions_in

FIRST = lib.HEADER_ROW + 1
COL = {key: openpyxl.utils.get_column_letter(j) for j, key in enumerate(lib.COLUMNS, start=1)}
ELEMENTS = ("downtime", "energy", "labor", "scrap", "inventory carrying cost", "maintenance",
            "freight", "warranty", "working capital", "compliance", "time to market")


@pytest.fixture(scope="module")
def spec():
    return lib.load_spec()


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    paths = lib.build_example_workbooks(tmp_path_factory.mktemp("wordeq_library"))
    assert [p.name for p in paths] == ["word-equations-library.xlsx"]
    return paths[0]


@pytest.fixture(scope="module")
def formulas_of(path):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.data_type == "f"}


@pytest.fixture(scope="module")
def cached(path):
    return read_values(path)


@pytest.fixture(scope="module")
def engine(path):
    from cvp_xl.commands.recalc import compute

    return compute(path).values


@pytest.fixture(scope="module")
def libreoffice(path):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    return libreoffice_values(path)


def same(stored, computed) -> bool:
    """Numbers within 1e-9 (relative or absolute); anything else exactly."""
    if isinstance(stored, bool) or isinstance(computed, bool):
        return stored == computed
    if isinstance(stored, numbers.Real) and isinstance(computed, numbers.Real):
        return math.isclose(stored, computed, rel_tol=1e-9, abs_tol=1e-9)
    return stored == computed


def cells_read(sheet: str, formula: str) -> set[tuple[str, str]]:
    """The single cells a formula refers to, as ``(sheet, "A1")``."""
    out = set()
    for token in Tokenizer(formula).items:
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            where, _, ref = token.value.rpartition("!")
            if ":" not in ref:
                out.add((where.strip("'") or sheet, ref.replace("$", "")))
    return out


def native_cells(formulas_of) -> list[tuple[str, str]]:
    """Formula cells that call no CVP_* function and read no cell that does."""
    cvp = {key for key, formula in formulas_of.items() if cvp_calls(formula)}
    return [key for key, formula in formulas_of.items()
            if key not in cvp and not cells_read(key[0], formula) & cvp]


def rows(spec):
    return range(FIRST, FIRST + len(spec["equations"]))


def test_at_least_twelve_equations_covering_the_common_elements(spec, cached):
    assert len(spec["equations"]) >= 12
    listed = " ".join(e["element"].lower() for e in spec["equations"])
    assert [e for e in ELEMENTS if e not in listed] == []
    for r, e in zip(rows(spec), spec["equations"]):
        assert cached[(lib.EQUATIONS, f"{COL['element']}{r}")] == e["element"]
        assert cached[(lib.EQUATIONS, f"{COL['equation']}{r}")] == e["equation"]


def test_every_formula_has_a_cached_value_and_no_error(formulas_of, cached):
    assert len(formulas_of) >= 4 * 12
    assert [key for key in formulas_of if key not in cached] == []
    assert {k: cached[k] for k in formulas_of if isinstance(cached[k], ErrorValue)} == {}


def test_cvp_wordeq_equals_native_equals_python(spec, cached):
    for r, e in zip(rows(spec), spec["equations"]):
        names = [i["name"] for i in e["inputs"]]
        python = wordeq.evaluate(e["equation"], names, [i["value"] for i in e["inputs"]])
        cvp = cached[(lib.EQUATIONS, f"{COL['cvp']}{r}")]
        native = cached[(lib.EQUATIONS, f"{COL['native']}{r}")]
        assert close(cvp, python) and close(native, python), (e["element"], cvp, native, python)
        assert cached[(lib.EQUATIONS, f"{COL['agree']}{r}")] == "yes"


def test_hand_calculations(spec):
    values = {e["element"]: e["value"] for e in spec["equations"]}
    assert values["Downtime"] == 72000.0  # DOMAIN.md §4 form: (12 - 4) x 6 x 1500
    assert close(values["Maintenance"], 6880.0)  # (12 - 4) x (6 x 85 + 350) = 8 x 860
    assert close(values["Working capital"], 2e6 * 30 / 365 * 0.08)  # 13,150.68...
    assert close(values["Added capacity"], 162500.0)  # MIN(40000, 25000) x 6.5


def test_every_unit_is_money_per_period(spec, cached):
    for r, e in zip(rows(spec), spec["equations"]):
        unit = cached[(lib.EQUATIONS, f"{COL['unit']}{r}")]
        names = [i["name"] for i in e["inputs"]]
        assert unit == wordeq.unit(e["equation"], names, [i["unit"] for i in e["inputs"]])
        assert wordeq.is_money_per_period(unit), (e["element"], unit)


def test_native_column_is_the_translation_and_share_safe(spec, formulas_of, cached):
    for r in rows(spec):
        native = formulas_of[(lib.EQUATIONS, f"{COL['native']}{r}")]
        assert not any(f.startswith("CVP_") for f in functions_in(native))
        assert set(functions_in(native)) <= {"MIN", "MAX", "ABS", "ROUND"}
        assert cached[(lib.EQUATIONS, f"{COL['formula']}{r}")] == native
        cvp = formulas_of[(lib.EQUATIONS, f"{COL['cvp']}{r}")]
        assert cvp.startswith(f"=CVP_WORDEQ({COL['equation']}{r},Inputs!$C$")


def test_native_formula_of_the_downtime_equation(formulas_of):
    assert formulas_of[(lib.EQUATIONS, f"{COL['native']}{FIRST}")] == (
        "=(Inputs!$E$5-Inputs!$E$6)*Inputs!$E$7*Inputs!$E$8")


def test_the_formulas_engine_recomputes_every_stored_value(formulas_of, cached, engine):
    diffs = [f"{key}: stored {cached.get(key)!r}, formulas engine {engine.get(key)!r}"
             for key in formulas_of if not same(cached.get(key), engine.get(key))]
    assert diffs == []


def test_the_native_cells_are_the_native_column(spec, formulas_of):
    # the Agree column calls no CVP_* function but reads the CVP_WORDEQ column
    assert sorted(native_cells(formulas_of)) == sorted(
        (lib.EQUATIONS, f"{COL['native']}{r}") for r in rows(spec))


@requires_libreoffice
def test_libreoffice_recomputes_every_native_value(formulas_of, cached, libreoffice):
    keys = native_cells(formulas_of)
    assert keys
    diffs = [f"{key}: stored {cached.get(key)!r}, LibreOffice {libreoffice.get(key)!r}"
             for key in keys if not same(cached.get(key), libreoffice.get(key))]
    assert diffs == []


def test_inputs_are_examples_with_units_and_sources(spec, cached):
    inputs = {ref: v for (sheet, ref), v in cached.items() if sheet == lib.INPUTS}
    sources = [v for ref, v in inputs.items()
               if ref.startswith("F") and int(ref[1:]) > lib.HEADER_ROW]
    assert len(sources) == sum(len(e["inputs"]) for e in spec["equations"])
    assert all(s.startswith("Example") for s in sources)
    assert cached[(lib.INPUTS, "C5")] == "Unplanned stops per year with the alternative"
    assert (cached[(lib.INPUTS, "D5")], cached[(lib.INPUTS, "E5")]) == ("stops/year", 12)


def test_readable(path, spec):
    wb = openpyxl.load_workbook(path)
    ws = wb[lib.EQUATIONS]
    for key, (header, width, wrap) in lib.COLUMNS.items():
        assert ws.column_dimensions[COL[key]].width == width
        assert ws[f"{COL[key]}{lib.HEADER_ROW}"].value == header
        assert bool(ws[f"{COL[key]}{FIRST}"].alignment.wrap_text) == wrap
    assert ws.freeze_panes == f"A{FIRST}"
    for r, e in zip(rows(spec), spec["equations"]):
        # a wrapped equation needs about one line per 80 characters at width 70
        lines = len(e["equation"]) / (1.2 * (lib.COLUMNS["equation"][1] - 2))
        assert ws.row_dimensions[r].height >= lib.LINE_HEIGHT * lines, e["element"]
    inputs = wb[lib.INPUTS]
    assert inputs["F5"].alignment.wrap_text and inputs.column_dimensions["F"].width >= 60
    assert inputs["E5"].fill.fgColor.rgb.endswith("FFF2CC")


@pytest.mark.parametrize("change,message", [
    (lambda s: s["equations"][0]["inputs"][0].update(source="The customer's log"),
     "spec: Downtime: inputs[1]: the source must say the figure is an example (start with "
     "'Example'), got \"The customer's log\""),
    (lambda s: s["equations"][0]["inputs"][3].update(unit="USD"),
     "spec: Downtime: the equation's unit is USD*hour/year, not money per period"),
    (lambda s: s["equations"][0]["inputs"][2].update(value="six"),
     "spec: Downtime: inputs[3]: value: expected a number, got 'six'"),
    (lambda s: s["equations"][0].update(equation="Savings = (Hours lost per stop"),
     "spec: Downtime: unbalanced parenthesis at position 11: '(' is never closed"),
    (lambda s: s["equations"][0]["inputs"][0].update(unit="hours/year"),
     "spec: Downtime: cannot subtract 'Unplanned stops per year with ours' (stop/year) from "
     "'Unplanned stops per year with the alternative' (hour/year)"),
])
def test_bad_spec_is_refused_with_the_equation_named(change, message):
    import yaml

    with open(lib.LIBRARY, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    change(data)
    with pytest.raises(CvpError) as info:
        lib.load_spec(data)
    assert info.value.message == message
