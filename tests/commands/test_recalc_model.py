"""recalc computes a calculator cvp-xl built by its own model; anything else by the engine.

Every example calculator goes to a customer and comes back edited in LibreOffice (a price,
the scenario), saved by LibreOffice: ``recalc`` recognises it and computes it by the model,
and every formula cell equals what the formulas engine computes (the general path, on the same
file) and what LibreOffice itself computed when it saved the file.  A tampered calculator
(a formula typed over, its record edited, a formula added), one with an invalid input, and
an ordinary workbook go to the engine, and ``why`` says why.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from commands.libreoffice_session import edit_in_libreoffice
from helpers import close

from cvp_xl.commands.by_model import calculator_values
from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute
from cvp_xl.errors import ErrorValue
from cvp_xl.hosts.libreoffice import find_soffice
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec, model
from cvp_xl.workbooks.calculator.builder import build

SPECS = sorted(example("calculators").glob("*.yaml"))


def _same(a, b) -> bool:
    a = "" if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = "" if b is None or (isinstance(b, float) and math.isnan(b)) else b
    return close(a, b)


def _cached(path: Path) -> dict:
    """Every formula cell's cached value, as the file stores it."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): (ErrorValue(v.value) if v.data_type == "e" else v.value)
            for ws in formulas.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f" for v in [values[ws.title][c.coordinate]]}


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    """{spec path: (spec, the file as LibreOffice saved it after the customer's edits)}."""
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) not found; install Debian's libreoffice-calc-nogui")
    out = tmp_path_factory.mktemp("returned")
    jobs, found = [], {}
    for path in SPECS:
        spec = load_spec(path)
        sent = out / f"{path.stem}-sent.xlsx"
        layout = build(spec, sent, customer="Acme Ltd")
        back = out / f"{path.stem}.xlsx"
        price = layout.price_rows[spec.offering.name]
        jobs.append({"src": sent, "dst": back, "actions": [
            ["set", "Inputs", f"E{price}", spec.offering.recurring * 1.25 + 1],
            ["set", "Summary", "B4", "Conservative"]]})
        found[path] = (spec, back)
    edit_in_libreoffice(jobs)
    return found


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_a_returned_calculator_is_computed_by_its_model(path, returned):
    spec, back = returned[path]
    by_model = compute(back)
    engine = compute(back, by_model=False)
    assert by_model.by_model and not engine.by_model
    assert by_model.values.keys() == engine.values.keys()
    assert len(by_model.values) > 100
    wrong = {k: (v, engine.values[k]) for k, v in by_model.values.items()
             if not _same(v, engine.values[k])}
    assert wrong == {}
    # LibreOffice computed the edited file when it saved it: the same values again
    libreoffice = _cached(back)
    assert {k: (v, libreoffice[k]) for k, v in by_model.values.items()
            if not _same(v, libreoffice[k])} == {}
    # the edits took: the conservative case halves every claim (spec: CONSERVATIVE_FACTOR)
    assert by_model.values[("Summary", "B6")] == 0.5


def test_recalc_writes_the_models_values_and_says_so(returned, tmp_path):
    spec, back = returned[SPECS[0]]
    out = tmp_path / "recalculated.xlsx"
    n = len(_cached(back))
    result = CliRunner().invoke(main, ["recalc", str(back), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"{out}: {n} formula cells: {n} computed, 0 kept (not "
                             f"recomputed), 0 errors, by the calculator's model\n")
    engine = compute(back, by_model=False).values
    written = _cached(out)
    assert {k: (v, engine[k]) for k, v in written.items() if not _same(v, engine[k])} == {}


def _tampered(back: Path, tmp_path: Path, name: str, edit) -> Path:
    target = tmp_path / f"{name}.xlsx"
    shutil.copy(back, target)
    wb = openpyxl.load_workbook(target)
    edit(wb)
    wb.save(target)
    return target


def _first_formula(ws) -> str:
    return next(c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f")


def test_a_tampered_calculator_goes_to_the_engine(returned, tmp_path):
    _, back = returned[SPECS[0]]
    wb = openpyxl.load_workbook(back)
    g = _first_formula(wb["Value"])
    typed_over = _tampered(back, tmp_path, "typed-over",
                           lambda wb: wb["Value"].__setitem__(g, 12345))
    assert calculator_values(typed_over).why == (
        f"it is not its template rebuilt with its entries (Value!{g}: the template's formula "
        f"was replaced by a value)")
    result = compute(typed_over)
    assert not result.by_model
    assert result.values[("Summary", "B7")] is True  # the engine computed the file as it is

    def edit_record(wb):
        ws = wb["Template digests"]
        ws["C4"] = ws["C4"].value.replace("=f", "=v", 1)

    assert calculator_values(_tampered(back, tmp_path, "record", edit_record)).why == \
        "its template record was edited"
    added = _tampered(back, tmp_path, "added", lambda wb: wb["Summary"].__setitem__(
        "F30", "=Summary!B8*2"))
    assert calculator_values(added).why == (
        "it is not its template rebuilt with its entries (Summary!F30: a formula the template "
        "does not have there)")


def test_a_note_in_a_free_cell_keeps_the_model(returned, tmp_path):
    _, back = returned[SPECS[0]]
    noted = _tampered(back, tmp_path, "noted", lambda wb: wb["Summary"].__setitem__(
        "F30", "Call Pat before the renewal"))
    found = calculator_values(noted)
    assert (found.why, len(found.values)) == ("", len(_cached(back)))


def test_an_invalid_input_goes_to_the_engine_which_reports_it(returned, tmp_path):
    spec, back = returned[SPECS[0]]
    bad = _tampered(back, tmp_path, "bad", lambda wb: wb["Inputs"].__setitem__("D5", "abc"))
    first = spec.inputs[0]
    assert calculator_values(bad).why == (
        f"an input is not valid (Inputs!D5: '{first.name}' (base): expected a number in "
        f"{first.unit}, got 'abc')")
    result = compute(bad)
    assert not result.by_model
    assert result.problems and result.problems[0].startswith(
        "Summary!B7: the calculator reports invalid inputs")


def test_an_ordinary_workbook_goes_to_the_engine(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"] = 2, "=A1*3"
    wb.save(tmp_path / "plain.xlsx")
    assert calculator_values(tmp_path / "plain.xlsx").why == (
        "it carries no document property 'cvp-xl-template-digest'")
    result = compute(tmp_path / "plain.xlsx")
    assert (result.by_model, result.values[("Sheet", "A2")]) == (False, 6)
    assert not result.summary().endswith("by the calculator's model")


def test_entries_that_change_the_layout_go_to_the_engine(tmp_path):
    """The Sensitivity rows are ordered by the swing of the figures the file was built with;
    entries that would order them otherwise make another template, so the engine computes
    the file (its formulas keep the order they were built with)."""
    spec = load_spec(SPECS[0])
    built = model.sensitivity(spec)
    order = [s["input"] for s in sorted(built, key=lambda s: -abs(s["swing"]))]
    edit = None
    for i in spec.inputs:  # an input moved to an end of its range that reorders the swings
        for end in (i.low, i.high):
            moved = model.sensitivity(spec, {i.name: end})
            if [s["input"] for s in sorted(moved, key=lambda s: -abs(s["swing"]))] != order:
                edit = (i, end)
                break
        if edit:
            break
    assert edit is not None
    path = tmp_path / "sent.xlsx"
    layout = build(spec, path, customer="Acme Ltd")
    i, end = edit
    moved = _tampered(path, tmp_path, "moved", lambda wb: wb["Inputs"].__setitem__(
        f"D{layout.input_rows[i.name]}", end))
    assert calculator_values(moved).why.startswith(
        "it is not its template rebuilt with its entries (Sensitivity!")
    assert not compute(moved).by_model


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_the_streaming_read_of_a_calculator_is_the_full_reads(path, returned, tmp_path):
    """``read_calculator(..., cells_only=True)`` (what the model's path reads) finds what
    openpyxl's full load finds, in the file as LibreOffice saved it and in one built by
    cvp-xl that carries inputs of an earlier version (its "Carried over" sheet)."""
    from dataclasses import fields

    from cvp_xl.commands.entered import read_calculator

    spec, back = returned[path]
    built = tmp_path / "carried.xlsx"
    build(spec, built, customer="Acme Ltd", carried=[
        {"input": "Old input", "unit": "h", "base": 3.0, "low": 1.0, "high": 5.0,
         "source": "=not a formula"}])
    for file in (back, built):
        full, cells = read_calculator(file), read_calculator(file, cells_only=True)
        for f in fields(full):
            if f.name not in ("wb", "values"):
                assert getattr(cells, f.name) == getattr(full, f.name), (file, f.name)
        assert cells.wb.sheetnames == full.wb.sheetnames
        assert [ws.sheet_state for ws in cells.wb.worksheets] == [
            ws.sheet_state for ws in full.wb.worksheets]
        assert full.carried if file == built else not full.carried


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_no_formula_of_a_calculator_reads_a_cell_its_template_leaves_empty(path, tmp_path):
    """The model's path lets a note stand in a free cell (one the template leaves empty):
    that is sound because no formula reads such a cell, so the note cannot change a value
    the engine would compute.  Every reference of every formula, in every scenario, is to
    cells the template fills (and none is open-ended: a whole column or row)."""
    from openpyxl.formula.tokenizer import Token, Tokenizer
    from openpyxl.utils.cell import range_boundaries

    spec = load_spec(path)
    for scenario in ("Base", "Low", "High", "Conservative"):
        built = tmp_path / f"{scenario}.xlsx"
        build(spec, built, customer="Acme Ltd", scenario=scenario)
        wb = openpyxl.load_workbook(built)
        filled = {(ws.title, c.row, c.column) for ws in wb.worksheets
                  for c in ws._cells.values() if c.value not in (None, "")}
        refs, empty = 0, []
        for ws in wb.worksheets:
            for cell in list(ws._cells.values()):
                if cell.data_type != "f":
                    continue
                for token in Tokenizer(str(cell.value)).items:
                    if token.type != Token.OPERAND or token.subtype != Token.RANGE:
                        continue
                    sheet, _, ref = token.value.replace("$", "").rpartition("!")
                    sheet = sheet.strip("'").replace("''", "'") or ws.title
                    lo_col, lo_row, hi_col, hi_row = range_boundaries(
                        ref if ":" in ref else f"{ref}:{ref}")
                    assert None not in (lo_col, lo_row, hi_col, hi_row), token.value
                    refs += 1
                    empty += [(ws.title, cell.coordinate, sheet, r, c)
                              for r in range(lo_row, hi_row + 1)
                              for c in range(lo_col, hi_col + 1)
                              if (sheet, r, c) not in filled]
        assert refs > 500 and empty == [], (scenario, empty[:5])
