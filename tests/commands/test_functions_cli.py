"""``cvp-xl functions --workbook/--lite`` and ``cvp-xl add-functions``, table-driven."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from click.testing import CliRunner

from cvp_xl.commands.cli import main
from cvp_xl.hosts.lambdas import library, not_lambda
from cvp_xl.hosts.xlwings_lite import lite_functions, module_source, requirements_source
from cvp_xl.registry import functions
from cvp_xl.xlsx.defined_names import read_defined_names

N = len(library())
LEFT_OUT = ", ".join(e.name for e in functions() if not_lambda(e))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def book(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"] = 200_000, 50_000
    wb.defined_names["Benefit"] = openpyxl.workbook.defined_name.DefinedName(
        "Benefit", attr_text="Sheet!$A$1")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("args,code,stdout,stderr_end", [
    (["functions", "-o", "x.xlsx"], 2, "",
     "Error: Invalid value for '-o' / '--output': only with --workbook\n"),
    (["functions", "CVP_ROI", "--workbook"], 2, "",
     "Error: NAME lists one function; leave it out with --workbook or --lite\n"),
    (["functions", "CVP_ROI", "--lite", "lite"], 2, "",
     "Error: NAME lists one function; leave it out with --workbook or --lite\n"),
    (["add-functions", "missing.xlsx"], 2, "", "Error: missing.xlsx: no such file\n"),
    (["add-functions"], 2, "", "Error: Missing argument 'BOOK'.\n"),
    (["functions", "--workbook", "-o", "lib.xls"], 2, "",
     "Error: Invalid value for '-o' / '--output': lib.xls: expected a file name ending .xlsx\n"),
    (["add-functions", "book.xlsm", "-o", "out.xlsx"], 2, "",
     "Error: Invalid value for '-o' / '--output': out.xlsx: expected a file name ending .xlsm "
     "as BOOK's (Excel opens a file by its ending)\n"),
])
def test_usage_table(tmp_path, monkeypatch, args, code, stdout, stderr_end):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert result.stdout == stdout
    assert result.stderr.endswith(stderr_end), result.stderr


def test_functions_workbook_default_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("functions", "--workbook")
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"cvp-functions.xlsx: {N} CVP_* functions as LAMBDA names, each "
                             f"with a worked example (Excel 365: no add-in needed)\n")
    names = read_defined_names(tmp_path / "cvp-functions.xlsx")
    assert sorted(names) == sorted(m.name for m in library())


def test_functions_workbook_to_output(tmp_path):
    out = tmp_path / "lib.xlsx"
    result = run("functions", "--workbook", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}: {N} CVP_* functions as LAMBDA names")


def test_functions_lite(tmp_path):
    folder = tmp_path / "lite"
    result = run("functions", "--lite", folder)
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"{folder / 'main.py'}, {folder / 'requirements.txt'}: "
                             f"{len(lite_functions())} CVP_* functions for xlwings Lite\n")
    assert (folder / "main.py").read_text(encoding="utf-8") == module_source()
    assert (folder / "requirements.txt").read_text(encoding="utf-8") == requirements_source()


def test_add_functions_then_again(book):
    first = run("add-functions", book)
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"{book}: {N} CVP_* functions added, 0 updated, 0 already up to date (LAMBDA names: "
        "Excel 365 computes them with nothing installed)\n"
        f"  not added, they need Python (the xlwings add-in or xlwings Lite): {LEFT_OUT}\n")
    again = run("add-functions", book)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == (
        f"{book}: 0 CVP_* functions added, 0 updated, {N} already up to date (LAMBDA names: "
        "Excel 365 computes them with nothing installed)")
    assert read_defined_names(book)["Benefit"].refers_to == "Sheet!$A$1"


def test_add_functions_to_output_leaves_the_book(book, tmp_path):
    before = book.read_bytes()
    out = tmp_path / "out.xlsx"
    result = run("add-functions", book, "-o", out)
    assert result.exit_code == 0, result.output
    assert book.read_bytes() == before
    assert len(read_defined_names(out)) == N + 1


def test_add_functions_refuses_a_hostile_file(tmp_path, book):
    laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE workbook [\n <!ENTITY lol "lol">\n]>\n'
              b"<workbook>&lol;</workbook>")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = laughs if item.filename == "xl/workbook.xml" else zin.read(item)
            zout.writestr(item.filename, data)
    before = bad.read_bytes()
    result = run("add-functions", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bad}: refused")
    assert "Traceback" not in result.output
    assert bad.read_bytes() == before


def test_add_functions_keeps_a_customer_name(tmp_path):
    wb = openpyxl.Workbook()
    wb.defined_names["CVP_ROI"] = openpyxl.workbook.defined_name.DefinedName(
        "CVP_ROI", attr_text="Sheet!$B$2")
    path = tmp_path / "mine.xlsx"
    wb.save(path)
    before = path.read_bytes()
    result = run("add-functions", path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}: the defined name CVP_ROI already refers to Sheet!$B$2; rename or "
        "delete it in Excel (Formulas > Name Manager), then try again\n")
    assert path.read_bytes() == before


def test_a_folder_that_does_not_exist_is_named(book, tmp_path):
    out = tmp_path / "no-such-folder" / "out.xlsx"
    result = run("add-functions", book, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.endswith(f"Error: Invalid value for '-o' / '--output': {out}: the folder "
                                  f"{out.parent} does not exist\n"), result.stderr
    assert not out.parent.exists()


@pytest.mark.parametrize("name,line", [
    ("CVP_ROI", "  Excel 365 LAMBDA library: yes"),
    ("CVP_PAYBACK", "  Excel 365 LAMBDA library: no, it has no native-formula translation: it "
                    "needs Python"),
])
def test_one_function_says_whether_it_is_in_the_library(name, line):
    result = run("functions", name)
    assert result.exit_code == 0, result.output
    assert line in result.stdout.splitlines()
