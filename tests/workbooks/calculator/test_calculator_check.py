"""A tamper-evident calculator: every kind of edit is reported with its cell.

Each edit is made with openpyxl, as a user would, and the same file is then also saved
through LibreOffice (which rewrites every formula and number format in its own way): both
must be reported with the same lines.  An untouched calculator saved through LibreOffice is
clean.  A row inserted in LibreOffice itself (which, like Excel, moves every reference) is
reported as the one added row and nothing else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from commands.libreoffice_session import edit_in_libreoffice
from helpers import requires_libreoffice

from cvp_xl.commands.batch import build_many
from cvp_xl.commands.upgrade import upgrade
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import digests, load_spec
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.calculator.check import KINDS, check_calculator

SPEC_PATH = example("calculators", "fleet-routing.yaml")
BUILT = dt.datetime(2025, 3, 1, 9, 30)
RECORD = digests.DIGEST_SHEET
PROPERTY = digests.DIGEST_PROPERTY


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC_PATH)


@pytest.fixture(scope="module")
def original(spec, tmp_path_factory):
    path = tmp_path_factory.mktemp("original") / "calculator.xlsx"
    layout = build(spec, path, customer="Acme", built_at=BUILT)
    return path, layout


# Each edit: (what it does to the openpyxl workbook, the lines check must print).  ``L`` is
# the layout of the original file, ``S`` its spec.

def _typed_over(wb, L, S):
    total = L.results["total_per_year"]
    wb["Summary"][total] = 999999
    first = L.element_rows[S.elements[0].name]
    wb["Value"][f"G{first}"] = 500000
    return [f"Summary!{total}: the formula was replaced by the typed value 999999",
            f"Value!G{first}: the formula was replaced by the typed value 500000"]


def _formula_edited(wb, L, S):
    ref = L.results["differential"]
    text = wb["Summary"][ref].value
    assert "-MAX(" in text
    wb["Summary"][ref] = text.replace("-MAX(", "+MAX(")
    return [f"Summary!{ref}: the formula was edited: now {text.replace('-MAX(', '+MAX(')}"]


def _formula_deleted(wb, L, S):
    ref = L.results["npv"]
    wb["Summary"][ref] = None
    return [f"Summary!{ref}: the formula was deleted; the cell is empty"]


def _unprotected(wb, L, S):
    wb["Value"].protection.sheet = False
    return ["Value: the sheet is not protected; the template protects it so that formulas are "
            "not typed over"]


def _sheet_added(wb, L, S):
    wb.create_sheet("My numbers")["A1"] = 123
    return ["My numbers: a sheet was added to the calculator"]


def _sheet_removed(wb, L, S):
    del wb["Sensitivity"]
    return ["Sensitivity: the sheet was deleted"]


def _order(wb, L, S):
    # 'Mileage reduction with ours' (allowed 0 to 0.5): low 0.2 above high 0.02, both allowed
    r = L.input_rows["Mileage reduction with ours"]
    wb["Inputs"][f"E{r}"] = 0.2
    wb["Inputs"][f"F{r}"] = 0.02
    return [f"Inputs!E{r}: 'Mileage reduction with ours': low (0.2) is greater than high (0.02);"
            f" the Low case may then total more than Base"]


def _base_outside(wb, L, S):
    r = L.input_rows["Overtime cost per hour"]
    wb["Inputs"][f"D{r}"] = 60  # low 38, high 48
    return [f"Inputs!D{r}: 'Overtime cost per hour': base (60) is not between low (38) and "
            f"high (48)"]


def _protected_changed(wb, L, S):
    r = L.input_rows["Mileage reduction with ours"]
    wb["Inputs"][f"H{r}"] = 5  # the allowed maximum, 0.5
    wb["Summary"]["B8"] = 10   # the horizon, 3 years
    return ["Summary!B8: the protected value was changed to 10",
            f"Inputs!H{r}: the protected value was changed to 5"]


def _format_changed(wb, L, S):
    ref = L.results["payback"]
    wb["Summary"][ref].number_format = '"0.5"'  # shows 0.5 whatever the payback
    return [f"Summary!{ref}: the number format was changed"]


def _unlocked(wb, L, S):
    ref = L.results["differential"]
    wb["Summary"][ref].protection = openpyxl.styles.Protection(locked=False)
    return [f"Summary!{ref}: the cell was unlocked; the template locks it"]


def _cell_added(wb, L, S):
    wb["Summary"]["H3"] = "=Summary!B28*2"
    wb["Value"]["J2"] = "ignore the value above"
    return ["Summary!H3: a formula =Summary!B28*2 where the template has none",
            "Value!J2: the value 'ignore the value above' where the template has none"]


def _digests_edited(wb, L, S):
    ws = wb[RECORD]  # change the recorded digest of Summary!B8 (the horizon)
    row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value == "Summary")
    text = ws.cell(row, 3).value
    at = text.index(" B8=v") + len(" B8=v")
    ws.cell(row, 3).value = text[:at] + "0" * 12 + text[at + 12:]
    return [f"{RECORD}: the template digests were edited: their digest is not the one in the "
            f"document property '{PROPERTY}'",
            "Summary!B8: the protected value was changed to 3"]


def _digests_removed(wb, L, S):
    del wb[RECORD]
    return [f"{RECORD}: missing: this calculator carries no template digests (built before "
            "cvp-xl kept them, or the sheet was deleted), so its formulas cannot be compared "
            "without the spec; pass --spec SPEC to rebuild the template, or rebuild the file "
            "with `cvp-xl upgrade`"]


def _property_removed(wb, L, S):
    wb.custom_doc_props.props = [p for p in wb.custom_doc_props.props if p.name != PROPERTY]
    return [f"{RECORD}: the document property '{PROPERTY}' that holds the digest of the "
            "template digests is missing"]


EXACT = {
    "typed-over": _typed_over, "formula-edited": _formula_edited,
    "formula-deleted": _formula_deleted, "unprotected": _unprotected,
    "sheet-added": _sheet_added, "sheet-removed": _sheet_removed, "order": _order,
    "base-outside": _base_outside, "protected-changed": _protected_changed,
    "format-changed": _format_changed, "unlocked": _unlocked, "cell-added": _cell_added,
    "digests-edited": _digests_edited, "digests-removed": _digests_removed,
    "property-removed": _property_removed,
}


def _row_added(wb, L, S):
    # openpyxl moves the cells down but no reference (a user's script would do the same):
    # the row is reported first, then every formula whose references now point elsewhere
    row = int(L.results["total_per_year"][1:])  # the total's row
    wb["Summary"].insert_rows(row)
    wb["Summary"][f"A{row}"] = "Extra benefit"
    wb["Summary"][f"D{row}"] = 100000
    return row


def _row_removed(wb, L, S):
    row = int(L.results["next_best"][1:])
    wb["Summary"].delete_rows(row)
    return row


@pytest.fixture(scope="module")
def edited(original, spec, tmp_path_factory):
    """Every edit made with openpyxl: {name: (path, expected lines or the row)}."""
    path, layout = original
    out = tmp_path_factory.mktemp("edited")
    made = {}
    for name, edit in {**EXACT, "row-added": _row_added, "row-removed": _row_removed}.items():
        wb = openpyxl.load_workbook(path)
        expected = edit(wb, layout, spec)
        target = out / f"{name}.xlsx"
        wb.save(target)
        made[name] = (target, expected)
    return made


@pytest.fixture(scope="module")
def through_libreoffice(original, edited, tmp_path_factory):
    """The original and every edited file, saved through LibreOffice (one run)."""
    from cvp_xl.hosts.libreoffice import recalc_with_libreoffice

    out = tmp_path_factory.mktemp("libreoffice")
    paths = [original[0]] + [p for p, _ in edited.values()]
    saved = recalc_with_libreoffice(paths, out)
    return dict(zip([p.stem for p in paths], saved))


def _lines(path, spec=None) -> list[str]:
    return [str(p) for p in check_calculator(path, spec).problems]


def test_an_untouched_calculator_is_clean(original, spec):
    path, _ = original
    assert _lines(path) == []
    assert _lines(path, spec) == []


@requires_libreoffice
def test_an_untouched_calculator_saved_through_libreoffice_is_clean(through_libreoffice, spec):
    saved = through_libreoffice["calculator"]
    assert openpyxl.load_workbook(saved)[RECORD].sheet_state == "hidden"  # was veryHidden
    assert _lines(saved) == []
    assert _lines(saved, spec) == []


@pytest.mark.parametrize("name", EXACT)
def test_each_edit_is_reported_by_cell(name, edited):
    path, expected = edited[name]
    assert _lines(path) == expected


@requires_libreoffice
@pytest.mark.parametrize("name", EXACT)
def test_each_edit_saved_through_libreoffice_is_reported_the_same(name, edited,
                                                                  through_libreoffice):
    _, expected = edited[name]
    assert _lines(through_libreoffice[name]) == expected


@pytest.mark.parametrize("name", ["typed-over", "formula-edited", "unprotected", "order",
                                  "protected-changed", "cell-added"])
def test_with_the_spec_the_rebuilt_template_finds_the_same(name, edited, spec):
    path, expected = edited[name]
    report = check_calculator(path, spec)
    assert [str(p) for p in report.problems] == expected
    assert report.compared_with == "rebuilt template"


def test_with_the_spec_the_template_formula_is_quoted(edited, spec, original):
    path, _ = edited["typed-over"]
    first = check_calculator(path, spec).problems[0]
    template = openpyxl.load_workbook(original[0])["Summary"][first.ref].value
    assert first.as_json() == {
        "kind": "formula-replaced", "sheet": "Summary", "cell": first.ref,
        "message": "the formula was replaced by the typed value 999999", "expected": template}


def test_without_digests_the_spec_still_finds_the_edit(edited, spec, original):
    path = edited["digests-removed"][0]
    wb = openpyxl.load_workbook(path)
    total = original[1].results["total_per_year"]
    wb["Summary"][total] = 1
    wb.save(path.with_name("no-digests-typed.xlsx"))
    lines = _lines(path.with_name("no-digests-typed.xlsx"), spec)
    assert lines[1:] == [f"Summary!{total}: the formula was replaced by the typed value 1"]
    assert lines[0].startswith(f"{RECORD}: missing: ")


def test_digests_rewritten_to_match_an_edit_are_caught_by_the_spec(edited, spec, tmp_path,
                                                                   original):
    # a forger edits a formula, then recomputes the record and its property: without the
    # spec nothing shows; the rebuilt template shows both the record and the formula
    path, _ = edited["formula-edited"]
    forged = tmp_path / "forged.xlsx"
    wb = openpyxl.load_workbook(path)
    record = digests.read_record(wb)
    record.sheets = digests.fingerprint(wb, record.build).sheets
    del wb[RECORD]
    prop = digests.write_record(wb, record)
    wb.custom_doc_props.props = [p for p in wb.custom_doc_props.props if p.name != PROPERTY]
    wb.custom_doc_props.append(openpyxl.packaging.custom.StringProperty(name=PROPERTY,
                                                                        value=prop))
    wb.save(forged)
    assert _lines(forged) == []
    lines = _lines(forged, spec)
    assert lines[0] == (f"{RECORD}: the template digests are not those of the template rebuilt "
                        f"from {SPEC_PATH}")
    differential = original[1].results["differential"]  # the cell _formula_edited edits
    assert lines[1].startswith(f"Summary!{differential}: the formula was edited: now ")


def test_a_row_added_with_openpyxl(edited):
    path, row = edited["row-added"]
    problems = check_calculator(path).problems
    rows = [p for p in problems if p.kind == "row-added"]
    assert [str(p) for p in rows] == [f"Summary!A{row}: row {row} was added inside the model"]
    # openpyxl moved no reference: the formulas that read the rows below (the measures, and
    # the statement and figures at the top that read them) now point one row off, and say so
    assert {p.kind for p in problems if p not in rows} == {"formula-edited"}


def test_a_row_removed_with_openpyxl(edited):
    path, row = edited["row-removed"]
    problems = check_calculator(path).problems
    rows = [p for p in problems if p.kind == "row-removed"]
    assert [str(p) for p in rows] == [f"Summary!A{row}: row {row} of the template was deleted"]
    assert {p.kind for p in problems if p not in rows} <= {"formula-edited"}


@requires_libreoffice
@pytest.mark.parametrize("name", ["row-added", "row-removed"])
def test_rows_changed_with_openpyxl_and_saved_through_libreoffice(name, edited,
                                                                  through_libreoffice):
    path, row = edited[name]
    assert _lines(through_libreoffice[name]) == _lines(path)


@requires_libreoffice
def test_a_row_inserted_in_libreoffice_is_the_one_problem(original, spec, tmp_path):
    # LibreOffice, like Excel, moves every reference when a row is inserted: SUM(D42:D44)
    # above the total becomes SUM(D42:D45) and counts the new row.  The check maps the rows
    # back and reports the added row, and nothing else.
    path, layout = original
    total = int(layout.results["total_per_year"][1:])
    row = total - 1  # above the last value element, inside the range the total sums
    target = tmp_path / "inserted.xlsx"
    actions = [["unprotect", "Summary"], ["insert_row", "Summary", row],
               ["set", "Summary", f"A{row}", "Extra benefit"],
               ["set", "Summary", f"D{row}", 100000], ["protect", "Summary"]]
    edit_in_libreoffice([{"src": path, "dst": target, "actions": actions}])
    formula = openpyxl.load_workbook(target)["Summary"][f"D{total + 1}"].value
    first = total - len(spec.elements)  # the first value element's row
    assert f"SUM(D{first}:D{total})" in formula  # LibreOffice widened the range over the new row
    expected = [f"Summary!A{row}: row {row} was added inside the model"]
    assert _lines(target) == expected
    assert _lines(target, spec) == expected


def test_another_spec_is_reported_and_not_used(original):
    other = load_spec(example("calculators", "low-voc-coating.yaml"))
    report = check_calculator(original[0], other)
    assert [str(p) for p in report.problems] == [
        f"About!B7: the calculator names spec digest '{load_spec(SPEC_PATH).digest}'; "
        f"{other.path} has digest '{other.digest}': the template was not rebuilt from it"]
    assert report.compared_with == "stored digests"


def test_batch_and_upgrade_files_are_clean_with_their_spec(spec, tmp_path):
    import pandas as pd

    table = pd.DataFrame({"customer_id": ["A-1", "A-2"], "customer_name": ["One", "Two"],
                          **{i.name: [i.low, i.high] for i in spec.inputs}})
    report = build_many(spec, table, tmp_path)
    assert report.ok
    for path in report.written:
        assert _lines(path) == [] and _lines(path, spec) == []
    # upgrade to a spec without one input: the customer's low/high are kept, and the input
    # dropped goes to the sheet "Carried over"; the new file is clean with the new spec
    text = SPEC_PATH.read_text(encoding="utf-8")
    start = text.index("  - name: Overtime cost per hour")
    end = text.index("  - name:", start + 10)
    new_text = text[:start] + text[end:]
    start = new_text.index("  - name: Driver overtime avoided")
    end = new_text.index("  - name: Late-delivery penalties avoided")
    new_text = new_text[:start] + new_text[end:]
    new_path = tmp_path / "new-spec.yaml"
    new_path.write_text(new_text, encoding="utf-8")
    new_spec = load_spec(new_path)
    result = upgrade(tmp_path, new_spec)
    assert not result.failed
    for path in result.upgraded:
        assert "Carried over" in openpyxl.load_workbook(path).sheetnames
        assert _lines(path) == [] and _lines(path, new_spec) == []


def test_every_kind_is_documented():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"`{kind}`" in readme, kind
