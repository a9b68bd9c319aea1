"""The batch's memory does not grow with the customers: the customer table read row by row
(``open_table``) gives exactly what the frame read whole (``read_table``) gives, the file
lists and the summary lines kept on disk read back as the lists they replace.

Every expected value is what the in-memory path computes for the same file (the path these
replace, tested in ``test_batch.py``), or is written out by hand in the test.  The memory
itself is measured in ``benchmarks/batch.py`` (no memory assertion in a unit test).
"""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import openpyxl
import pytest

from cvp_xl.commands.batch import Paths, customer_table, open_table, read_table, validate
from cvp_xl.commands.summary import SummaryLines, summary_row, write_summary
from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks.calculator import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "workbooks" / "calculators" / "compressed-air-leaks.yaml"


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC_PATH)


def _head(spec, sep=","):
    return sep.join(["customer_id", "customer_name", *spec.input_names])


def _line(spec, cid, name, values, sep=","):
    return sep.join([cid, name, *values])


def tables(spec):
    """CSV files as exported in the field: (file name, bytes)."""
    n = len(spec.input_names)
    good = ["40", "10", "60000", "0.11", "0.16", "160", "20", "55"]
    comma = ["40", "10", "60.000", "0,11", "0,16", "160", "20", "55"]
    last = ['"1,234"', "10", "60000", '"0,11"', "0.16", "160", "20", "55"]  # quoted commas
    rows = {
        # a bad number, a duplicate id, a blank id, a blank line, a total row at the end
        "field.csv": "\n".join([
            _head(spec), _line(spec, "C-1", "Acme", good),
            _line(spec, "C-2", "Beta", ["lots"] + good[1:]),
            "", _line(spec, "C-1", "Again", good), _line(spec, "", "No id", good),
            _line(spec, "C-3", "=cmd()", ["7%"] + good[1:]),
            "Total," + "," * n]).encode("utf-8"),
        # Excel's sep= line, semicolons, decimal commas, Windows-1252, a line too long
        "excel.csv": "\r\n".join([
            "sep=;", _head(spec, ";"), _line(spec, "C-1", "Müller", comma, ";"),
            _line(spec, "C-2", "Øst", comma + ["extra"], ";"),
            _line(spec, "C-3", "Çà", comma, ";"), ";" * (n + 1), ""]).encode("cp1252"),
        # both decimal marks: a field either reads is refused; a short line; a BOM
        "mixed.csv": b"\xef\xbb\xbf" + "\n".join([
            _head(spec), _line(spec, "C-1", "One", good),
            _line(spec, "C-2", "Two", ["1,5"] + good[1:]),
            _line(spec, "C-3", "Three", ["1,234"] + good[1:]), "C-4,Short"]).encode("utf-8"),
        # more than one chunk of fields (4,096) for the decimal mark, which shows on the last
        "long.csv": "\n".join([_head(spec)] + [
            _line(spec, f"C-{k}", f"N {k}", good if k < 599 else last)
            for k in range(600)]).encode("utf-8"),
    }
    return rows


def _same(a, b):
    assert list(a.customers) == list(b.customers)
    assert a.values.keys() == b.values.keys()
    for k in a.values:
        assert a.values[k].tolist() == b.values[k].tolist()
    assert [str(p) for p in a.problems] == [str(p) for p in b.problems]
    assert a.skipped == b.skipped
    assert a.notes == b.notes


@pytest.mark.parametrize("name", ["field.csv", "excel.csv", "mixed.csv", "long.csv"])
def test_rows_read_one_at_a_time_are_the_rows_read_whole(spec, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(tables(spec)[name])
    frame = read_table(path)
    whole = validate(spec, frame, str(path))
    stream = open_table(path)
    assert len(stream) == len(frame)
    assert stream.columns == list(frame.columns)
    assert stream.read.describe() == frame.attrs["read"].describe()
    _same(validate(spec, stream, str(path)), whole)
    assert whole.problems or name == "long.csv"  # the cases hold what they say they hold


def test_a_long_table_finds_a_decimal_mark_past_the_first_chunk(spec, tmp_path):
    # 600 rows x 8 inputs = 4,800 fields: the last row's "0,11" shows the comma only in the
    # second chunk; with the dots of "0.11" before, the table is "mixed" (read whole: the
    # same), so the last row's "1,234" (1234 or 1.234) is refused
    path = tmp_path / "long.csv"
    path.write_bytes(tables(spec)["long.csv"])
    rows = validate(spec, open_table(path), str(path))
    assert [p.row for p in rows.problems] == [601]
    assert "decimal comma" not in " ".join(rows.notes)
    assert "numbers use both . and , as decimal marks" in rows.notes[0]


def test_a_workbook_table_reads_the_same_row_by_row(spec, tmp_path):
    path = customer_table(spec, tmp_path / "customers.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.append(["C-0002", "Second", *[i.base for i in spec.inputs]])
    ws.append(["C-0003", "Bad", "lots", *[i.base for i in spec.inputs[1:]]])
    wb.save(path)
    _same(validate(spec, open_table(path), "t"), validate(spec, read_table(path), "t"))
    assert len(open_table(path)) == 3


def test_a_table_with_no_header_line_is_refused_as_before(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b",,,\n,,\n")
    with pytest.raises(WorkbookError) as whole:
        read_table(path)
    with pytest.raises(WorkbookError) as stream:
        open_table(path)
    assert str(stream.value) == str(whole.value) == \
        f"{path}: not a readable CSV file (no header line)"


def test_a_table_changed_while_it_is_read_is_refused(spec, tmp_path):
    path = tmp_path / "field.csv"
    path.write_bytes(tables(spec)["field.csv"])
    stream = open_table(path)
    path.write_bytes(tables(spec)["field.csv"].replace(b"Acme", b"Acne"))
    with pytest.raises(WorkbookError) as err:
        validate(spec, stream, str(path))
    assert str(err.value) == f"{path}: changed while it was being read; run the command again"


def test_paths_kept_on_disk_read_back_as_a_list(tmp_path):
    names = [tmp_path / "C-1.xlsx", tmp_path / "dir" / "Ünïcode é.xlsx", Path("rel.xlsx")]
    paths = Paths()
    assert not paths and len(paths) == 0 and paths == []
    for p in names:
        paths.append(p)
    assert paths == names and list(paths) == names and len(paths) == 3
    assert paths[-1] == names[-1] and paths[1:] == names[1:]
    assert [p.name for p in paths] == ["C-1.xlsx", "Ünïcode é.xlsx", "rel.xlsx"]
    assert pickle.loads(pickle.dumps(paths)) == names
    with pytest.raises(IndexError):
        paths[3]


def test_summary_lines_on_disk_write_the_same_files_as_the_list(spec, tmp_path):
    # lines as a batch appends them: blocks in row order, then the skipped rows (rows 3 and
    # 1), two lines of one row (row 5) in the order they came
    made = [({"customer_id": "C-2", "customer_name": "=two", "row": 2}, "written"),
            ({"customer_id": "C-5", "customer_name": "Five", "row": 5}, "first"),
            ({"customer_id": "C-5b", "customer_name": "Five again", "row": 5}, "second"),
            ({"customer_id": "C-3", "customer_name": "Three", "row": 3}, "skipped"),
            ({"customer_id": "C-1", "customer_name": "One\x0b", "row": 1}, "skipped")]
    rows = [summary_row(spec, c, status=s, note=f"note {k}", file=tmp_path / f"{k}.xlsx")
            for k, (c, s) in enumerate(made)]
    lines = SummaryLines()
    for r in rows:
        lines.append(r)
    expected = sorted(rows, key=lambda r: r["_row"])
    assert [r["Customer id"] for r in lines] == ["C-1", "C-2", "C-3", "C-5", "C-5b"]
    assert list(lines) == expected and list(lines) == expected  # read again: the same
    (tmp_path / "list").mkdir()
    (tmp_path / "disk").mkdir()
    frame = write_summary(spec, expected, tmp_path / "list")
    assert write_summary(spec, lines, tmp_path / "disk", frame=False) is None
    for name in ("summary.csv",):
        assert (tmp_path / "disk" / name).read_bytes() == (tmp_path / "list" / name).read_bytes()
    one, two = (openpyxl.load_workbook(tmp_path / d / "summary.xlsx").active
                for d in ("list", "disk"))
    cells = [[(c.value, c.number_format, c.hyperlink.target if c.hyperlink else None)
              for c in row] for row in one.iter_rows()]
    assert cells == [[(c.value, c.number_format, c.hyperlink.target if c.hyperlink else None)
                      for c in row] for row in two.iter_rows()]
    assert one.auto_filter.ref == two.auto_filter.ref == "A1:O6"
    with open(tmp_path / "disk" / "summary.csv", newline="", encoding="utf-8") as handle:
        assert [r[0] for r in csv.reader(handle)][1:] == ["C-1", "C-2", "C-3", "C-5", "C-5b"]
    assert frame["Customer id"].tolist() == ["C-1", "C-2", "C-3", "C-5", "C-5b"]


def test_links_kept_on_disk_write_the_summary_xlsx_writer_writes(spec, tmp_path, monkeypatch):
    # the reference: the same summary with XlsxWriter's own store of links (its default,
    # ``defaultdict(dict)``); every part of the two files must be the same bytes but the
    # creation time in docProps/core.xml
    import zipfile
    from collections import defaultdict

    from cvp_xl.commands import summary

    rows = [summary_row(spec, {"customer_id": f"C-{k}", "customer_name": f"N {k}", "row": k + 2},
                        status="written", file=tmp_path / name)
            for k, name in enumerate(["C-0.xlsx", "=C-1.xlsx", "C 2 é.xlsx", "C-3.xlsx"])]
    rows.append(summary_row(spec, {"customer_id": "C-9", "row": 9}, status="skipped",
                            note="bad"))
    (tmp_path / "disk").mkdir()
    (tmp_path / "own").mkdir()
    write_summary(spec, rows, tmp_path / "disk")
    monkeypatch.setattr(summary, "_Links", lambda: defaultdict(dict))
    write_summary(spec, rows, tmp_path / "own")
    one, two = (zipfile.ZipFile(tmp_path / d / "summary.xlsx") for d in ("disk", "own"))
    assert one.namelist() == two.namelist()
    assert "xl/worksheets/_rels/sheet1.xml.rels" in one.namelist()
    for name in one.namelist():
        if name != "docProps/core.xml":
            assert one.read(name) == two.read(name), name
    assert one.read("xl/worksheets/sheet1.xml").count(b"<hyperlink ") == 4


def test_a_batch_of_rows_read_one_at_a_time_writes_what_the_frame_writes(spec, tmp_path):
    # the reference: the same table read whole, as build_many read it before
    from cvp_xl.commands.batch import build_many

    path = tmp_path / "field.csv"
    path.write_bytes(tables(spec)["field.csv"])
    whole = build_many(spec, read_table(path), tmp_path / "whole", source=str(path))
    rows = build_many(spec, validate(spec, open_table(path), str(path)), tmp_path / "rows")
    assert [p.name for p in rows.written] == [p.name for p in whole.written] == \
        ["C-1.xlsx", "C-3.xlsx"]
    assert [str(p) for p in rows.problems] == [str(p) for p in whole.problems]
    assert rows.summary.equals(whole.summary)
    assert (tmp_path / "rows" / "summary.csv").read_bytes() == \
        (tmp_path / "whole" / "summary.csv").read_bytes()
