"""``read_contents`` reads each row whole: the same contents as reading element by element.

The reader asks the XML parser for the ends of rows only (its tag filter, in C) and skips an
empty styled cell (``<c r="B2" s="3"/>``) after checking its reference.  The reference here
is the reader it replaced, kept in this test: every start and end event of the part, each
``c`` element read where it ends.  Both must give the same cells, values, formulas, hidden
rows, filters, names and tables for every workbook of the corpus (saved by Excel, Apache POI,
LibreOffice), every example calculator, and hand-made parts with empty styled cells, cells
without references after them, other namespaces and a bad reference in an empty cell (the
same message word for word).
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.xlsx import contents
from cvp_xl.xlsx.contents import read_contents

CORPUS = sorted(p for p in (Path(__file__).parents[1] / "corpus").rglob("*.xls[xm]")
                if not p.name.startswith("."))
SPECS = sorted(example("calculators").glob("*.yaml"))


class _EventReader(contents._Reader):
    """The reader before the row filter: every event of the part, a cell read at its end."""

    def _read_sheet(self, sheet, strings, date1904):
        shared = {}
        where = f"{self.name}: not a valid .xlsx file: sheet {sheet.name!r}"
        row_number = 0
        with self.archive.open(sheet.part) as stream:
            context = etree.iterparse(
                stream, events=("start", "end"), resolve_entities=False, no_network=True,
                huge_tree=False, remove_comments=True, remove_pis=True)
            col = 0
            try:
                for event, el in context:
                    local = contents._local(el.tag)
                    if event == "start":
                        if local == "row":
                            r = el.get("r")
                            row_number = contents._row_number(r, where) if r else row_number + 1
                            col = 0
                            if el.get("hidden", "0").lower() in ("1", "true"):
                                sheet.hidden_rows.add(row_number)
                        continue
                    if local == "c":
                        col = self._cell(sheet, el, row_number, col, strings, shared, where,
                                         date1904)
                        el.clear(keep_tail=False)
                    elif local == "autoFilter" and contents._filtering(el):
                        bounds = contents._bounds(el.get("ref"))
                        if bounds:
                            sheet.filtered.append(bounds)
            except etree.XMLSyntaxError as exc:
                raise WorkbookError(f"{where} is not well-formed XML ({exc})") from None


def _by_events(path) -> contents.Contents:
    with zipfile.ZipFile(path) as archive:
        return _EventReader(str(path), archive, contents.MAX_CELLS, contents.MAX_FORMULAS).read()


def _plain(found: contents.Contents):
    """Everything read, as plain data (an error value by its code)."""
    sheets = [(s.name, s.index, s.part, sorted(s.hidden_rows), s.filtered,
               {ref: (type(c.value).__name__, repr(c.value), c.formula, c.kind, c.array)
                for ref, c in s.cells.items()}, list(s.cells))
              for s in found.sheets]
    return (sheets, [dataclasses.astuple(n) for n in found.names],
            [dataclasses.astuple(t) for t in found.tables], found.date1904, found.iterate,
            found.iterate_count, found.iterate_delta, found.external_links,
            found.all_sheet_names)


def _either(read, path):
    try:
        return _plain(read(path))
    except WorkbookError as exc:
        return str(exc)


@pytest.fixture(scope="module")
def calculators(tmp_path_factory):
    out = tmp_path_factory.mktemp("calculators")
    paths = []
    for spec_path in SPECS:
        path = out / f"{spec_path.stem}.xlsx"
        build(load_spec(spec_path), path, customer="Acme Ltd")
        paths.append(path)
    return paths


def test_the_corpus_is_there():
    assert len(CORPUS) >= 57  # the 57 of tests/corpus/test_corpus.py, and POI's own


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_a_corpus_workbook_reads_the_same_by_rows(path):
    assert _either(read_contents, path) == _either(_by_events, path)


def test_every_example_calculator_reads_the_same_by_rows(calculators):
    for path in calculators:
        found = _plain(read_contents(path))
        assert found == _plain(_by_events(path)), path.name
        assert sum(len(s[5]) for s in found[0]) > 300  # a calculator's cells, all read


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"


def _sheet_xml(rows: str, ns: str | None = _NS) -> str:
    xmlns = f' xmlns="{ns}"' if ns else ""
    return (f'<worksheet{xmlns}><sheetData>{rows}</sheetData>'
            f'<autoFilter ref="A1:C4"><filterColumn colId="0"/></autoFilter></worksheet>')


def _workbook(path: Path, sheet: str, ns: str | None = _NS) -> Path:
    xmlns = f' xmlns="{ns}"' if ns else ""
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml",
                   f'<workbook{xmlns} xmlns:r="{rel}"><sheets>'
                   f'<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                   'Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


#: Empty styled cells before, between and after values; cells without a reference after an
#: empty one (their column follows it); a hidden row; a row without its number; an inline
#: string of one run and of two runs with a phonetic run between them.
_ROWS = ('<row r="1"><c r="A1" s="2"/><c r="B1"><v>1.5</v></c><c s="3"/><c><v>7</v></c>'
         '<c r="F1" s="1"/></row>'
         '<row r="3" hidden="1"><c r="C3" s="1"/><c t="inlineStr"><is><t>x</t></is></c></row>'
         '<row><c r="A4" t="inlineStr"><is><r><t>a</t></r><rPh><t>no</t></rPh><r><t>b</t></r>'
         '</is></c><c r="B4"><f>A1*2</f><v>3</v></c><c r="C4" s="5"></c></row>')


@pytest.mark.parametrize("ns", [_NS, _STRICT, None], ids=["transitional", "strict", "none"])
def test_empty_styled_cells_are_skipped_and_the_rest_read_the_same(tmp_path, ns):
    path = _workbook(tmp_path / "s.xlsx", _sheet_xml(_ROWS, ns), ns)
    found = read_contents(path)
    assert _plain(found) == _plain(_by_events(path))
    sheet = found.sheets[0]
    # by hand, from _ROWS: the values and the formula the part holds, where it holds them
    # (C1 has no reference: the column after B1; D1 after it; D3 after C3)
    assert {ref: (c.value, c.formula) for ref, c in sheet.cells.items()} == {
        "B1": (1.5, None), "D1": (7, None), "D3": ("x", None), "A4": ("ab", None),
        "B4": (3, "A1*2")}
    assert sheet.hidden_rows == {3}
    assert sheet.filtered == [(1, 1, 4, 3)]


def test_a_bad_reference_in_an_empty_cell_is_refused_as_before(tmp_path):
    path = _workbook(tmp_path / "bad.xlsx", _sheet_xml(
        '<row r="1"><c r="B1"><v>1</v></c><c r="ZZZZ1" s="2"/></row>'))
    with pytest.raises(WorkbookError) as caught:
        read_contents(path)
    assert str(caught.value) == (f"{path}: not a valid .xlsx file: sheet 'S': 'ZZZZ1' is not "
                                 "a cell reference")
    assert _either(_by_events, path) == str(caught.value)


def test_an_empty_cell_past_the_last_column_is_refused_as_before(tmp_path):
    cells = "".join('<c s="1"/>' for _ in range(3))
    row = f'<row r="2"><c r="XFC2" s="1"/>{cells}</row>'
    path = _workbook(tmp_path / "far.xlsx", _sheet_xml(row))
    with pytest.raises(WorkbookError) as caught:
        read_contents(path)
    assert str(caught.value) == (f"{path}: not a valid .xlsx file: sheet 'S': a cell without a "
                                 "reference lies outside the sheet")
    assert _either(_by_events, path) == str(caught.value)
