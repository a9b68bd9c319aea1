"""Batch regeneration: 200 customers checked by LibreOffice and the formulas engine, bad rows,
tables as exported in the field, a row as the unit of failure, safe file names, a killed
run, and a rerun that keeps what customers typed."""

from __future__ import annotations

import csv
import hashlib
import signal
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import close, requires_libreoffice

from cvp_xl.commands.batch import build_many, read_table, stored_digest
from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute
from cvp_xl.workbooks.calculator import load_spec, model, parse_spec
from cvp_xl.workbooks.calculator.builder import build

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "workbooks" / "calculators" / "fleet-routing.yaml"
KEYS = {"Total value per year (USD)": "total_per_year", "Differential (USD)": "differential",
        "ROI": "roi", "Payback (years)": "payback", "NPV (USD)": "npv"}


def table_for(spec, n, seed=3):
    rng = np.random.default_rng(seed)
    data = {"customer_id": [f"C-{k:04d}" for k in range(n)],
            "customer_name": [f"Customer {k}" for k in range(n)]}
    for i in spec.inputs:
        data[i.name] = rng.uniform(i.low, i.high, n)
    return pd.DataFrame(data)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC_PATH)


@pytest.fixture(scope="module")
def layout(spec, tmp_path_factory):
    return build(spec, tmp_path_factory.mktemp("layout") / "one.xlsx")


@pytest.fixture(scope="module")
def batch200(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch200")
    report = build_many(spec, table_for(spec, 200), out)
    return out, report


def test_every_customer_is_written_with_a_summary(batch200):
    out, report = batch200
    assert report.ok and len(report.written) == 200
    summary = pd.read_excel(out / "summary.xlsx")
    assert list(summary["Customer id"][:2]) == ["C-0000", "C-0001"]
    assert (summary["Status"] == "written").all()
    assert list(summary["File"][:2]) == ["C-0000.xlsx", "C-0001.xlsx"]  # beside the summary
    assert pd.read_csv(out / "summary.csv").shape == summary.shape


def _check_file_against_summary(values, row, layout):
    for column, key in KEYS.items():
        ref = layout.results[key]
        expected = "" if pd.isna(row[column]) else row[column]  # no number: an empty result
        assert close(values.get(("Summary", ref), ""), expected), (row["Customer id"], column)


@requires_libreoffice
def test_every_tenth_file_recomputed_by_libreoffice_agrees(batch200, layout):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    out, _ = batch200
    summary = pd.read_excel(out / "summary.xlsx").set_index("Customer id", drop=False)
    sample = [out / f"C-{k:04d}.xlsx" for k in range(0, 200, 10)]
    for path, values in zip(sample, libreoffice_values_many(sample)):
        _check_file_against_summary(values, summary.loc[path.stem], layout)


def test_every_tenth_file_recomputed_by_the_formulas_engine_agrees(batch200, layout):
    out, _ = batch200
    summary = pd.read_excel(out / "summary.xlsx").set_index("Customer id", drop=False)
    for k in range(0, 200, 10):
        path = out / f"C-{k:04d}.xlsx"
        _check_file_against_summary(compute(path).values, summary.loc[path.stem], layout)


def test_a_rerun_rewrites_nothing_and_force_rewrites(spec, tmp_path):
    table = table_for(spec, 5)
    build_many(spec, table, tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("C-*.xlsx")}
    again = build_many(spec, table, tmp_path)
    assert len(again.up_to_date) == 5 and not again.written
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("C-*.xlsx")} == stamps
    changed = table.copy()
    changed.loc[2, "Overtime cost per hour"] = 50.0  # only C-0002 changed
    third = build_many(spec, changed, tmp_path)
    assert [p.name for p in third.written] == ["C-0002.xlsx"]
    assert third.ok and third.carried == [] and third.backup is None  # nobody edited a file
    assert len(build_many(spec, changed, tmp_path, force=True).written) == 5


def test_bad_rows_are_reported_and_skipped(spec, tmp_path):
    table = table_for(spec, 6).astype(object)
    table.loc[1, "Miles driven per year"] = "lots"
    table.loc[2, "customer_id"] = "C-0000"
    table.loc[3, "customer_id"] = None
    table.loc[4, "Mileage reduction with ours"] = 2.0
    table.loc[5, "Overtime cost per hour"] = None
    csv_path = tmp_path / "customers.csv"
    table.to_csv(csv_path, index=False)
    result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", tmp_path / "out",
                 "--quiet")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{csv_path}: 6 rows (UTF-8, comma-separated)",
        f"{csv_path}: line 3, customer 'C-0001', column 'Miles driven per year': expected a "
        "number in miles/year, got 'lots'",
        f"{csv_path}: line 4, customer 'C-0000', column 'customer_id': duplicate customer id "
        "(first on line 2)",
        f"{csv_path}: line 5, column 'customer_id': missing customer id",
        f"{csv_path}: line 6, customer 'C-0004', column 'Mileage reduction with ours': 2 is "
        "outside the allowed range 0 to 0.5",
        f"{csv_path}: line 7, customer 'C-0005', column 'Overtime cost per hour': blank; "
        "expected a number in USD/hour",
    ]
    assert result.stdout == (
        f"{tmp_path / 'out'}: 1 written, 0 up to date, 0 left as they were, 5 problems in the "
        f"table, 0 failed; summary in {tmp_path / 'out' / 'summary.xlsx'}\n")
    assert sorted(p.name for p in (tmp_path / "out").glob("C-*.xlsx")) == ["C-0000.xlsx"]
    summary = pd.read_excel(tmp_path / "out" / "summary.xlsx", dtype={"Customer id": str})
    assert list(summary["Status"]) == ["written"] + ["skipped"] * 5
    # skipped rows keep their id and name (the table's), and say why
    assert list(summary["Customer id"].fillna("")) == ["C-0000", "C-0001", "C-0000", "",
                                                       "C-0004", "C-0005"]
    assert list(summary["Customer name"]) == [f"Customer {k}" for k in range(6)]
    assert summary["Notes"][1] == "expected a number in miles/year, got 'lots'"
    assert list(summary["Table row"]) == [2, 3, 4, 5, 6, 7]


def test_a_missing_column_is_refused(spec, tmp_path):
    csv_path = tmp_path / "customers.csv"
    table_for(spec, 2).drop(columns=["Overtime cost per hour"]).to_csv(csv_path, index=False)
    result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", tmp_path / "out",
                 "--quiet")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: {csv_path}: missing column 'Overtime cost per hour' (one per input of the "
        "spec; `cvp-xl customers SPEC` writes a template)")


# -- tables as exported in the field -------------------------------------------------------------


def test_a_windows_excel_export_with_semicolons_percentages_and_blank_rows(spec, tmp_path):
    """What German Excel writes as "CSV (Trennzeichen-getrennt)": Windows-1252, ';', a
    decimal comma, '.' grouping thousands; then a long line and trailing blank rows."""
    names = ["Kunden-ID", "customer_name"] + spec.input_names
    names[0] = "customer_id"
    names[names.index("Overtime cost per hour")] = "Overtime cost/hour"  # an earlier name
    lines = [";".join(names),
             ";".join(["M-1", "Müller Logistik GmbH", "2.400.000", "8%", "0,62", "9.000",
                       "30 %", "42", "1.300", "500", "75"]),
             ";".join(["M-2", "Bäckerei Groß", "1.850.000", "7,5%", "0,66", "6.200", "25%",
                       "44", "900", "420", "60", "extra"]),
             ";".join(["M-3", "Straße & Co", "1.234.567,5", "6%", "0,71", "3.800", "20%", "46",
                       "420", "260", "55"]),
             ";" * 10, ";" * 10, ""]
    text = "\r\n".join(lines)
    spec2 = parse_spec(spec.text.replace(
        "  - name: Overtime cost per hour\n",
        "  - name: Overtime cost per hour\n    was: Overtime cost/hour\n"), str(SPEC_PATH))
    spec_path = tmp_path / "fleet.yaml"
    spec_path.write_text(spec2.text, encoding="utf-8")
    csv_path = tmp_path / "export.csv"
    csv_path.write_bytes(text.encode("cp1252"))
    result = run("batch", spec_path, "--customers", csv_path, "--out", tmp_path / "out",
                 "--quiet")
    assert result.exit_code == 1  # the long line is a problem; the others are written
    assert result.stderr.splitlines() == [
        f"{csv_path}: 2 rows (Windows-1252, semicolon-separated)",
        f"{csv_path}: note: column 'Overtime cost/hour' read as the input 'Overtime cost per "
        "hour' (its earlier name)",
        f"{csv_path}: note: numbers are read with a decimal comma (1.234,5 is 1234.5)",
        f"{csv_path}: line 3: 12 fields where the header has 11; the line is skipped (a "
        "separator or quote too many or too few?)",
    ]
    wb = openpyxl.load_workbook(tmp_path / "out" / "M-1.xlsx")
    base = [wb["Inputs"].cell(r, 4).value for r in range(5, 14)]
    assert base == [2_400_000, 0.08, 0.62, 9000, 0.3, 42, 1300, 500, 75]
    assert wb["Summary"]["B2"].value == "Müller Logistik GmbH"
    m3 = openpyxl.load_workbook(tmp_path / "out" / "M-3.xlsx")["Inputs"]
    assert m3["D5"].value == 1_234_567.5
    summary = pd.read_excel(tmp_path / "out" / "summary.xlsx")
    assert list(summary["Status"]) == ["written", "skipped", "written"]
    assert list(summary["Table row"]) == [2, 3, 4]
    assert summary["Customer id"][1] == "M-2"  # as the skipped line reads


def test_an_xlsx_table_keeps_ids_as_typed_and_leaves_out_its_total_row(spec, tmp_path):
    from openpyxl.worksheet.table import Table

    path = tmp_path / "customers.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["customer_id", "customer_name"] + spec.input_names)
    rows = [["NA", "N/A"], ["NULL", "None"], [None, None], ["C-3", "Third"]]
    for cid, name in rows:
        ws.append([cid, name] + ([i.base for i in spec.inputs] if cid else [None] * 9))
    ws.append(["Total", None] + [f"=SUBTOTAL(109,{c}2:{c}5)" for c in "CDEFGHIJK"])
    ws.add_table(Table(displayName="Customers", ref="A1:K6", totalsRowCount=1))
    wb.save(path)
    result = run("batch", SPEC_PATH, "--customers", path, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:3] == [
        f"{path}: 3 rows (workbook)",
        f"{path}: note: read the Excel table 'Customers' (A1:K6) on sheet 'Sheet'",
        f"{path}: note: row 6 is the table's total row: left out"]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.xlsx")) == [
        "C-3.xlsx", "NA.xlsx", "NULL.xlsx", "summary.xlsx"]
    assert openpyxl.load_workbook(tmp_path / "out" / "NA.xlsx")["Summary"]["B2"].value == "N/A"


# -- a row is the unit of failure ----------------------------------------------------------------


RATIO_SPEC = """\
name: Ratio calculator
currency: USD
offering: {name: Ours, one_time: 100, recurring: 0}
alternatives: [{name: Theirs}]
horizon_years: 2
discount_rate: 0
inputs:
  - {name: Hours saved per year, unit: hours/year, base: 100, min: 0}
  - {name: Crews, unit: crews, base: 2, min: 0}
  - {name: Rate per crew, unit: USD/hour/crews, base: 50, min: 0}
value_elements:
  - name: Saved
    category: economic
    equation: Hours saved per year / Crews x Rate per crew x Crews x Crews
"""


def test_one_customer_that_divides_by_zero_or_overflows_is_skipped(tmp_path):
    spec_path = tmp_path / "ratio.yaml"
    spec_path.write_text(RATIO_SPEC, encoding="utf-8")
    csv_path = tmp_path / "t.csv"
    rows = [["customer_id", "customer_name", "Hours saved per year", "Crews", "Rate per crew"],
            ["A", "Alpha", "100", "2", "50"],
            ["B", "Beta", "100", "0", "50"],          # an allowed 0 that divides
            ["C", "Gamma\x0bCorp", "100", "2", "50"],  # a character a workbook cannot hold
            ["D", "Delta", "1.7e308", "4", "50"],      # overflows
            ["E", "Esc\x1b", "100", "2", "50"],
            ["F", "Nul\x00", "100", "2", "50"],
            ["G", "Gee", "100", "1", "50"]]
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "out"
    result = run("batch", spec_path, "--customers", csv_path, "--out", out, "--quiet")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        f"{csv_path}: line 3, customer 'B': #DIV/0! division by zero: 'Crews' is 0",
        f"{csv_path}: line 4, customer 'C', column 'customer_name': holds the control "
        "character U+000B, which a workbook cannot hold",
        # 1.7e308 / 4 x 50 = 2.1e309, past the largest double (1.8e308)
        f"{csv_path}: line 5, customer 'D': #NUM! number too large in 'Hours saved per year "
        "/ Crews x Rate per crew'",
        f"{csv_path}: line 6, customer 'E', column 'customer_name': holds the control "
        "character U+001B, which a workbook cannot hold",
        f"{csv_path}: line 7, customer 'F', column 'customer_name': holds the control "
        "character U+0000, which a workbook cannot hold",
    ]
    assert sorted(p.name for p in out.glob("[A-Z].xlsx")) == ["A.xlsx", "G.xlsx"]
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert list(summary["Customer id"]) == list("ABCDEFG")
    assert list(summary["Status"]) == ["written", "skipped", "skipped", "skipped", "skipped",
                                       "skipped", "written"]
    # the names are shown with the character escaped, never written raw
    assert list(summary["Customer name"][2:6]) == ["Gamma\\x0bCorp", "Delta", "Esc\\x1b",
                                                   "Nul\\x00"]
    assert "nan" not in (out / "summary.csv").read_text(encoding="utf-8")
    # A: 100 / 2 x 50 x 2 x 2 = 10,000 a year (hand calculation)
    a = openpyxl.load_workbook(out / "A.xlsx", data_only=True)["Value"]["G5"].value
    assert a == 10_000


def test_a_folder_with_a_customers_file_name_is_left_alone(spec, tmp_path):
    out = tmp_path / "out"
    (out / "C-0001.xlsx").mkdir(parents=True)  # the user's folder, named like a calculator
    (out / "C-0001.xlsx" / "notes.txt").write_text("mine", encoding="utf-8")
    report = build_many(spec, table_for(spec, 3), out)
    assert report.ok
    name = f"C-0001-{hashlib.sha256(b'C-0001').hexdigest()[:8]}.xlsx"
    assert report.names == [f"row 3, customer 'C-0001': its file is {name}: C-0001.xlsx is a "
                            "folder of yours that is not a calculator of this batch"]
    assert (out / "C-0001.xlsx" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / name).is_file()


# -- file names ---------------------------------------------------------------------------------


def test_ids_that_would_collide_get_a_safe_distinct_name(spec, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "customers.xlsx"
    openpyxl.Workbook().save(mine)  # the user's own file in the folder
    before = mine.read_bytes()
    ids = ["summary", "customers", "CON", "aux.1", "Acme", "ACME", "a/b", "a_b"]
    table = table_for(spec, len(ids))
    table["customer_id"] = ids
    csv_path = tmp_path / "t.csv"
    table.to_csv(csv_path, index=False)
    result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output

    def suffixed(stem, cid):  # the rule: the stem, '-', the first 8 hex of sha256(id)
        return f"{stem}-{hashlib.sha256(cid.encode()).hexdigest()[:8]}.xlsx"

    expected = {"summary": suffixed("summary", "summary"),
                "customers": suffixed("customers", "customers"),
                "CON": suffixed("CON", "CON"), "aux.1": suffixed("aux.1", "aux.1"),
                "Acme": "Acme.xlsx", "ACME": suffixed("ACME", "ACME"), "a/b": "a_b.xlsx",
                "a_b": suffixed("a_b", "a_b")}
    assert result.stderr.splitlines()[1:] == [
        f"{csv_path}: line 2, customer 'summary': its file is {expected['summary']}: "
        "summary.xlsx is the batch summary",
        f"{csv_path}: line 3, customer 'customers': its file is {expected['customers']}: "
        "customers.xlsx is a file of yours that is not a calculator of this batch",
        f"{csv_path}: line 4, customer 'CON': its file is {expected['CON']}: CON is a device "
        "name on Windows",
        f"{csv_path}: line 5, customer 'aux.1': its file is {expected['aux.1']}: aux.1 is a "
        "device name on Windows",
        f"{csv_path}: line 7, customer 'ACME': its file is {expected['ACME']}: ACME.xlsx is the "
        "file of customer 'Acme'",
        f"{csv_path}: line 8, customer 'a/b': its file is a_b.xlsx: a file name holds only "
        "letters, digits, '.', '_' and '-'",
        f"{csv_path}: line 9, customer 'a_b': its file is {expected['a_b']}: a_b.xlsx is the "
        "file of customer 'a/b'",
    ]
    files = {p.name for p in out.glob("*.xlsx")}
    assert files == set(expected.values()) | {"summary.xlsx", "customers.xlsx"}
    assert len({f.casefold() for f in files}) == len(files)  # distinct, case ignored
    assert mine.read_bytes() == before
    for cid, name in expected.items():
        from cvp_xl.commands.entered import read_properties

        assert read_properties(out / name)["cvp-xl-customer-id"] == cid
    # a rerun, rows in another order: every customer finds its own file again
    again = build_many(load_spec(SPEC_PATH), read_table(csv_path).iloc[::-1], out)
    assert len(again.up_to_date) == len(ids) and not again.written


# -- a run killed half-way ---------------------------------------------------------------------


KILLED_AT = """
import os, signal, sys
from cvp_xl.commands.batch import build_many, read_table
from cvp_xl.workbooks.calculator import load_spec

done = 0

def progress(n):  # the process dies the moment the 30th file is reported finished
    global done
    done += n
    if done >= 30:
        os.kill(os.getpid(), signal.SIGKILL)

spec, table, out = load_spec(sys.argv[1]), read_table(sys.argv[2]), sys.argv[3]
build_many(spec, table, out, chunk_size=7, progress=progress)
"""


def test_a_run_killed_halfway_then_rerun(spec, tmp_path):
    csv_path = tmp_path / "customers.csv"
    table_for(spec, 150).to_csv(csv_path, index=False)
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, str(SPEC_PATH), str(csv_path),
                             str(out)], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    command = [sys.executable, "-m", "cvp_xl.commands.cli", "batch", str(SPEC_PATH),
               "--customers", str(csv_path), "--out", str(out), "--quiet"]
    finished = sorted(out.glob("C-*.xlsx"))
    assert len(finished) == 35, "five chunks of seven were finished when the run was killed"
    for path in finished:  # no partial file: every visible file is whole
        assert stored_digest(path) is not None
        openpyxl.load_workbook(path, read_only=True).close()
    stamps = {p: p.stat().st_mtime_ns for p in finished}
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert len(list(out.glob("C-*.xlsx"))) == 150
    assert {p: p.stat().st_mtime_ns for p in finished} == stamps
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_any_executor_gives_the_same_summary(spec, tmp_path):
    table = table_for(spec, 12)
    one = build_many(spec, table, tmp_path / "one")
    with ProcessPoolExecutor(2) as pool:
        two = build_many(spec, table, tmp_path / "two", executor=pool, chunk_size=3)
    cols = ["Customer id", "Total value per year (USD)", "Differential (USD)", "NPV (USD)"]
    pd.testing.assert_frame_equal(one.summary[cols], two.summary[cols])


def test_customers_template_round_trips(tmp_path):
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"customers{suffix}"
        result = run("customers", SPEC_PATH, "-o", path)
        assert result.exit_code == 0, result.output
        frame = read_table(path)
        spec = load_spec(SPEC_PATH)
        assert list(frame.columns) == ["customer_id", "customer_name"] + spec.input_names
        report = build_many(spec, frame, tmp_path / f"out{suffix}")
        assert report.ok and len(report.written) == 1


# -- the summary -------------------------------------------------------------------------------


def test_the_summary_keeps_numbers_numeric_and_is_formatted(spec, tmp_path):
    csv_path = ROOT / "workbooks" / "calculators" / "fleet-routing-customers.csv"
    out = tmp_path / "out"
    assert run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet"
               ).exit_code == 0
    summary = pd.read_excel(out / "summary.xlsx")
    # D-104's value per year (94,880, the file's own example) is below the rival's 120,000,
    # so the yearly net flow is negative and there is no payback: a blank number, a note
    assert summary["Payback (years)"].dtype == float and summary["ROI"].dtype == float
    d104 = summary.set_index("Customer id").loc["D-104"]
    assert pd.isna(d104["Payback (years)"]) and d104["Payback note"] == "never"
    r = model.evaluate(spec, {i: float(v) for i, v in zip(spec.input_names, [
        1200000, 0.06, 0.71, 3800, 0.2, 46, 420, 260, 55])})
    assert close(d104["Total value per year (USD)"], r.total_per_year)
    ws = openpyxl.load_workbook(out / "summary.xlsx")["Summary"]
    heads = [c.value for c in ws[1]]
    assert heads[:6] == ["Customer id", "Customer name", "Table row", "Status", "Scenario",
                         "Total value per year (USD)"]
    col = {h: k + 1 for k, h in enumerate(heads)}
    assert ws.cell(2, col["Total value per year (USD)"]).number_format == "#,##0"
    assert ws.cell(2, col["ROI"]).number_format == "0.0%"
    assert ws.cell(2, col["Payback (years)"]).number_format == "0.0"
    assert ws.cell(2, col["File"]).hyperlink.target == "D-101.xlsx"
    assert ws.column_dimensions["B"].width > 30  # "Coastal Medical Logistics, Inc."
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref == "A1:O6"
    text = (out / "summary.csv").read_text(encoding="utf-8")
    assert "nan" not in text and ",never," in text


# -- a rerun keeps what customers typed ---------------------------------------------------------


@pytest.fixture()
def edited(spec, tmp_path):
    """Three customers; the customer of C-0001 changed their miles and the scenario."""
    out = tmp_path / "out"
    table = table_for(spec, 3)
    csv_path = tmp_path / "customers.csv"
    table.to_csv(csv_path, index=False)
    assert run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet"
               ).exit_code == 0
    path = out / "C-0001.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["Inputs"]["D5"] = 2_600_000
    wb["Summary"]["B4"] = "Conservative"
    wb["Inputs"]["M7"] = "confirmed with the fleet manager"
    wb.save(path)
    return out, table, csv_path, path


def test_a_rerun_keeps_what_the_customer_typed(spec, edited, layout):
    out, table, csv_path, path = edited
    before = path.read_bytes()
    changed = table.copy()
    changed.loc[1, "Fuel and wear cost per mile"] = 0.7      # a value the customer left
    changed.loc[1, "Miles driven per year"] = 2_500_000      # the value the customer changed
    changed.to_csv(csv_path, index=False)
    result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet")
    assert result.exit_code == 1  # a table change was not applied: the user should know
    backup = next(out.glob("previous-*"))
    assert result.stderr.splitlines()[1:] == [
        "C-0001.xlsx: Inputs!D5 'Miles driven per year': kept the customer's 2,600,000 (the "
        "table now has 2,500,000; not applied)",
        "C-0001.xlsx: Summary!B4 scenario: kept 'Conservative'",
    ]
    assert result.stdout == (f"{out}: 1 written (1 with the customer's entries kept), 2 up to "
                             f"date, 0 left as they were, 0 problems in the table, 0 failed; "
                             f"summary in {out / 'summary.xlsx'}; old files in {backup}\n")
    assert (backup / "C-0001.xlsx").read_bytes() == before
    wb = openpyxl.load_workbook(path)
    inputs = wb["Inputs"]
    assert inputs["D5"].value == 2_600_000              # the customer's
    assert inputs["D7"].value == 0.7                    # the table's new value
    assert inputs["M7"].value == "confirmed with the fleet manager"  # the note, in place
    assert wb["Summary"]["B4"].value == "Conservative"
    # the summary shows what the file shows: the model on the customer's miles, the table's
    # fuel cost, in the Conservative case
    given = {n: float(changed.loc[1, n]) for n in spec.input_names}
    given["Miles driven per year"] = 2_600_000.0
    expected = model.evaluate(spec, given, "Conservative")
    row = pd.read_excel(out / "summary.xlsx").set_index("Customer id").loc["C-0001"]
    assert row["Status"] == "customer's entries kept" and row["Scenario"] == "Conservative"
    assert close(row["Total value per year (USD)"], expected.total_per_year)
    assert close(openpyxl.load_workbook(path, data_only=True)["Summary"][
        layout.results["total_per_year"]].value, expected.total_per_year)
    # the next night, with the same table: nothing to do, the customer's values stay
    stamp = path.stat().st_mtime_ns
    again = run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet")
    assert again.exit_code == 0 and path.stat().st_mtime_ns == stamp


def test_force_applies_the_table_and_keeps_the_customers_file(spec, edited):
    out, table, csv_path, path = edited
    before = path.read_bytes()
    changed = table.copy()
    changed.loc[1, "Overtime cost per hour"] = 45.0
    changed.to_csv(csv_path, index=False)
    result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet",
                 "--force")
    assert result.exit_code == 0, result.output
    backup = next(out.glob("previous-*"))
    assert (backup / "C-0001.xlsx").read_bytes() == before
    assert result.stderr.splitlines()[1:] == [
        f"C-0001.xlsx: rebuilt from the table (--force: rebuilt from the table); the old file "
        f"is in {backup / 'C-0001.xlsx'}"]
    wb = openpyxl.load_workbook(path)
    assert wb["Inputs"]["D5"].value == pytest.approx(table.loc[1, "Miles driven per year"],
                                                     rel=1e-15)
    assert wb["Summary"]["B4"].value == "Base"


def test_an_entry_that_cannot_be_carried_leaves_the_file_as_it_is(spec, edited):
    out, table, csv_path, path = edited
    wb = openpyxl.load_workbook(path)
    wb["Inputs"]["D8"] = "about 9000"
    wb.save(path)
    before = path.read_bytes()
    changed = table.copy()
    changed.loc[1, "Overtime cost per hour"] = 45.0
    changed.to_csv(csv_path, index=False)
    result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        "C-0001.xlsx: left as it is: Inputs!D8 ('Driver overtime hours per year with the "
        "alternative', base) holds 'about 9000', not a number; --force rebuilds it from the "
        "table, keeping it in a backup first"]
    assert path.read_bytes() == before
    row = pd.read_excel(out / "summary.xlsx").set_index("Customer id").loc["C-0001"]
    assert row["Status"] == "left as it was" and pd.isna(row["Total value per year (USD)"])


# -- the nightly loop --------------------------------------------------------------------------


def _row_of(ws, label):
    return next((c.row for (c,) in ws.iter_rows(min_col=1, max_col=1) if c.value == label), None)


def _sheet_with(wb, first_label):
    """The sheet whose column A holds ``first_label`` (sheets may have been renamed)."""
    return next(ws for ws in wb.worksheets if _row_of(ws, first_label) is not None)


SCENARIO = "Scenario (Base, Low, High, Conservative)"
V2 = {"Overtime cost per hour": "Loaded overtime cost per hour"}


@requires_libreoffice
def test_the_nightly_loop_never_loses_what_a_customer_typed(spec, tmp_path):
    """batch -> customers edit 10 files (7 with openpyxl, 3 in LibreOffice) -> the table
    changes -> batch -> upgrade -> batch: every value a customer typed is still in its file
    or listed in a report."""
    from commands.libreoffice_session import edit_in_libreoffice

    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    out, csv_path = tmp_path / "out", tmp_path / "crm.csv"
    table = table_for(spec, 12, seed=11)
    table.to_csv(csv_path, index=False)
    reports = []

    def batch():
        result = run("batch", SPEC_PATH, "--customers", csv_path, "--out", out, "--quiet")
        reports.append(result.output)
        return result

    assert batch().exit_code == 0
    # (file, label of the row in column A, column, value typed); the sheet is found by label
    typed = [("C-0000", "Miles driven per year", "D", 2_650_000), ("C-0000", SCENARIO, "B",
                                                                     "Conservative"),
             ("C-0001", "Customer", "B", "Acme Logistics (new name)"),
             ("C-0001", "Driver overtime hours per year with the alternative", "E", 7_000),
             ("C-0002", "Fuel and wear cost per mile", "I", "Fleet report 2025"),
             ("C-0002", "Penalty and credit per late delivery", "M", "ask for the contracts"),
             ("C-0003", "RouteWise dynamic routing", "D", 22_000),
             ("C-0004", "Late deliveries per year with ours", "D", 450),
             ("C-0005", SCENARIO, "B", "High"),
             ("C-0006", "Driver overtime hours per year with the alternative", "D", "TBD")]
    for cid, label, col, value in typed:
        path = out / f"{cid}.xlsx"
        wb = openpyxl.load_workbook(path)
        ws = _sheet_with(wb, label)
        ws[f"{col}{_row_of(ws, label)}"] = value
        wb.save(path)
    wb = openpyxl.load_workbook(out / "C-0004.xlsx")  # a sheet of their own
    wb.create_sheet("Plan")["A1"] = "Pilot in the north depot first"
    wb.save(out / "C-0004.xlsx")
    wb = openpyxl.load_workbook(out / "C-0005.xlsx")
    wb["Summary"].title = "Overview"
    wb.save(out / "C-0005.xlsx")
    in_lo = [("C-0007", "Overtime cost per hour", "D", 49.0, 10),
             ("C-0007", SCENARIO, "B", "Low", 4),
             ("C-0008", "Mileage reduction with ours", "M", "pilot result", 6),
             ("C-0009", "Late deliveries per year with the alternative", "D", 1_400.0, 11)]
    typed += [t[:4] for t in in_lo]
    jobs = {}
    for cid, label, col, value, row in in_lo:
        sheet = "Summary" if label == SCENARIO else "Inputs"
        jobs.setdefault(cid, []).append(["set", sheet, f"{col}{row}", value])
    jobs["C-0009"].append(["rename", "Inputs", "Eingaben"])
    edit_in_libreoffice([{"src": out / f"{cid}.xlsx", "dst": out / f"{cid}.xlsx",
                          "actions": actions} for cid, actions in jobs.items()])

    changed = table.copy()  # the CRM changes: some values the customers typed too, some not
    changed.loc[0, "Miles driven per year"] = 2_500_000
    changed.loc[1, "Fuel and wear cost per mile"] = 0.66
    changed.loc[7, "Overtime cost per hour"] = 44.0
    changed.loc[10, "Overtime cost per hour"] = 43.0
    changed.loc[2, "customer_name"] = "Customer 2 (CRM)"
    changed.to_csv(csv_path, index=False)
    assert batch().exit_code == 1  # conflicts, and C-0006 left as it was

    new = tmp_path / "v2.yaml"
    text = SPEC_PATH.read_text(encoding="utf-8")
    text = text.replace("  - name: Overtime cost per hour\n", "  - name: Loaded overtime cost "
                        "per hour\n    was: Overtime cost per hour\n")
    new.write_text(text.replace("× Overtime cost per hour", "× Loaded overtime cost per hour"),
                   encoding="utf-8")
    up = run("upgrade", out, "--spec", new, "--quiet")
    reports.append(up.output)
    assert up.exit_code == 1  # C-0006 holds text where a number belongs: not upgraded

    result = run("batch", new, "--customers", csv_path, "--out", out, "--quiet")
    reports.append(result.output)
    assert result.exit_code == 1  # C-0006 is still left as it was
    assert f"{csv_path}: note: column 'Overtime cost per hour' read as the input 'Loaded " \
           "overtime cost per hour' (its earlier name)" in result.stderr

    report = "\n".join(reports)
    for cid, label, col, value in typed:
        wb = openpyxl.load_workbook(out / f"{cid}.xlsx")
        name = V2.get(label, label) if cid != "C-0006" else label
        ws = _sheet_with(wb, name)
        found = ws[f"{col}{_row_of(ws, name)}"].value
        assert found == value or (f"{cid}.xlsx" in report and repr(value) in report), (
            cid, label, found, value)
    assert "Plan" in openpyxl.load_workbook(out / "C-0004.xlsx").sheetnames
    assert openpyxl.load_workbook(out / "C-0005.xlsx").sheetnames[0] == "Overview"
    assert openpyxl.load_workbook(out / "C-0009.xlsx").sheetnames[1] == "Eingaben"
    # the table's own changes reached the files nobody edited, and the values customers left
    wb = openpyxl.load_workbook(out / "C-0010.xlsx")
    assert wb["Inputs"][f"D{_row_of(wb['Inputs'], 'Loaded overtime cost per hour')}"].value == 43
    wb = openpyxl.load_workbook(out / "C-0001.xlsx")
    assert wb["Inputs"][f"D{_row_of(wb['Inputs'], 'Fuel and wear cost per mile')}"].value == 0.66
    assert openpyxl.load_workbook(out / "C-0002.xlsx")["Summary"]["B2"].value == \
        "Customer 2 (CRM)"
    # LibreOffice recomputes four of them: the values Python stored are the ones it computes
    layout = build(load_spec(new), tmp_path / "layout.xlsx")
    paths = [out / f"C-{k:04d}.xlsx" for k in (0, 4, 5, 9)]
    for path, values in zip(paths, libreoffice_values_many(paths)):
        stored = openpyxl.load_workbook(path, data_only=True)
        summary = stored.worksheets[0]
        for key in ("total_per_year", "differential", "npv"):
            ref = layout.results[key]
            assert close(values[(summary.title, ref)], summary[ref].value), (path.name, key)


def test_files_of_an_earlier_batch_without_a_record_are_rebuilt_only_when_untouched(spec,
                                                                                    tmp_path):
    """An earlier batch wrote the digest and the id but not the table's values: a file that
    still matches its digest is rebuilt from the new row; one the customer edited is kept."""
    from cvp_xl.commands.batch import _digest

    out = tmp_path / "out"
    # values as a CRM holds them (openpyxl writes 16 significant digits, so a value with 17
    # would no longer match the digest, and the file would be kept as if edited)
    table = table_for(spec, 2).round(4)
    for k in range(2):
        cid, name = table.loc[k, "customer_id"], table.loc[k, "customer_name"]
        inputs = {n: float(table.loc[k, n]) for n in spec.input_names}
        digest = _digest(spec, {"customer_id": cid, "customer_name": name}, inputs)
        build(spec, out / f"{cid}.xlsx", given=inputs, customer=name,
              properties={"cvp-xl-digest": digest, "cvp-xl-customer-id": cid})
    wb = openpyxl.load_workbook(out / "C-0001.xlsx")
    wb["Inputs"]["D5"] = 2_222_222
    wb.save(out / "C-0001.xlsx")
    before = (out / "C-0001.xlsx").read_bytes()
    changed = table.copy()
    changed["Overtime cost per hour"] = 40.0
    report = build_many(spec, changed, out)
    assert [p.name for p in report.written] == ["C-0000.xlsx"]
    assert report.kept == [(out / "C-0001.xlsx", (
        "left as it is: it carries no record of the values the customer table gave it, so the "
        "customer's entries cannot be told from the table's; --force rebuilds it from the "
        "table, keeping it in a backup first"))]
    assert (out / "C-0001.xlsx").read_bytes() == before
    wb = openpyxl.load_workbook(out / "C-0000.xlsx")
    assert wb["Inputs"]["D10"].value == 40.0
