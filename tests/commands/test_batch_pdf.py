"""``cvp-xl batch --pdf``: a real PDF from LibreOffice next to each calculator, printed again
only when its calculator changed, and failures listed by name with the calculators kept."""

from __future__ import annotations

import csv
import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import requires_libreoffice

from cvp_xl.commands.cli import main
from cvp_xl.commands.pdf import INSTALL_HINT, SHEETS_KEY, SOURCE_KEY

pypdf = pytest.importorskip("pypdf")

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "workbooks" / "calculators" / "fleet-routing.yaml"
NAMES = {"C-0001": "Acme Logistics", "C-0002": "Bolt Freight", "C-0003": "Cargo Nord"}
# the fleet calculator's visible sheets; LibreOffice prints each on one page (the same five
# pages tests/commands/test_pdf.py counts for `cvp-xl pdf` of this calculator)
SHEETS = "Summary, Inputs, Value, Sensitivity, About"


def write_table(path: Path, names: dict[str, str]) -> Path:
    """The table `cvp-xl customers` writes for the spec, one row per customer (base values)."""
    result = CliRunner().invoke(main, ["customers", str(SPEC), "-o", str(path)])
    assert result.exit_code == 0, result.output
    header, example = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows([cid, name, *example[2:]] for cid, name in names.items())
    return path


def batch(table: Path, out: Path):
    return CliRunner().invoke(main, ["batch", str(SPEC), "--customers", str(table), "--out",
                                     str(out), "--pdf", "--quiet"], prog_name="cvp-xl")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch_pdf")
    table = write_table(folder / "customers.csv", NAMES)
    return table, folder / "out", batch(table, folder / "out")


@requires_libreoffice
def test_each_calculator_gets_its_pdf(first):
    table, out, result = first
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{out}: 3 written, 0 up to date, 0 left as they were, 0 problems in the table, "
        f"0 failed; summary in {out / 'summary.xlsx'}\n"
        f"{out}: PDFs: 3 written, 0 up to date, 0 failed\n")
    assert sorted(p.name for p in out.glob("*.pdf")) == ["C-0001.pdf", "C-0002.pdf",
                                                         "C-0003.pdf"]
    for cid, name in NAMES.items():
        pdf, book = out / f"{cid}.pdf", out / f"{cid}.xlsx"
        reader = pypdf.PdfReader(pdf)
        assert len(reader.pages) == 5
        assert name in reader.pages[0].extract_text()  # the Summary names the customer
        # the PDF records the workbook it shows: the SHA-256 of its bytes, computed here
        assert reader.metadata[SOURCE_KEY] == sha256(book)
        assert reader.metadata[SHEETS_KEY] == SHEETS
        assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def repack(path: Path) -> None:
    """The same workbook with other bytes (its parts stored, not deflated), as a program that
    opens and saves it leaves it: still up to date for the batch, but no longer the bytes
    its PDF shows."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in parts:
            archive.writestr(name, data)


@requires_libreoffice
def test_a_rerun_prints_only_the_calculators_that_changed(first, tmp_path):
    table, out0, result = first
    assert result.exit_code == 0, result.output
    out = shutil.copytree(out0, tmp_path / "out")
    unchanged = (out / "C-0003.pdf").read_bytes()
    repack(out / "C-0001.xlsx")
    renamed = write_table(tmp_path / "customers.csv", {**NAMES, "C-0002": "Bolt Freight AG"})
    result = batch(renamed, out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{out}: 1 written, 2 up to date, 0 left as they were, 0 problems in the table, "
        f"0 failed; summary in {out / 'summary.xlsx'}",
        f"{out}: PDFs: 2 written, 1 up to date, 0 failed"]  # C-0001 repacked, C-0002 renamed
    assert (out / "C-0003.pdf").read_bytes() == unchanged
    assert "Bolt Freight AG" in pypdf.PdfReader(out / "C-0002.pdf").pages[0].extract_text()
    for cid in NAMES:
        pdf = pypdf.PdfReader(out / f"{cid}.pdf")
        assert pdf.metadata[SOURCE_KEY] == sha256(out / f"{cid}.xlsx")


@requires_libreoffice
def test_a_pdf_that_cannot_be_made_is_listed_and_its_calculator_stays(first, tmp_path):
    table, out0, result = first
    assert result.exit_code == 0, result.output
    out = shutil.copytree(out0, tmp_path / "out")
    # C-0002: its PDF's place is taken by a folder, so the PDF cannot be written
    (out / "C-0002.pdf").unlink()
    (out / "C-0002.pdf").mkdir()
    # C-0003: a file LibreOffice cannot load (its content types call the workbook a Word
    # document); it passes the safety check, and the batch leaves it as it is
    damaged = out / "C-0003.xlsx"
    with zipfile.ZipFile(damaged) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main", b"wordprocessingml.document.main")
            archive.writestr(info, data)
    damaged_bytes = damaged.read_bytes()
    first_pdf = (out / "C-0001.pdf").read_bytes()
    result = batch(table, out)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": no PDF: " in line]
    assert errors == [
        f"C-0002.xlsx: no PDF: {out / 'C-0002.pdf'}: cannot write it: Is a directory",
        "C-0003.xlsx: no PDF: LibreOffice made no PDF of it: Error: source file could not be "
        "loaded; the PDF of an earlier version of it was removed"]
    assert result.stdout.splitlines()[-1] == f"{out}: PDFs: 0 written, 1 up to date, 2 failed"
    assert (out / "C-0001.pdf").read_bytes() == first_pdf
    assert (out / "C-0002.xlsx").is_file() and (out / "C-0002.pdf").is_dir()
    assert damaged.read_bytes() == damaged_bytes  # the calculator stays as it was
    assert not (out / "C-0003.pdf").exists()  # no PDF of other numbers next to it
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


def test_batch_pdf_without_libreoffice_is_refused_before_any_work(tmp_path, monkeypatch):
    table = write_table(tmp_path / "customers.csv", NAMES)
    monkeypatch.setenv("CVP_XL_SOFFICE", str(tmp_path / "no-soffice-here"))
    result = batch(table, tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {INSTALL_HINT}\n"
    assert not (tmp_path / "out").exists()
