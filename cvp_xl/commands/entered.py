"""What a person put in a calculator, read by name: values, notes, comments, sheets.

``cvp-xl upgrade``, ``cvp-xl batch`` (on a rerun) and ``cvp-xl collect`` read calculators
that customers and salespeople have had in their hands: saved by Excel or LibreOffice,
sheets renamed, rows inserted, notes typed beside the inputs.  Nothing here depends on a
cell's position:

- each sheet is recognised by what it holds (the Summary by its scenario line, the Inputs
  sheet by its header row, ...), whatever its name, and a sheet that is none of them is a
  sheet the person added;
- each input is found by its name in column A and each value by its column header
  (``Base``, ``Low``, ``High``, ``Source``), each price by the party's name;
- the spec the file was built from is read back from its About sheet and checked against
  the digest printed there.

:func:`person_cells` then tells the cells a person added (notes, comments, values typed over
formulas) from the template's, by comparing each sheet with the template built again from
that spec, row by row by the label in column A.

A file also carries custom document properties: the customer id it was built for, the batch
digest, and the values the customer table gave it (:func:`table_properties`), so that a
rerun can tell the customer's edits from the table's values.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as DefusedET

from cvp_xl.errors import ErrorValue, SpecError, WorkbookError
from cvp_xl.workbooks.calculator.builder import CARRIED_COLUMNS, CARRIED_SHEET
from cvp_xl.workbooks.calculator.spec import Spec, parse_spec
from cvp_xl.xlsx.safety import check_xlsx, load_checked
from cvp_xl.xlsx.tables import header_key

__all__ = ["Calculator", "Field", "InputEntry", "PriceEntry", "PersonCell", "read_calculator",
           "read_properties", "table_properties", "table_record", "person_cells", "same_value",
           "ID_PROPERTY", "DIGEST_PROPERTY", "TABLE_PROPERTY", "NOTES_TITLE", "NOTES_COLUMNS",
           "TITLES", "DIGEST_SHEET"]

#: The custom document properties a batch writes.
ID_PROPERTY, DIGEST_PROPERTY, TABLE_PROPERTY = "cvp-xl-customer-id", "cvp-xl-digest", "cvp-xl-table"
#: The hidden sheet where the builder records its template (never the person's).
DIGEST_SHEET = "Template digests"
#: Each part of a calculator, and the name the builder gives its sheet.
TITLES = {"summary": "Summary", "inputs": "Inputs", "value": "Value",
          "sensitivity": "Sensitivity", "about": "About", "carried": CARRIED_SHEET}
#: The block of the "Carried over" sheet that holds what could not be put back in place.
NOTES_TITLE = "Notes and cells that could not be put back in place"
NOTES_COLUMNS = ("Sheet", "Cell", "Next to", "Content")
SCENARIO_LABEL = "Scenario (Base, Low, High, Conservative)"
_CHUNK = 240  # characters per property: Excel keeps 255 characters of a text property
_SIGNATURES = {
    "about": lambda a, b: a == "About this calculator",
    "carried": lambda a, b: a.startswith("Inputs of an earlier version of this calculator"),
    "value": lambda a, b: a.startswith("Value by element"),
    "sensitivity": lambda a, b: a.startswith("Sensitivity of the total value per year"),
    "summary": lambda a, b: a == SCENARIO_LABEL,
    "inputs": lambda a, b: a == "Input" and b == "Unit",
}


def same_value(a, b) -> bool:
    """Whether two cell values are the same entry: numbers within 1e-12 relative (Excel and
    LibreOffice keep 15 to 17 significant digits), text ignoring surrounding spaces."""
    if _is_num(a) and _is_num(b):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    if a in (None, "") and b in (None, ""):
        return True
    return a == b


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# -- properties --------------------------------------------------------------------------------


def read_properties(path: str | os.PathLike) -> dict[str, str]:
    """The custom document properties of an .xlsx file (text values), without opening it.

    An unreadable file or a file without properties gives ``{}``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("docProps/custom.xml")
            if info.file_size > 1 << 20:
                return {}
            root = DefusedET.fromstring(archive.read(info))
    except (OSError, KeyError, zipfile.BadZipFile, DefusedET.ParseError, ValueError):
        return {}
    except Exception:  # noqa: BLE001 - defusedxml refuses entities: not our property part
        return {}
    out = {}
    for prop in root:
        name = prop.get("name")
        if name and len(prop):
            out[name] = prop[0].text or ""
    return out


def table_properties(record: dict) -> dict[str, str]:
    """Custom properties that hold what the customer table gave a file (name, inputs).

    The record is JSON cut into pieces of at most 240 characters (``cvp-xl-table-1``, ...);
    ``cvp-xl-table`` holds the number of pieces and a digest of the whole, so a piece lost
    or cut short is noticed.
    """
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    chunks = [text[k:k + _CHUNK] for k in range(0, len(text), _CHUNK)] or [""]
    out = {TABLE_PROPERTY: f"{len(chunks)} {hashlib.sha256(text.encode()).hexdigest()[:16]}"}
    out.update({f"{TABLE_PROPERTY}-{n}": c for n, c in enumerate(chunks, start=1)})
    return out


def table_record(properties: dict[str, str]) -> dict | None:
    """The record :func:`table_properties` wrote, or None (absent, incomplete or altered)."""
    head = properties.get(TABLE_PROPERTY, "").split()
    if len(head) != 2 or not head[0].isdigit():
        return None
    text = "".join(properties.get(f"{TABLE_PROPERTY}-{n}", "") for n in range(1, int(head[0]) + 1))
    if hashlib.sha256(text.encode()).hexdigest()[:16] != head[1]:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("inputs"), dict):
        return None
    return record


# -- the calculator's parts ----------------------------------------------------------------------


@dataclass
class Field:
    """One value a person may have entered: the cell's value (a formula's cached value),
    where it is (``Inputs!D7``), and the formula when the cell holds one."""

    value: object
    cell: str
    formula: str | None = None


@dataclass
class InputEntry:
    name: str
    row: int
    unit: object
    base: Field
    low: Field
    high: Field
    source: Field


@dataclass
class PriceEntry:
    name: str
    row: int
    one_time: Field
    recurring: Field
    value_per_year: Field | None  # None for the offering and the reference (not an input)


@dataclass
class Calculator:
    """A calculator as a person left it (see the module's description)."""

    path: Path
    titles: dict[str, str]                      # part -> sheet name in this file
    added: list[str]                            # sheets a person added
    customer: Field
    scenario: Field
    inputs: dict[str, InputEntry]
    prices: dict[str, PriceEntry]
    carried: list[dict]                         # rows of "Carried over"
    notes: list[dict]                           # its block of notes not put back in place
    spec: Spec | None
    spec_problem: str | None
    spec_digest: str | None
    template_version: str | None
    name: str | None                            # the calculator's name (About)
    properties: dict[str, str] = field(default_factory=dict)
    wb: object = field(default=None, repr=False)       # openpyxl, formulas
    values: object = field(default=None, repr=False)   # cached values, by sheet

    @property
    def offering(self) -> str | None:
        """The offering's name: the first row of the price block."""
        return next(iter(self.prices), None)

    @property
    def customer_id(self) -> str | None:
        return self.properties.get(ID_PROPERTY)

    @property
    def table(self) -> dict | None:
        return table_record(self.properties)

    def renamed(self) -> dict[str, str]:
        """Parts whose sheet a person renamed: ``{part: name in this file}``."""
        return {part: title for part, title in self.titles.items()
                if part in TITLES and title != TITLES[part]}


def _text(v) -> str:
    return v.strip() if isinstance(v, str) else ""


def _roles(wb) -> tuple[dict[str, str], list[str]]:
    titles, added = {}, []
    for ws in wb.worksheets:
        if ws.title == DIGEST_SHEET or ws.sheet_state == "veryHidden":
            titles.setdefault("digests", ws.title)
            continue
        role = None
        for r in range(1, min(ws.max_row, 80) + 1):
            a, b = _text(ws.cell(r, 1).value), _text(ws.cell(r, 2).value)
            if not a:
                continue
            role = next((k for k, sig in _SIGNATURES.items() if sig(a, b)), None)
            if role:
                break
        if role and role not in titles:
            titles[role] = ws.title
        else:
            added.append(ws.title)
    return titles, added


def _field(wb, values, sheet: str, row: int, col: int) -> Field:
    from openpyxl.utils import get_column_letter

    cell = wb[sheet].cell(row, col)
    ref = f"{sheet}!{get_column_letter(col)}{row}"
    if cell.data_type == "f":
        cached = values[sheet].cell(row, col)
        value = cached.value
        if cached.data_type == "e" and value is not None:
            value = ErrorValue(str(value))
        return Field(value, ref, str(cell.value))
    return Field(cell.value, ref)


def _label_rows(ws, last: int | None = None) -> dict[str, int]:
    """The first row of each label in column A (labels compared as :func:`header_key`)."""
    out = {}
    for r in range(1, (last or ws.max_row) + 1):
        key = header_key(ws.cell(r, 1).value) if isinstance(ws.cell(r, 1).value, str) else ""
        if key:
            out.setdefault(key, r)
    return out


def _header_columns(ws, row: int) -> dict[str, int]:
    return {header_key(c.value): c.column for c in ws[row] if isinstance(c.value, str)}


def _about(ws, path: Path):
    """The spec (or why not), its digest and the template version from the About sheet."""
    rows = _label_rows(ws, min(ws.max_row, 40))

    def value(label):
        r = rows.get(header_key(label))
        v = ws.cell(r, 2).value if r else None
        return v.strip() if isinstance(v, str) else None

    digest, version, name = value("Spec digest (sha256, first 16)"), value("Template version"), \
        value("Calculator")
    start = rows.get(header_key("The spec this calculator was built from"))
    if start is None or digest is None:
        return None, "the About sheet does not hold the spec it was built from", digest, \
            version, name
    lines = ["" if ws.cell(r, 1).value is None else str(ws.cell(r, 1).value)
             for r in range(start + 1, ws.max_row + 1)]
    for cut in range(len(lines), max(len(lines) - 20, 0) - 1, -1):  # notes typed below it
        text = "\n".join(lines[:cut])
        for candidate in (text + "\n", text):
            if hashlib.sha256(candidate.encode("utf-8")).hexdigest()[:16] == digest:
                try:
                    spec_name = value("Spec") or "spec"
                    return parse_spec(candidate, f"{path.name}: About ({spec_name})"), None, \
                        digest, version, name
                except SpecError as exc:
                    return None, f"the spec on the About sheet cannot be read: {exc}", digest, \
                        version, name
    return None, "the spec on the About sheet does not match its digest", digest, version, name


class _Values:
    """The file's cached values, loaded only when a cell a person fills holds a formula."""

    def __init__(self, path: Path):
        self.path, self.wb = path, None

    def __getitem__(self, sheet: str):
        from openpyxl import load_workbook

        if self.wb is None:
            self.wb = load_workbook(self.path, data_only=True)
        return self.wb[sheet]


def _open(path: Path):
    return load_checked(path), _Values(path)


class _CachedCell:
    __slots__ = ("value", "data_type")

    def __init__(self, value):
        if isinstance(value, ErrorValue):  # as openpyxl holds an error: its code, type "e"
            self.value, self.data_type = value.code, "e"
        else:
            self.value, self.data_type = value, "n"


class _CachedSheet:
    def __init__(self, values: dict):
        self.values = values

    def cell(self, row: int, column: int) -> _CachedCell:
        return _CachedCell(self.values.get((row, column)))


class _CachedValues:
    """The cached values of a file's formula cells, as :func:`read_contents` read them."""

    def __init__(self, by_sheet: dict[str, dict]):
        self.by_sheet = by_sheet

    def __getitem__(self, sheet: str) -> _CachedSheet:
        return _CachedSheet(self.by_sheet.get(sheet, {}))


def _sheet_states(path: Path) -> dict[str, str]:
    """``{sheet name: state}`` of the sheets the workbook part lists (after check_xlsx)."""
    with zipfile.ZipFile(path) as archive:
        member = next((n for n in archive.namelist() if n.lower() == "xl/workbook.xml"), None)
        root = DefusedET.fromstring(archive.read(member)) if member else None
    states = {"hidden", "veryHidden"}  # any other is read as visible, as the engine reads it
    return {el.get("name"): el.get("state") if el.get("state") in states else "visible"
            for el in (root.iter() if root is not None else ())
            if el.tag.rsplit("}", 1)[-1] == "sheet" and el.get("name")}


def _open_cells(path: Path, checked: bool = False):
    """The workbook's cells in an openpyxl workbook, read by :func:`read_contents`: values,
    formulas (``=`` and their text, an array formula as openpyxl holds it) and sheet states;
    no styles, comments, merged cells or validations.  A number is a number whatever its
    number format (openpyxl reads a date-formatted one as a date).  ``checked``: the caller
    has passed the file through :func:`check_xlsx` already."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.utils.cell import coordinate_to_tuple
    from openpyxl.worksheet.formula import ArrayFormula

    from cvp_xl.xlsx.contents import read_contents

    if not checked:
        check_xlsx(path)
    contents = read_contents(path)
    try:
        states = _sheet_states(path)
    except (OSError, KeyError, zipfile.BadZipFile, DefusedET.ParseError, ValueError) as exc:
        raise WorkbookError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    wb = Workbook()
    wb.remove(wb.active)
    cached: dict[str, dict] = {}
    for sheet in contents.sheets:
        try:
            ws = wb.create_sheet(sheet.name)
            ws.sheet_state = states.get(sheet.name, "visible")
        except ValueError as exc:  # a name or a state openpyxl refuses
            raise WorkbookError(f"{path}: cannot be read (sheet {sheet.name!r}: {exc})") \
                from None
        values = cached[sheet.name] = {}
        for ref, c in sheet.cells.items():
            row, col = coordinate_to_tuple(ref)
            cell = Cell(ws, row=row, column=col)
            if c.formula is not None:
                text = "=" + c.formula
                cell._value = ArrayFormula(c.array, text) if c.kind == "array" else text
                cell.data_type = "f"
                values[(row, col)] = c.value
            elif isinstance(c.value, ErrorValue):
                cell._value, cell.data_type = c.value.code, "e"
            else:
                cell._value = c.value
                cell.data_type = ("s" if isinstance(c.value, str) else
                                  "b" if isinstance(c.value, bool) else "n")
            ws._cells[(row, col)] = cell  # noqa: SLF001 - as openpyxl's reader fills it
    return wb, _CachedValues(cached)


def read_calculator(path: str | os.PathLike, *, cells_only: bool = False,
                    checked: bool = False) -> Calculator:
    """Read what a calculator holds, by name (see the module's description).

    Parameters
    ----------
    path : str or os.PathLike
        The calculator.
    cells_only : bool
        Read its cells with the streaming reader (:func:`cvp_xl.xlsx.contents.read_contents`)
        instead of loading the workbook with openpyxl, in less than half the time (what
        :mod:`cvp_xl.commands.by_model` reads).  ``wb`` then holds each cell's value or
        formula, and each sheet's state, and nothing else: no styles (every number format
        General, every cell locked), comments, merged cells or validations, so
        :func:`person_cells` needs the full load; a number is a number whatever its number
        format; ``properties`` are read as text (:func:`read_properties`).
    checked : bool
        With ``cells_only``: the caller has just passed the file through
        :func:`~cvp_xl.xlsx.safety.check_xlsx` before anything read it, so it is not checked
        a second time (:func:`cvp_xl.commands.by_model.calculator_values`).  Without
        ``cells_only`` the file is always checked (openpyxl reads more of it).

    Raises
    ------
    cvp_xl.errors.WorkbookError
        The file is refused (:func:`~cvp_xl.xlsx.safety.check_xlsx`), cannot be read, or is
        not a cvp-xl calculator (no sheet with the Inputs header, or no Summary).
    """
    path = Path(path)
    wb, values = _open_cells(path, checked) if cells_only else _open(path)
    titles, added = _roles(wb)
    if "inputs" not in titles or "summary" not in titles:
        raise WorkbookError(f"{path}: not a cvp-xl calculator (no sheet with an 'Input' and "
                            f"'Unit' header, or no sheet with the scenario line)")
    spec = problem = digest = version = name = None
    if "about" in titles:
        spec, problem, digest, version, name = _about(wb[titles["about"]], path)
    else:
        problem = "it has no About sheet"
    summary = wb[titles["summary"]]
    srows = _label_rows(summary, min(summary.max_row, 60))
    s_title = titles["summary"]
    customer = _field(wb, values, s_title, srows.get("customer", 2), 2)
    scenario = _field(wb, values, s_title, srows.get(header_key(SCENARIO_LABEL), 4), 2)
    inputs, prices = _inputs(wb, values, titles["inputs"], spec)
    carried, notes = _carried(wb[titles["carried"]]) if "carried" in titles else ([], [])
    props = read_properties(path) if cells_only else {
        p.name: str(p.value) for p in wb.custom_doc_props.props if p.value is not None}
    return Calculator(path, titles, added, customer, scenario, inputs, prices, carried, notes,
                      spec, problem, digest, version, name, props, wb, values)


def _inputs(wb, values, title: str, spec: Spec | None):
    ws = wb[title]
    header = price_header = None
    for r in range(1, ws.max_row + 1):
        a, b = _text(ws.cell(r, 1).value), _text(ws.cell(r, 2).value)
        if header is None and a == "Input" and b == "Unit":
            header = r
        elif header is not None and a == "Offering or alternative":
            price_header = r
            break
    # columns by their header (a column inserted moves nothing); the builder's where a
    # header cell was typed over
    cols = {"unit": 2, "base": 4, "low": 5, "high": 6, "source": 9, **_header_columns(ws, header)}
    known = {header_key(n) for n in spec.input_names} if spec else None
    inputs = {}
    for r in range(header + 1, (price_header or ws.max_row + 1)):
        name = _text(ws.cell(r, 1).value)
        if not name or name.startswith("Prices (") or header_key(name) in {
                header_key(i) for i in inputs}:
            continue
        if known is not None and header_key(name) not in known:
            continue
        if known is None and all(ws.cell(r, cols[k]).value is None
                                 for k in ("base", "low", "high")):
            continue
        f = functools.partial(_field, wb, values, title, r)
        inputs[name] = InputEntry(name, r, ws.cell(r, cols["unit"]).value, f(cols["base"]),
                                  f(cols["low"]), f(cols["high"]), f(cols["source"]))
    prices = {}
    if price_header is not None:
        pcols = {"one-time": 4, "recurring per year": 5, "value per year vs reference": 6,
                 **_header_columns(ws, price_header)}
        r = price_header + 1
        while _text(ws.cell(r, 1).value):
            name = _text(ws.cell(r, 1).value)
            f = functools.partial(_field, wb, values, title, r)
            # the offering and the reference have a plain 0 there, not an input
            vpy = f(pcols["value per year vs reference"]) if len(prices) >= 2 else None
            prices.setdefault(name, PriceEntry(name, r, f(pcols["one-time"]),
                                               f(pcols["recurring per year"]), vpy))
            r += 1
    return inputs, prices


def _carried(ws) -> tuple[list[dict], list[dict]]:
    carried, notes = [], []
    r = 4
    while _text(ws.cell(r, 1).value):
        carried.append({k.lower(): ws.cell(r, c).value for c, k in enumerate(CARRIED_COLUMNS, 1)})
        r += 1
    for r2 in range(r, ws.max_row + 1):
        if _text(ws.cell(r2, 1).value) == NOTES_TITLE:
            r3 = r2 + 2
            while any(ws.cell(r3, c).value not in (None, "") for c in range(1, 5)):
                notes.append({k.lower(): ws.cell(r3, c).value
                              for c, k in enumerate(NOTES_COLUMNS, 1)})
                r3 += 1
            break
    return carried, notes


# -- what a person added -------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonCell:
    """A cell a person filled (or commented) in a part of the calculator.

    ``label`` and ``occurrence`` anchor it to its row by the row's label in column A (the
    label's n-th row); a cell in a row without a template label has ``label`` None and is
    anchored by its coordinates.  ``kind`` is ``"note"`` (a value or formula in a cell the
    template leaves empty), ``"comment"`` or ``"over formula"`` (a value typed over a formula
    of the template: it cannot be carried, the new file computes that cell).
    """

    part: str
    sheet: str
    row: int
    column: int
    label: str | None
    occurrence: int
    kind: str
    value: object
    author: str | None = None

    @property
    def ref(self) -> str:
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(self.column)}{self.row}"


@dataclass
class _Template:
    """One sheet of the template: rows by label, and what each row holds."""

    by_label: dict[tuple[str, int], int]
    labels: dict[int, tuple[str, int]]
    cells: dict[int, dict[int, bool]]   # row -> {column: is a formula}


def label_index(ws) -> tuple[dict[tuple[str, int], int], dict[int, tuple[str, int]]]:
    """``{(label, n): row}`` and ``{row: (label, n)}`` for the text labels in column A."""
    counts: Counter = Counter()
    by_label, labels = {}, {}
    for (cell,) in ws.iter_rows(min_col=1, max_col=1):
        if isinstance(cell.value, str) and cell.value.strip():
            counts[cell.value] += 1
            key = (cell.value, counts[cell.value])
            by_label[key] = cell.row
            labels[cell.row] = key
    return by_label, labels


def _template_sheet(ws) -> _Template:
    by_label, labels = label_index(ws)
    cells: dict[int, dict[int, bool]] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and c.value != "":
                cells.setdefault(c.row, {})[c.column] = c.data_type == "f"
    return _Template(by_label, labels, cells)


@functools.lru_cache(maxsize=8)
def _template(spec_text: str) -> dict[str, _Template]:
    """The template of a spec, sheet by sheet (built once per spec and process)."""
    from openpyxl import load_workbook

    from cvp_xl.workbooks.calculator.builder import build

    spec = parse_spec(spec_text, "spec.yaml")
    with tempfile.TemporaryDirectory(prefix="cvp_xl_template_") as tmp:
        target = Path(tmp) / "template.xlsx"
        build(spec, target, customer="Customer")
        wb = load_workbook(target)
    return {part: _template_sheet(wb[title]) for part, title in TITLES.items()
            if title in wb.sheetnames}


def person_cells(calc: Calculator) -> list[PersonCell]:
    """Every note, comment and value typed over a formula in the parts of the calculator.

    Rows are matched with the template's by their label in column A (so a row inserted in
    the Inputs sheet moves nothing); the input cells themselves (base, low, high, source,
    prices, customer, scenario) are read by :func:`read_calculator`, not here.

    Raises
    ------
    ValueError
        The spec the file was built from is unknown (``calc.spec`` is None).
    """
    if calc.spec is None:
        raise ValueError(calc.spec_problem or "the spec is unknown")
    template = _template(calc.spec.text)
    out: list[PersonCell] = []
    for part, title in calc.titles.items():
        if part in ("digests",):
            continue
        ws = calc.wb[title]
        if part == "carried":
            out += _carried_person_cells(ws)
            continue
        ref = template.get(part)
        if ref is None:
            continue
        _, labels = label_index(ws)
        for row in ws.iter_rows():
            for c in row:
                comment = c.comment
                filled = c.value is not None and c.value != ""
                if not filled and comment is None:
                    continue
                label, n = labels.get(c.row, (None, 0))
                if label is not None and (label, n) in ref.by_label:
                    template_row = ref.cells.get(ref.by_label[(label, n)], {})
                elif label is None and c.row not in ref.labels:
                    template_row = ref.cells.get(c.row, {})
                else:
                    label, template_row = None, None  # a row the template does not have
                    n = 0
                if comment is not None:
                    out.append(PersonCell(part, title, c.row, c.column, label, n, "comment",
                                          comment.text, comment.author))
                if not filled:
                    continue
                if template_row is not None and c.column in template_row:
                    if template_row[c.column] and c.data_type != "f":
                        out.append(PersonCell(part, title, c.row, c.column, label, n,
                                              "over formula", c.value))
                    continue
                out.append(PersonCell(part, title, c.row, c.column, label, n, "note",
                                      c.value))
    return out


def _carried_person_cells(ws) -> list[PersonCell]:
    """On "Carried over": what is neither its table of inputs nor its block of notes."""
    builder_rows = {1, 2, 3}
    r = 4
    while _text(ws.cell(r, 1).value):
        builder_rows.add(r)
        r += 1
    for r2 in range(r, ws.max_row + 1):
        if _text(ws.cell(r2, 1).value) == NOTES_TITLE:
            builder_rows.update({r2, r2 + 1})
            r3 = r2 + 2
            while any(ws.cell(r3, c).value not in (None, "") for c in range(1, 5)):
                builder_rows.add(r3)
                r3 += 1
            break
    out = []
    for row in ws.iter_rows():
        for c in row:
            if c.comment is not None:
                out.append(PersonCell("carried", ws.title, c.row, c.column, None, 0, "comment",
                                      c.comment.text, c.comment.author))
            if c.value not in (None, "") and (c.row not in builder_rows or c.column > 6):
                out.append(PersonCell("carried", ws.title, c.row, c.column, None, 0, "note",
                                      c.value))
    return out
