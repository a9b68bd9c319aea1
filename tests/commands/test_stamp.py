"""The stamping writer of batch: a stamped calculator is the builder's calculator.

For every example spec and the four scenarios, a :class:`Stamper` writes the calculator of a
first customer (the template: the builder's own file) and then writes the calculator of a
second customer (other figures, a name that looks like a formula and holds XML's special
characters) from the template, in each of its two ways:

- *stamped* (``keyed=False``, and for calculators with inputs carried over): the builder lays
  out the second workbook and it is stamped into the template's parts; the second customer's
  figures need other number formats than the template's;
- *patched* (the keyed path, batch's default): the builder does not run for the second
  customer; its values, computed from the model, are patched into the template of its shape
  (the first customer has other figures of the same number formats, another name, the Base
  scenario).

The builder writes the second customer's calculator too, with the same arguments and time.
The two files must be the same: part by part (uncompressed, the times of
``docProps/core.xml`` left out), cell by cell as openpyxl reads them (value, formula, cached
value, style, number format, protection), with the same validations, defined names, merged
cells, charts and drawings; and LibreOffice recomputes the values the written file carries.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from helpers import close, requires_libreoffice
from openpyxl import Workbook
from openpyxl.xml.functions import tostring

from cvp_xl.errors import ErrorValue
from cvp_xl.workbooks import example
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.calculator import digests, load_spec, model
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.calculator.inputs_sheet import input_formats
from cvp_xl.workbooks.calculator.spec import SCENARIOS
from cvp_xl.workbooks.calculator.stamp import Stamper
from cvp_xl.xlsx.stamp import ShapeChanged, Template, differences

SPECS = sorted(example("calculators").glob("*.yaml"))
CASES = [(p, s) for p in SPECS for s in SCENARIOS]
IDS = [f"{p.stem}-{s}" for p, s in CASES]
WAYS = [(w, p, s) for w in ("stamped", "patched") for p, s in CASES]
WAY_IDS = [f"{w}-{p.stem}-{s}" for w, p, s in WAYS]
BUILT_AT = dt.datetime(2026, 3, 4, 5, 6, 7)
#: A name as a CRM exports it: a leading "=" (text, never a formula), XML's special
#: characters, letters outside ASCII, and spaces at the end (kept, xml:space="preserve").
NAME = '=HYPERLINK("http://x.example") & <Sørensen> "Ltd" ’s  '


def _second(spec) -> dict:
    """The second customer's figures: 37% of the way from each input's low to its high,
    rounded to 3 decimals (other figures, so other number formats, than the spec's base)."""
    return {i.name: round(i.low + 0.37 * (i.high - i.low), 3) for i in spec.inputs}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{(spec path, scenario): (spec, stamped file, builder's file, stamper)}."""
    out = tmp_path_factory.mktemp("stamp")
    found = {}
    for path, scenario in CASES:
        spec = load_spec(path)
        # the second file is stamped, not written twice
        stamper = Stamper(spec, verify=1, keyed=False)
        stamper.build(out / f"{path.stem}-{scenario}-template.xlsx", customer="Template Co",
                      scenario=scenario, built_at=BUILT_AT)
        kwargs = {"given": _second(spec), "customer": NAME, "scenario": scenario,
                  "built_at": BUILT_AT, "properties": {"cvp-xl-customer-id": "C-0002"}}
        stamped = out / f"{path.stem}-{scenario}.xlsx"
        stamper.build(stamped, **kwargs)
        built = out / f"{path.stem}-{scenario}-built.xlsx"
        build(spec, built, **kwargs)
        found[(path, scenario)] = (spec, stamped, built, stamper)
    return found


def _same_formats(spec) -> dict:
    """Figures of the first customer of the patched files: other than the second's, with the
    same number formats (the same shape): the first of 61%, 43%, 29%, 53% of the way from low
    to high, rounded to 3 decimals, whose formats are the second's."""
    def formats(given):
        return input_formats(spec, model.input_values(spec, "Base", given))

    for share in (0.61, 0.43, 0.29, 0.53):
        given = {i.name: round(i.low + share * (i.high - i.low), 3) for i in spec.inputs}
        if formats(given) == formats(_second(spec)):
            return given
    raise AssertionError(f"{spec.path}: no figures with the second customer's formats")


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    """As ``files``, the second file written by the keyed path (patched, no builder)."""
    out = tmp_path_factory.mktemp("patched")
    found = {}
    for path, scenario in CASES:
        spec = load_spec(path)
        stamper = Stamper(spec, verify=1)  # the template proved; the second file patched
        stamper.build(out / f"{path.stem}-{scenario}-template.xlsx", customer="+Template & Co",
                      given=_same_formats(spec), built_at=BUILT_AT)
        kwargs = {"given": _second(spec), "customer": NAME, "scenario": scenario,
                  "built_at": BUILT_AT, "properties": {"cvp-xl-customer-id": "C-0002"}}
        written = out / f"{path.stem}-{scenario}-patched.xlsx"  # LibreOffice: its own name
        stamper.build(written, **kwargs)
        built = out / f"{path.stem}-{scenario}-built.xlsx"
        build(spec, built, **kwargs)
        found[(path, scenario)] = (spec, written, built, stamper)
    return found


@pytest.fixture(scope="module")
def written(files, patched):
    """Both ways: {(way, spec path, scenario): (spec, file written, builder's file, stamper)}."""
    return {**{("stamped", *k): v for k, v in files.items()},
            **{("patched", *k): v for k, v in patched.items()}}


@pytest.mark.parametrize("path,scenario", CASES, ids=IDS)
def test_the_second_file_is_stamped_and_is_the_builders_part_by_part(path, scenario, files):
    _, stamped, built, stamper = files[(path, scenario)]
    assert (stamper.built, stamper.stamped, stamper.notes) == (1, 1, [])
    assert differences(stamped.read_bytes(), built.read_bytes()) == []
    # the second customer's figures need other number formats than the template's: the
    # styles were written anew, not copied
    template = stamped.with_name(f"{path.stem}-{scenario}-template.xlsx")
    with zipfile.ZipFile(template) as a, zipfile.ZipFile(stamped) as b:
        assert a.read("xl/styles.xml") != b.read("xl/styles.xml")


@pytest.mark.parametrize("path,scenario", CASES, ids=IDS)
def test_the_second_file_is_patched_and_is_the_builders_part_by_part(path, scenario, patched):
    _, written, built, stamper = patched[(path, scenario)]
    assert (stamper.built, stamper.patched, stamper.stamped, stamper.notes) == (1, 1, 0, [])
    assert differences(written.read_bytes(), built.read_bytes()) == []


def _style(obj) -> bytes:
    """A style (font, fill, border, alignment, protection) as its XML: comparable across
    workbooks."""
    return tostring(obj.to_tree())


def _cells(path: Path) -> dict:
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                out[(ws.title, c.coordinate)] = (
                    c.value, c.data_type, values[ws.title][c.coordinate].value, c.number_format,
                    *map(_style, (c.font, c.fill, c.border, c.alignment, c.protection)),
                    c.quotePrefix)
    return out


def _sheets(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    out = {"names": sorted((n, str(d.attr_text)) for n, d in wb.defined_names.items()),
           "order": [(ws.title, ws.sheet_state) for ws in wb.worksheets]}
    for ws in wb.worksheets:
        out[ws.title] = {
            "validations": [(str(v.sqref), v.type, v.operator, v.formula1, v.formula2,
                             v.error, v.errorTitle, v.prompt, v.promptTitle, v.allow_blank)
                            for v in ws.data_validations.dataValidation],
            "protection": (ws.protection.sheet, ws.protection.formatColumns,
                           ws.protection.formatRows, ws.protection.password),
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "print": (ws.print_area, ws.print_title_rows, ws.freeze_panes,
                      ws.page_setup.orientation, ws.page_setup.paperSize),
            "columns": {k: (d.width, d.hidden) for k, d in ws.column_dimensions.items()},
            "rows": {k: (d.height, d.hidden) for k, d in ws.row_dimensions.items()},
        }
    return out


@pytest.mark.parametrize("way,path,scenario", WAYS, ids=WAY_IDS)
def test_cell_by_cell_with_validations_protection_and_names(way, path, scenario, written):
    _, stamped, built, _ = written[(way, path, scenario)]
    mine, theirs = _cells(stamped), _cells(built)
    assert len(mine) > 500
    assert {k: v for k, v in mine.items() if theirs.get(k) != v} == {}
    assert mine.keys() == theirs.keys()
    assert _sheets(stamped) == _sheets(built)


@pytest.mark.parametrize("way,path,scenario", WAYS, ids=WAY_IDS)
def test_charts_and_drawings_byte_for_byte(way, path, scenario, written):
    _, stamped, built, _ = written[(way, path, scenario)]
    with zipfile.ZipFile(stamped) as a, zipfile.ZipFile(built) as b:
        drawn = [n for n in b.namelist() if n.startswith(("xl/charts/", "xl/drawings/",
                                                          "xl/media/"))]
        assert len([n for n in drawn if n.startswith("xl/charts/")]) >= 2
        assert [n for n in a.namelist() if n in drawn] == drawn
        assert [n for n in drawn if a.read(n) != b.read(n)] == []


@pytest.mark.parametrize("way", ["stamped", "patched"])
def test_the_customers_name_stays_text_escaped_as_xml_requires(way, written):
    spec, stamped, _, _ = written[(way, SPECS[0], "Base")]
    cell = openpyxl.load_workbook(stamped)["Summary"]["B2"]
    assert (cell.value, cell.data_type) == (NAME, "s")
    with zipfile.ZipFile(stamped) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    # an inline string as the builder writes text (no shared strings), never a <f>
    assert ('<c r="B2" s="2" t="inlineStr"><is><t xml:space="preserve">=HYPERLINK('
            '"http://x.example") &amp; &lt;Sørensen&gt; "Ltd" ’s  </t></is></c>') in sheet


@pytest.fixture(scope="module")
def libreoffice(written):
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    paths = [stamped for _, stamped, _, _ in written.values()]
    return dict(zip(paths, libreoffice_values_many(paths)))


def _same(a, b) -> bool:
    a = "" if a is None else a
    b = "" if b is None else b
    return close(a, b)


@requires_libreoffice
@pytest.mark.parametrize("way,path,scenario", WAYS, ids=WAY_IDS)
def test_libreoffice_recomputes_the_stamped_values(way, path, scenario, written, libreoffice):
    _, stamped, _, _ = written[(way, path, scenario)]
    lo = libreoffice[stamped]
    formulas = openpyxl.load_workbook(stamped)
    values = openpyxl.load_workbook(stamped, data_only=True)
    cached = {(ws.title, c.coordinate): (ErrorValue(v.value) if v.data_type == "e" else v.value)
              for ws in formulas.worksheets for row in ws.iter_rows() for c in row
              if c.data_type == "f" for v in [values[ws.title][c.coordinate]]}
    assert len(cached) > 100
    assert {k: (lo.get(k), v) for k, v in cached.items() if not _same(lo.get(k), v)} == {}


# -- the stamper's own rules --------------------------------------------------------------------


def test_the_first_two_files_of_a_shape_are_proved_then_stamped(tmp_path):
    spec = load_spec(SPECS[0])
    # verify=2: the template, and the next file written both ways
    stamper = Stamper(spec, keyed=False)
    for k in range(3):
        stamper.build(tmp_path / f"{k}.xlsx", customer=f"Customer {k}", built_at=BUILT_AT,
                      given={i.name: i.base * (1 + k / 10) for i in spec.inputs[:1]})
    assert (stamper.built, stamper.stamped, stamper.notes) == (1, 2, [])
    build(spec, tmp_path / "built.xlsx", customer="Customer 2", built_at=BUILT_AT,
          given={i.name: i.base * 1.2 for i in spec.inputs[:1]})
    assert differences((tmp_path / "2.xlsx").read_bytes(),
                       (tmp_path / "built.xlsx").read_bytes()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.xlsx", "1.xlsx", "2.xlsx",
                                                          "built.xlsx"]


def test_a_calculator_of_another_shape_gets_its_own_template(tmp_path):
    spec = load_spec(SPECS[0])
    stamper = Stamper(spec, verify=1, keyed=False)
    carried = [{"input": "Old input", "unit": "USD", "base": 1.0, "low": 0.5, "high": 2.0,
                "source": "an earlier spec"}]
    stamper.build(tmp_path / "a.xlsx", customer="A", built_at=BUILT_AT)
    stamper.build(tmp_path / "b.xlsx", customer="B", built_at=BUILT_AT, carried=carried)
    stamper.build(tmp_path / "c.xlsx", customer="C", built_at=BUILT_AT, carried=carried)
    # the sheet "Carried over" makes another shape: built first, then stamped
    assert (stamper.built, stamper.stamped, len(stamper.templates)) == (2, 1, 2)
    build(spec, tmp_path / "built.xlsx", customer="C", built_at=BUILT_AT, carried=carried)
    assert differences((tmp_path / "c.xlsx").read_bytes(),
                       (tmp_path / "built.xlsx").read_bytes()) == []


def _book(value_of_a2=None) -> Book:
    book = Book(Workbook())
    ws = book.wb.active
    book.input(ws["A1"], 2)
    ws["A2"] = "=A1*3"
    if value_of_a2 is not None:
        book.values[("Sheet", "A2")] = value_of_a2
    return book


def test_a_workbook_of_another_shape_is_refused(tmp_path):
    book = _book(6)
    book.save(tmp_path / "t.xlsx")
    template = Template(book.wb, (tmp_path / "t.xlsx").read_bytes())
    other = _book(6)
    other.wb.create_sheet("More")
    with pytest.raises(ShapeChanged, match="the workbook's sheets, charts or images differ "
                                           "from the template's"):
        template.write(other.wb, other.values, io.BytesIO())
    commented = _book(6)
    commented.wb.active["A1"].comment = openpyxl.comments.Comment("note", "me")
    with pytest.raises(ShapeChanged) as err:
        template.write(commented.wb, commented.values, io.BytesIO())
    assert str(err.value) == "Sheet!A1 has a comment or a link"


def test_a_formula_without_its_value_writes_nothing(tmp_path):
    book = _book(6)
    book.save(tmp_path / "t.xlsx")
    template = Template(book.wb, (tmp_path / "t.xlsx").read_bytes())
    out = io.BytesIO()
    with pytest.raises(ValueError) as err:
        template.write(_book().wb, {}, out)
    assert str(err.value) == "formula cells without a computed value: Sheet!A2"
    assert out.getvalue() == b""


def test_stamped_values_of_every_kind_read_back_as_written(tmp_path):
    """Each kind of cached value (number, text, bool, error, none) and of constant, stamped
    into a template that held other values, reads back as Book.save writes it."""
    def book(values):
        b = Book(Workbook())
        ws = b.wb.active
        b.input(ws["A1"], values[0])
        for k, v in enumerate(values[1:], start=2):
            b.formula(ws[f"A{k}"], f"=A1&\"{k}\"", v)
        return b

    first = book([1, 1.0, "x", True, ErrorValue("#N/A"), None])
    first.save(tmp_path / "t.xlsx")
    template = Template(first.wb, (tmp_path / "t.xlsx").read_bytes())
    second = book(["=not a formula", 0.1 + 0.2, "a\r\nb <&>", False, ErrorValue("#DIV/0!"),
                   "_x0041_"])
    out = io.BytesIO()
    template.write(second.wb, second.values, out)
    second.save(tmp_path / "second.xlsx")
    assert differences(out.getvalue(), (tmp_path / "second.xlsx").read_bytes()) == []
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    # text from data stays text; numbers in their shortest round-trip form; text in a cached
    # value escaped as Excel writes it (CR as _x000D_, a literal _x0041_ as _x005F_x0041_:
    # cvp_xl.xlsx.cached.escape_text); XML's specials as entities
    for expected in ('<c r="A1" s="1" t="inlineStr"><is><t>=not a formula</t></is></c>',
                     '<f>A1&amp;"2"</f><v>0.30000000000000004</v>',
                     't="str"><f>A1&amp;"3"</f><v>a_x000D_\nb &lt;&amp;&gt;</v>',
                     't="b"><f>A1&amp;"4"</f><v>0</v>', 't="e"><f>A1&amp;"5"</f><v>#DIV/0!</v>',
                     't="str"><f>A1&amp;"6"</f><v>_x005F_x0041_</v>'):
        assert expected in sheet


def test_threads_of_one_process_stamp_the_same_files(tmp_path):
    """A Dask worker may run chunks on several threads: each has its stamper, and the files
    are those of one thread (the times of the build left out)."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    from cvp_xl.commands.batch import build_many

    spec = load_spec(SPECS[0])
    table = pd.DataFrame({"customer_id": [f"C-{k}" for k in range(8)],
                          "customer_name": [f"Customer {k}" for k in range(8)],
                          **{i.name: [i.low + (i.high - i.low) * k / 8 for k in range(8)]
                             for i in spec.inputs}})
    build_many(spec, table, tmp_path / "one")
    with ThreadPoolExecutor(2) as pool:
        report = build_many(spec, table, tmp_path / "two", executor=pool, chunk_size=2)
    assert len(report.written) == 8
    # the times of the build, and the digest of the record that holds them; the record
    # itself (the digests of the cells showing the time) is left out
    times = re.compile(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z?|[0-9a-f]{64}")
    record = f"<t>{digests.RECORD_VERSION}</t>".encode()
    for path in sorted((tmp_path / "one").glob("C-*.xlsx")):
        with zipfile.ZipFile(path) as a, zipfile.ZipFile(tmp_path / "two" / path.name) as b:
            assert a.namelist() == b.namelist()
            assert [n for n in a.namelist() if record not in a.read(n) and
                    times.sub(b"", a.read(n)) != times.sub(b"", b.read(n))] == []


def test_saving_creates_no_empty_cells_and_names_formulas_without_values(tmp_path):
    """Book.missing visits the cells a workbook holds: the saved file has the rows written
    (1 and 5 here), not an empty row for each row between them; a formula without its value
    is named in row order and nothing is written."""
    book = Book(Workbook())
    ws = book.wb.active
    book.input(ws["A1"], 2)
    book.formula(ws["C5"], "=A1*3", 6)
    book.save(tmp_path / "t.xlsx")
    with zipfile.ZipFile(tmp_path / "t.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert re.findall(r'<row r="(\d+)"', sheet) == ["1", "5"]
    assert sorted(ws._cells) == [(1, 1), (5, 3)]  # noqa: SLF001 - no cell was created
    ws["B9"], ws["A7"] = "=A1", "=C5"
    with pytest.raises(ValueError) as err:
        book.save(tmp_path / "u.xlsx")
    assert str(err.value) == "formula cells without a computed value: Sheet!A7, Sheet!B9"
    assert not (tmp_path / "u.xlsx").exists()
