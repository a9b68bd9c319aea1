"""Batch regeneration: 200 customers checked by LibreOffice and the formulas engine, bad rows,
a killed run, and an upgrade that renames and removes inputs."""

from __future__ import annotations

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
from cvp_xl.commands.upgrade import upgrade
from cvp_xl.workbooks.calculator import load_spec, parse_spec
from cvp_xl.workbooks.calculator.builder import build

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "workbooks" / "calculators" / "fleet-routing.yaml"
KEYS = {"total_value_per_year": "total_per_year", "differential": "differential",
        "roi": "roi", "payback": "payback", "npv": "npv"}


def table_for(spec, n, seed=3):
    rng = np.random.default_rng(seed)
    data = {"customer_id": [f"C-{k:04d}" for k in range(n)],
            "customer_name": [f"Customer {k}" for k in range(n)]}
    for i in spec.inputs:
        data[i.name] = rng.uniform(i.low, i.high, n)
    return pd.DataFrame(data)


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
    assert list(summary["customer_id"][:2]) == ["C-0000", "C-0001"]
    assert (summary["status"] == "written").all()
    assert pd.read_csv(out / "summary.csv").shape == summary.shape


def _check_file_against_summary(values, row, layout):
    for column, key in KEYS.items():
        ref = layout.results[key]
        assert close(values[("Summary", ref)], row[column]), (row["customer_id"], column)


@requires_libreoffice
def test_every_tenth_file_recomputed_by_libreoffice_agrees(batch200, layout):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    out, _ = batch200
    summary = pd.read_excel(out / "summary.xlsx").set_index("customer_id", drop=False)
    sample = [out / f"C-{k:04d}.xlsx" for k in range(0, 200, 10)]
    for path, values in zip(sample, libreoffice_values_many(sample)):
        _check_file_against_summary(values, summary.loc[path.stem], layout)


def test_every_tenth_file_recomputed_by_the_formulas_engine_agrees(batch200, layout):
    out, _ = batch200
    summary = pd.read_excel(out / "summary.xlsx").set_index("customer_id", drop=False)
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
    assert len(build_many(spec, changed, tmp_path, force=True).written) == 5


def test_bad_rows_are_reported_and_skipped(spec, tmp_path):
    table = table_for(spec, 6).astype(object)
    table.loc[1, "Miles driven per year"] = "lots"
    table.loc[2, "customer_id"] = "C-0000"
    table.loc[3, "customer_id"] = None
    table.loc[4, "Mileage reduction with ours"] = 2.0
    table.loc[5, "Overtime cost per hour"] = None
    csv = tmp_path / "customers.csv"
    table.to_csv(csv, index=False)
    result = CliRunner().invoke(main, ["batch", str(SPEC_PATH), "--customers", str(csv),
                                       "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{csv}: row 3, column 'Miles driven per year': expected a number in miles/year, "
        "got 'lots'",
        f"{csv}: row 4, column 'customer_id': duplicate customer id 'C-0000' (first on row 2)",
        f"{csv}: row 5, column 'customer_id': missing customer id",
        f"{csv}: row 6, column 'Mileage reduction with ours': 2 is outside the allowed range "
        "0 to 0.5",
        f"{csv}: row 7, column 'Overtime cost per hour': blank; expected a number in USD/hour",
    ]
    assert result.stdout.strip().endswith(
        "1 written, 0 up to date, 5 problems in the table, 0 failed; summary in "
        f"{tmp_path / 'out' / 'summary.xlsx'}")
    assert sorted(p.name for p in (tmp_path / "out").glob("C-*.xlsx")) == ["C-0000.xlsx"]
    summary = pd.read_excel(tmp_path / "out" / "summary.xlsx")
    assert list(summary["status"]) == ["written"] + ["skipped"] * 5


def test_a_missing_column_is_refused(spec, tmp_path):
    csv = tmp_path / "customers.csv"
    table_for(spec, 2).drop(columns=["Overtime cost per hour"]).to_csv(csv, index=False)
    result = CliRunner().invoke(main, ["batch", str(SPEC_PATH), "--customers", str(csv),
                                       "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {csv}: missing column 'Overtime cost per hour' (one per "
                             "input of the spec; `cvp-xl customers SPEC` writes a template)\n")


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
    csv = tmp_path / "customers.csv"
    table_for(spec, 150).to_csv(csv, index=False)
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, str(SPEC_PATH), str(csv), str(out)],
                            capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    command = [sys.executable, "-m", "cvp_xl.commands.cli", "batch", str(SPEC_PATH), "--customers",
               str(csv), "--out", str(out), "--quiet"]
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
    cols = ["customer_id", "total_value_per_year", "differential", "npv"]
    pd.testing.assert_frame_equal(one.summary[cols], two.summary[cols])


def test_customers_template_round_trips(tmp_path):
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"customers{suffix}"
        result = CliRunner().invoke(main, ["customers", str(SPEC_PATH), "-o", str(path)])
        assert result.exit_code == 0, result.output
        frame = read_table(path)
        spec = load_spec(SPEC_PATH)
        assert list(frame.columns) == ["customer_id", "customer_name"] + spec.input_names
        report = build_many(spec, frame, tmp_path / f"out{suffix}")
        assert report.ok and len(report.written) == 1


def test_upgrade_renames_one_input_and_removes_another(spec, tmp_path):
    out = tmp_path / "calcs"
    table = table_for(spec, 3)
    build_many(spec, table, out)
    wb = openpyxl.load_workbook(out / "C-0001.xlsx")  # the customer edits a low value
    wb["Inputs"]["E5"] = 2_000_000
    wb.save(out / "C-0001.xlsx")
    text = SPEC_PATH.read_text(encoding="utf-8")
    text = text.replace("  - name: Overtime cost per hour\n",
                        "  - name: Loaded overtime cost per hour\n"
                        "    was: Overtime cost per hour\n")
    text = text.replace("× Overtime cost per hour", "× Loaded overtime cost per hour")
    removed = "Late deliveries per year with ours"
    start = text.index(f"  - name: {removed}")
    text = text[:start] + text[text.index("  - name: Penalty and credit per late delivery"):]
    text = text.replace("(Late deliveries per year with the alternative - Late deliveries per "
                        "year with ours)", "Late deliveries per year with the alternative × 60%")
    new = parse_spec(text, "fleet-routing-v2.yaml")
    report = upgrade(out, new)
    assert report.failed == []
    assert report.lines[:3] == [
        "C-0000.xlsx: 'Loaded overtime cost per hour' <- 'Overtime cost per hour' (renamed)",
        f"C-0000.xlsx: '{removed}' is not in the new spec; kept in sheet 'Carried over'",
        "C-0000.xlsx: upgraded; 8 inputs carried over, 1 kept in 'Carried over'",
    ]
    assert len(report.lines) == 9
    wb = openpyxl.load_workbook(out / "C-0001.xlsx")
    inputs = {wb["Inputs"].cell(r, 1).value: wb["Inputs"].cell(r, 4).value for r in range(5, 13)}
    assert inputs["Loaded overtime cost per hour"] == pytest.approx(
        table.loc[1, "Overtime cost per hour"], rel=1e-15)
    assert wb["Inputs"]["E5"].value == 2_000_000
    kept = list(wb["Carried over"].iter_rows(min_row=4, values_only=True))
    assert kept[0][0] == removed
    assert kept[0][2] == pytest.approx(table.loc[1, removed], rel=1e-15)
    backups = list(report.backup.glob("*.xlsx"))
    assert sorted(p.name for p in backups) == ["C-0000.xlsx", "C-0001.xlsx", "C-0002.xlsx"]
    assert openpyxl.load_workbook(report.backup / "C-0001.xlsx")["Inputs"]["A12"].value == removed
    assert not any(p.name.startswith(".") for p in out.iterdir())
