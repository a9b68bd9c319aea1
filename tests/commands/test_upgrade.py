"""``cvp-xl upgrade``: everything a person put in a calculator survives a new spec, found by
name; files edited with openpyxl and in LibreOffice; the guards and the summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from commands.libreoffice_session import edit_in_libreoffice
from helpers import close, requires_libreoffice
from openpyxl.comments import Comment

from cvp_xl.commands.batch import build_many
from cvp_xl.commands.cli import main
from cvp_xl.commands.upgrade import upgrade
from cvp_xl.workbooks.calculator import load_spec, model, parse_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "workbooks" / "calculators" / "fleet-routing.yaml"
COATING = ROOT / "workbooks" / "calculators" / "low-voc-coating.yaml"
OVERTIME = "Overtime cost per hour"
LOADED = "Loaded overtime cost per hour"
DISPATCH = "Dispatcher hours saved per year"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def table_for(spec, n, seed=5):
    rng = np.random.default_rng(seed)
    data = {"customer_id": [f"C-{k:04d}" for k in range(n)],
            "customer_name": [f"Customer {k}" for k in range(n)]}
    for i in spec.inputs:
        data[i.name] = rng.uniform(i.low, i.high, n)
    return pd.DataFrame(data)


def v2_text(text: str) -> str:
    """Version 2: the overtime cost renamed (with ``was:``), a new input and a new element
    (so every Summary row below the elements moves down one)."""
    text = text.replace(f"  - name: {OVERTIME}\n", f"  - name: {LOADED}\n    was: {OVERTIME}\n")
    text = text.replace(f"× {OVERTIME}", f"× {LOADED}")
    text = text.replace("value_elements:\n", f"""  - name: {DISPATCH}
    unit: hours/year
    base: 500
    low: 300
    high: 700
    min: 0
    source: Dispatch log (example)
value_elements:
  - name: Dispatcher time saved
    category: economic
    tangible: true
    equation: {DISPATCH} × {LOADED}
""")
    return text


def row_of(ws, label) -> int:
    return next(c.row for (c,) in ws.iter_rows(min_col=1, max_col=1) if c.value == label)


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC_PATH)


@pytest.fixture()
def folder(spec, tmp_path):
    out = tmp_path / "calcs"
    build_many(spec, table_for(spec, 3), out)
    return out


def _spec_file(tmp_path, text, name="fleet-routing-v2.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_upgrade_renames_one_input_and_removes_another(spec, folder, tmp_path):
    table = table_for(spec, 3)
    wb = openpyxl.load_workbook(folder / "C-0001.xlsx")  # the customer edits a low value
    wb["Inputs"]["E5"] = 2_000_000
    wb.save(folder / "C-0001.xlsx")
    text = SPEC_PATH.read_text(encoding="utf-8")
    text = text.replace(f"  - name: {OVERTIME}\n", f"  - name: {LOADED}\n    was: {OVERTIME}\n")
    text = text.replace(f"× {OVERTIME}", f"× {LOADED}")
    removed = "Late deliveries per year with ours"
    start = text.index(f"  - name: {removed}")
    text = text[:start] + text[text.index("  - name: Penalty and credit per late delivery"):]
    text = text.replace("(Late deliveries per year with the alternative - Late deliveries per "
                        "year with ours)", "Late deliveries per year with the alternative × 60%")
    new = parse_spec(text, "fleet-routing-v2.yaml")
    report = upgrade(folder, new)
    assert report.failed == [] and len(report.upgraded) == 3
    assert report.lines[:3] == [
        f"C-0000.xlsx: '{LOADED}' <- '{OVERTIME}' (renamed)",
        f"C-0000.xlsx: '{removed}' is not in the new spec; kept in sheet 'Carried over'",
        "C-0000.xlsx: upgraded; 8 inputs carried over, 1 kept in 'Carried over'",
    ]
    assert report.lines[3:7] == [
        f"C-0001.xlsx: '{LOADED}' <- '{OVERTIME}' (renamed)",
        f"C-0001.xlsx: '{removed}' is not in the new spec; kept in sheet 'Carried over'",
        "C-0001.xlsx: Inputs!E5 'Miles driven per year' (low): kept 2,000,000",
        "C-0001.xlsx: upgraded; 8 inputs carried over, 1 kept in 'Carried over'"]
    wb = openpyxl.load_workbook(folder / "C-0001.xlsx")
    inputs = {wb["Inputs"].cell(r, 1).value: wb["Inputs"].cell(r, 4).value for r in range(5, 13)}
    assert inputs[LOADED] == pytest.approx(table.loc[1, OVERTIME], rel=1e-15)
    assert wb["Inputs"]["E5"].value == 2_000_000
    kept = list(wb["Carried over"].iter_rows(min_row=4, values_only=True))
    assert kept[0][0] == removed
    assert kept[0][2] == pytest.approx(table.loc[1, removed], rel=1e-15)
    backups = list(report.backup.glob("*.xlsx"))
    assert sorted(p.name for p in backups) == ["C-0000.xlsx", "C-0001.xlsx", "C-0002.xlsx"]
    assert openpyxl.load_workbook(report.backup / "C-0001.xlsx")["Inputs"]["A12"].value == removed
    assert not any(p.name.startswith(".") for p in folder.iterdir())
    # the summary now shows the upgraded files' results (the model on the carried values)
    summary = pd.read_excel(folder / "summary.xlsx").set_index("Customer id")
    assert list(summary["Status"]) == ["upgraded"] * 3
    given = {n: table.loc[2, n] for n in spec.input_names if n != removed}
    given[LOADED] = given.pop(OVERTIME)
    assert close(summary.loc["C-0002", "Total value per year (USD)"],
                 model.evaluate(new, given).total_per_year)


@requires_libreoffice
def test_upgrade_keeps_everything_a_person_put_in_the_file(spec, folder, tmp_path):
    from cvp_xl.hosts.libreoffice import libreoffice_values

    path = folder / "C-0001.xlsx"
    wb = openpyxl.load_workbook(path)
    inputs = wb["Inputs"]
    r_over, r_miles = row_of(inputs, OVERTIME), row_of(inputs, "Miles driven per year")
    r_offer, r_rival = row_of(inputs, "RouteWise dynamic routing"), row_of(inputs,
                                                                        "Rival routing SaaS")
    inputs[f"D{r_over}"] = 51.5                                      # a base value
    inputs[f"I{r_over}"] = "Payroll 2025, confirmed by HR"             # a source
    inputs[f"M{r_over}"] = "HR says 51.50 with benefits"               # a note beside it
    inputs[f"D{r_miles}"].comment = Comment("from the telematics export", "Dana")
    inputs[f"D{r_offer}"] = 20_000                                   # typed prices
    inputs[f"E{r_rival}"] = 28_000
    inputs[f"F{r_rival}"] = 110_000
    summary = wb["Summary"]
    summary.title = "Overview"                                       # a renamed sheet
    summary["B2"] = "Harbor Fresh (renamed by the customer)"
    summary["B4"] = "Low"
    r_diff = row_of(summary, "Value differential vs the next best (buy when > 0)")
    summary[f"F{r_diff}"] = "looks good"                             # a note in a free cell
    notes = wb.create_sheet("My notes")                              # an added sheet
    notes["A1"] = "Twice the differential"
    notes["B1"] = f"=Overview!B{r_diff}*2"
    notes.column_dimensions["A"].width = 30
    wb.save(path)
    new_path = _spec_file(tmp_path, v2_text(SPEC_PATH.read_text(encoding="utf-8")))
    result = run("upgrade", folder, "--spec", new_path, "-v", "--quiet")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("C-0001")]
    assert lines == [
        f"C-0001.xlsx: '{LOADED}' <- '{OVERTIME}' (renamed)",
        f"C-0001.xlsx: '{DISPATCH}' is new; the spec's base 500 is used",
        f"C-0001.xlsx: Overview!F{r_diff}: the note 'looks good' is now at Overview!"
        f"F{r_diff + 1} (next to its row's label)",
        f"C-0001.xlsx: Inputs!I{r_over} '{OVERTIME}' (source): kept 'Payroll 2025, confirmed by "
        "HR'",
        f"C-0001.xlsx: Inputs!D{r_offer} 'RouteWise dynamic routing' (one-time price): kept "
        "20,000",
        f"C-0001.xlsx: Inputs!E{r_rival} 'Rival routing SaaS' (recurring price per year): kept "
        "28,000",
        f"C-0001.xlsx: Inputs!F{r_rival} 'Rival routing SaaS' (value per year): kept 110,000",
        "C-0001.xlsx: Overview!B4 scenario: kept 'Low'",
        "C-0001.xlsx: upgraded; 9 inputs carried over",
    ]
    assert result.stderr == ""  # nothing that could not be carried
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["Overview", "Inputs"] and "My notes" in wb.sheetnames
    inputs, overview = wb["Inputs"], wb["Overview"]
    r = row_of(inputs, LOADED)
    assert (inputs[f"D{r}"].value, inputs[f"I{r}"].value, inputs[f"M{r}"].value) == (
        51.5, "Payroll 2025, confirmed by HR", "HR says 51.50 with benefits")
    assert inputs[f"D{row_of(inputs, 'Miles driven per year')}"].comment.text == (
        "from the telematics export")
    r_offer, r_rival = row_of(inputs, "RouteWise dynamic routing"), row_of(inputs,
                                                                        "Rival routing SaaS")
    assert inputs[f"D{r_offer}"].value == 20_000
    assert (inputs[f"E{r_rival}"].value, inputs[f"F{r_rival}"].value) == (28_000, 110_000)
    assert overview["B2"].value == "Harbor Fresh (renamed by the customer)"
    assert overview["B4"].value == "Low"
    new_diff = row_of(overview, "Value differential vs the next best (buy when > 0)")
    assert new_diff == r_diff + 1  # one more value element above it
    assert overview[f"F{new_diff}"].value == "looks good"
    assert wb["My notes"]["B1"].value == f"=Overview!B{new_diff}*2"
    assert wb["My notes"].column_dimensions["A"].width == 30
    # LibreOffice recomputes the upgraded file: every value Python stored agrees, and the
    # customer's own formula on the added sheet reads the moved differential
    lo = libreoffice_values(path)
    stored = openpyxl.load_workbook(path, data_only=True)
    checked = 0
    for ws in wb.worksheets:
        if ws.title in ("My notes", "Template digests"):
            continue
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    python = stored[ws.title][c.coordinate].value
                    assert close(lo.get((ws.title, c.coordinate), ""), "" if python is None
                                 else python), (ws.title, c.coordinate)
                    checked += 1
    assert checked > 150
    diff = stored["Overview"][f"B{new_diff}"].value
    assert close(lo[("My notes", "B1")], 2 * diff)


@requires_libreoffice
def test_a_file_saved_by_libreoffice_with_a_row_inserted_keeps_every_value(spec, folder,
                                                                          tmp_path):
    """LibreOffice moves every reference when a row is inserted (as Excel does): the inputs
    below it are one row lower; they are found by name, and the note in the new row, which
    has no place in the new template, is listed and kept on 'Carried over'."""
    src = folder / "C-0002.xlsx"
    edited = tmp_path / "C-0002.xlsx"
    r_over = row_of(openpyxl.load_workbook(src)["Inputs"], OVERTIME)
    edit_in_libreoffice([{"src": src, "dst": edited, "actions": [
        ["unprotect", "Inputs"], ["insert_row", "Inputs", 8],
        ["set", "Inputs", "A8", "Our own estimate of idle hours"], ["set", "Inputs", "D8", 1200],
        ["set", "Inputs", f"D{r_over + 1}", 47.25],
        ["comment", "Inputs", f"D{r_over + 1}", "agreed on the call"],
        ["protect", "Inputs"], ["rename", "Summary", "Résumé"],
        ["set", "Résumé", "B4", "Conservative"]]}])
    edited.replace(src)
    new_path = _spec_file(tmp_path, v2_text(SPEC_PATH.read_text(encoding="utf-8")))
    result = run("upgrade", folder, "--spec", new_path, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "C-0002.xlsx: Inputs!A8: the note 'Our own estimate of idle hours' is not put back "
        "(its row has no place in the new file); kept in 'Carried over'",
        "C-0002.xlsx: Inputs!D8: the note '1,200' is not put back (its row has no place in the "
        "new file); kept in 'Carried over'",
    ]
    wb = openpyxl.load_workbook(src)
    inputs = wb["Inputs"]
    table = table_for(spec, 3)
    for name in spec.input_names:
        r = row_of(inputs, LOADED if name == OVERTIME else name)
        expected = 47.25 if name == OVERTIME else table.loc[2, name]
        assert inputs[f"D{r}"].value == pytest.approx(expected, rel=1e-14), name
    assert inputs[f"D{row_of(inputs, LOADED)}"].comment.text.endswith("agreed on the call")
    assert wb.sheetnames[0] == "Résumé" and wb["Résumé"]["B4"].value == "Conservative"
    carried = wb["Carried over"]
    notes = [[c.value for c in row] for row in carried.iter_rows(min_row=1, max_col=4)]
    start = notes.index(["Notes and cells that could not be put back in place", None, None,
                         None])
    assert notes[start + 1:start + 4] == [
        ["Sheet", "Cell", "Next to", "Content"],
        ["Inputs", "A8", "Our own estimate of idle hours", "Our own estimate of idle hours"],
        ["Inputs", "D8", "Our own estimate of idle hours", "1,200"]]


def test_a_value_kept_in_carried_over_comes_back(spec, folder, tmp_path):
    removed, stand_in = "Penalty and credit per late delivery", "Late-delivery penalty"
    wb = openpyxl.load_workbook(folder / "C-0000.xlsx")
    wb["Inputs"][f"D{row_of(wb['Inputs'], removed)}"] = 88.0  # the customer's figure
    wb.save(folder / "C-0000.xlsx")
    # version 2 replaces the input with another; version 3 is version 1 again
    text = SPEC_PATH.read_text(encoding="utf-8")
    start, end = text.index(f"  - name: {removed}"), text.index("value_elements:")
    v2 = (text[:start] + f"  - name: {stand_in}\n    unit: USD/delivery\n    base: 75\n"
          f"    min: 0\n" + text[end:]).replace(f"× {removed}", f"× {stand_in}")
    assert upgrade(folder, parse_spec(v2, "v2.yaml")).failed == []
    wb = openpyxl.load_workbook(folder / "C-0000.xlsx")
    kept = list(wb["Carried over"].iter_rows(min_row=4, max_row=4, values_only=True))[0]
    assert (kept[0], kept[2]) == (removed, 88.0)
    report = upgrade(folder, spec)
    assert report.failed == []
    assert f"C-0000.xlsx: '{removed}' is back: its values come from sheet 'Carried over'" in (
        report.lines)
    wb = openpyxl.load_workbook(folder / "C-0000.xlsx")
    assert wb["Inputs"][f"D{row_of(wb['Inputs'], removed)}"].value == 88.0
    assert [r[0] for r in wb["Carried over"].iter_rows(min_row=4, values_only=True)] == [
        stand_in]


def test_a_spec_for_another_offering_is_refused_and_a_second_run_skips(spec, folder, tmp_path):
    before = {p.name: p.read_bytes() for p in folder.glob("*.xlsx")}
    result = run("upgrade", folder, "--spec", COATING, "--quiet")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: {folder}: the spec is for 'EcoCure powder coating', but the calculators here "
        "are for 'RouteWise dynamic routing' (3 files); nothing was changed (--force upgrades "
        "them anyway)")
    assert {p.name: p.read_bytes() for p in folder.glob("*.xlsx")} == before
    new_path = _spec_file(tmp_path, v2_text(SPEC_PATH.read_text(encoding="utf-8")))
    first = run("upgrade", folder, "--spec", new_path, "-j", "2")
    assert first.exit_code == 0, first.output
    assert "100%" in first.stderr  # the progress bar
    assert first.stdout.splitlines()[-1].startswith(
        f"{folder}: 3 upgraded, 0 already at this spec, 0 for another offering, 0 failed; old "
        f"files in {folder}/previous-")
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.glob("C-*.xlsx")}
    second = run("upgrade", folder, "--spec", new_path, "--quiet")
    assert second.exit_code == 0
    assert second.stdout == (f"{folder}: 0 upgraded, 3 already at this spec, 0 for another "
                             "offering, 0 failed\n")
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("C-*.xlsx")} == stamps
    assert len(list(folder.glob("previous-*"))) == 1  # no second backup


def test_an_empty_or_foreign_folder_exits_1(tmp_path):
    spec_arg = ["--spec", SPEC_PATH, "--quiet"]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("upgrade", empty, *spec_arg)
    assert (result.exit_code, result.stderr) == (
        1, f"{empty}: no calculators here (0 workbooks, none a cvp-xl calculator); nothing "
           "upgraded\n")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    openpyxl.Workbook().save(foreign / "budget.xlsx")
    result = run("upgrade", foreign, *spec_arg)
    assert (result.exit_code, result.stderr) == (
        1, f"{foreign}: no calculators here (1 workbook, none a cvp-xl calculator); nothing "
           "upgraded\n")
    result = run("upgrade", tmp_path / "nope", *spec_arg)
    assert result.exit_code == 2 and result.stderr.endswith("nope: no such folder\n")


def test_text_in_an_input_is_not_dropped(spec, folder, tmp_path):
    path = folder / "C-0001.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["Inputs"]["D6"] = "about 8%"
    wb.save(path)
    before = path.read_bytes()
    new_path = _spec_file(tmp_path, v2_text(SPEC_PATH.read_text(encoding="utf-8")))
    result = run("upgrade", folder, "--spec", new_path, "--quiet")
    assert result.exit_code == 1
    assert result.stderr == (
        "C-0001.xlsx: not upgraded: Inputs!D6 ('Mileage reduction with ours', base) holds "
        "'about 8%', not a number (fix it, or --force upgrades it without that value)\n")
    assert path.read_bytes() == before
    backup = next(folder.glob("previous-*"))
    assert result.stdout.endswith("2 upgraded, 0 already at this spec, 0 for another offering, "
                                  f"1 failed; old files in {backup}; summary.xlsx refreshed\n")
