"""``cvp-xl pdf``: a real PDF from LibreOffice, and clear refusals (table-driven)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from helpers import requires_libreoffice

from cvp_xl.commands.cli import main
from cvp_xl.commands.pdf import INSTALL_HINT
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import build

pypdf = pytest.importorskip("pypdf")

SPEC = example("calculators", "fleet-routing.yaml")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "fleet.xlsx"
    build(load_spec(SPEC), path, customer="Acme")
    return path


@requires_libreoffice
def test_pdf_of_every_sheet_and_of_chosen_sheets(book, tmp_path):
    # the fleet calculator prints each of its five sheets on one page
    # (tests/workbooks/calculator/test_calculator_print.py checks each sheet alone)
    out = tmp_path / "all.pdf"
    result = CliRunner().invoke(main, ["pdf", str(book), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}: Summary, Inputs, Value, Sensitivity, About\n"
    assert len(pypdf.PdfReader(out).pages) == 5
    assert out.read_bytes()[:5] == b"%PDF-"
    default = book.with_suffix(".pdf")  # no -o: next to the workbook
    result = CliRunner().invoke(main, ["pdf", str(book), "--sheets", "summary, Sensitivity"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{default}: Summary, Sensitivity\n"
    reader = pypdf.PdfReader(default)
    assert len(reader.pages) == 2
    assert "The value proposition" in reader.pages[0].extract_text()
    assert "Tornado" in reader.pages[1].extract_text()


CASES = [  # (arguments, with the workbook as {book} and a folder as {tmp}), message on stderr
    (["--sheets", "Sumary"],
     "Error: --sheets: 'Sumary' is not a sheet of it ({book}); its sheets are Summary, "
     "Inputs, Value, Sensitivity, About\n"),
    (["--sheets", "Template digests"],
     "Error: --sheets: 'Template digests' is hidden ({book}); its sheets are Summary, "
     "Inputs, Value, Sensitivity, About\n"),
    (["-o", "{tmp}/missing/out.pdf"],
     "Usage: cvp-xl pdf [OPTIONS] BOOK\nTry 'cvp-xl pdf --help' for help.\n\nError: Invalid value "
     "for '-o' / '--output': {tmp}/missing/out.pdf: the folder {tmp}/missing does not "
     "exist\n"),
    (["-o", "{book}"],
     "Usage: cvp-xl pdf [OPTIONS] BOOK\nTry 'cvp-xl pdf --help' for help.\n\nError: Invalid value "
     "for '-o' / '--output': {book}: is BOOK itself ({book}); write the result to another "
     "file\n"),
]


@requires_libreoffice
@pytest.mark.parametrize("args,message", CASES, ids=["unknown", "hidden", "folder", "itself"])
def test_pdf_refuses(book, tmp_path, args, message):
    args = [a.format(book=book, tmp=tmp_path) for a in args]
    result = CliRunner().invoke(main, ["pdf", str(book), *args], prog_name="cvp-xl")
    assert result.exit_code == 2
    assert result.stderr == message.format(book=book, tmp=tmp_path)


def test_pdf_without_libreoffice_says_how_to_install_it(book, tmp_path, monkeypatch):
    monkeypatch.setenv("CVP_XL_SOFFICE", str(tmp_path / "no-soffice-here"))
    result = CliRunner().invoke(main, ["pdf", str(book), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {INSTALL_HINT}\n"
    assert INSTALL_HINT.startswith("LibreOffice is needed to make a PDF and was not found. "
                                   "Install it (Debian or Ubuntu: sudo apt-get install "
                                   "libreoffice-calc-nogui;")
    assert not (tmp_path / "x.pdf").exists()
