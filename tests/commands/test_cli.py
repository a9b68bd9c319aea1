"""The cvp-xl command, table-driven: arguments, expected output, exit code; hostile files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cvp_xl.commands.cli import main

LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE workbook [\n <!ENTITY lol "lol">\n'
          b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
          b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
          b'<workbook>&lol3;</workbook>')


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def book(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = 200_000, 50_000
    ws["B1"] = "=CVP_ROI(A1,A2)"  # (200,000 - 50,000) / 50,000 = 3 (prezentor.com example)
    ws["B2"] = "=CVP_ROI(A1,0)"
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def _rewrite(src: Path, dst: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, data if item.filename == member else zin.read(item))
    return dst


@pytest.mark.parametrize("args,code,first_line", [
    (["functions", "CVP_ROI"], 0, "CVP_ROI(benefit, cost)"),
    (["functions", "cvp_roi"], 0, "CVP_ROI(benefit, cost)"),
    (["functions", "CVP_NOPE"], 2, None),
    (["--version"], 0, None),
    (["recalc"], 2, None),
])
def test_table(args, code, first_line):
    result = run(*args)
    assert result.exit_code == code, result.output
    if first_line:
        assert result.stdout.splitlines()[0] == first_line


def test_unknown_function_message():
    result = run("functions", "CVP_NOPE")
    assert result.stderr.endswith("Error: Invalid value for NAME: unknown function 'CVP_NOPE'\n")


def test_functions_lists_every_function():
    from cvp_xl.registry import functions

    out = run("functions").stdout
    for entry in functions():
        assert entry.signature in out


def test_recalc_then_strict(book, tmp_path):
    out = tmp_path / "out.xlsx"
    result = run("recalc", book, "-o", out)
    assert result.exit_code == 0
    assert result.stdout == (f"{out}: 2 formula cells: 1 computed, 0 kept (not recomputed), "
                             "1 error\n")
    assert result.stderr == ("  Sheet!B2: #DIV/0! (CVP_ROI: cost: is 0; ROI = (benefit - cost) "
                             "/ cost needs a non-zero cost)\n")
    assert openpyxl.load_workbook(out, data_only=True).active["B1"].value == 3
    assert run("recalc", book, "--strict").exit_code == 1


def test_not_an_xlsx(tmp_path):
    bad = tmp_path / "report.xlsx"
    bad.write_bytes(b"%PDF-1.4 not a workbook")
    out = tmp_path / "out.xlsx"
    result = run("recalc", bad, "-o", out)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {bad}: not an .xlsx file (not a zip archive)\n"
    assert not out.exists()


def test_entity_expansion_is_refused_and_nothing_written(book, tmp_path):
    hostile = _rewrite(book, tmp_path / "laughs.xlsx", "xl/workbook.xml", LAUGHS)
    before = hostile.read_bytes()
    result = run("recalc", hostile)
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {hostile}: refused: 'xl/workbook.xml' declares a DTD or "
                             "XML entities (possible entity-expansion attack)\n")
    assert hostile.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "laughs.xlsx"]


def test_zip_bomb_is_refused_and_nothing_written(book, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
        with zout.open("xl/media/padding.bin", "w") as member:  # 64 MiB of zeros, ~64 KiB packed
            chunk = b"\0" * (1 << 20)
            for _ in range(64):
                member.write(chunk)
    out = tmp_path / "out.xlsx"
    result = run("recalc", bomb, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bomb}: refused: member 'xl/media/padding.bin' "
                                    "compresses ")
    assert result.stderr.endswith(":1 (limit 200:1)\n")
    assert not out.exists()
