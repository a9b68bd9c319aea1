"""The word-equation library workbook: common value elements as value word equations.

Built from ``workbooks/word-equations/library.yaml``.  Two sheets:

``Equations``
    One row per value element: the word equation as text; its unit, computed by
    ``CVP_WORDEQ_UNIT``; its result computed by ``CVP_WORDEQ`` and, side by side, by the native
    formula translated from that call (:func:`cvp_xl.hosts.native.to_native`, reading the
    equation and the names from this workbook); whether the two agree (within 1e-9
    relative); and the native formula as text, so a reader sees what the words became.
``Inputs``
    The example inputs, grouped by equation: name, unit, value, and where a real figure would
    come from.  Every figure is an example composed for the library, not a fact; a source
    that does not say so is refused.

Every equation must parse, and its unit must come out as money per period
(:func:`cvp_xl.wordeq.is_money_per_period`), or the build stops with the equation named.  The
file is written with openpyxl and recomputed by the formulas engine (``CVP_WORDEQ`` included)
with :func:`cvp_xl.recalc.recalc`, so it carries formulas and their values.  The native column
computes in any Excel and in LibreOffice; the ``CVP_*`` columns need the add-in.
"""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from .. import wordeq
from ..args import number
from ..errors import CvpError, CvpValueError
from ..hosts.native import to_native, workbook_cells
from ..recalc import recalc
from ..xlsx.cached import atomic_save_workbook
from ..xlsx.write import set_text, set_value
from . import load_yaml

__all__ = ["build", "build_example_workbooks", "load_spec", "LIBRARY", "EQUATIONS", "INPUTS",
           "COLUMNS"]

#: The library spec shipped with the repository.
LIBRARY = Path(__file__).resolve().parents[2] / "workbooks" / "word-equations" / "library.yaml"
EQUATIONS, INPUTS = "Equations", "Inputs"

#: The columns of the Equations sheet (header, width, wrapped).
COLUMNS = {
    "number": ("#", 5, False),
    "element": ("Value element", 20, True),
    "equation": ("Word equation", 70, True),
    "unit": ("Unit", 14, True),
    "cvp": ("CVP_WORDEQ", 15, False),
    "native": ("Native formula", 15, False),
    "agree": ("Agree", 8, False),
    "inputs": ("Inputs", 16, False),
    "formula": ("Native formula, as text", 48, True),
}
_INPUT_COLUMNS = (
    ("#", 5, False),
    ("Value element", 20, True),
    ("Quantity", 44, True),
    ("Unit", 14, False),
    ("Example value", 14, False),
    ("Source (an example, not a fact)", 80, True),
)
HEADER_ROW = 4  # on both sheets; data starts on the next row

HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
HEAD_FONT = Font(bold=True, color="FFFFFF")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(color="1F4E78")
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, color="595959")
BOLD = Font(bold=True)
MONEY = "#,##0.00"
TOP_WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
CENTER_TOP = Alignment(horizontal="center", vertical="top")
NUMBER_TOP = Alignment(horizontal="right", vertical="top", indent=1)
LINE_HEIGHT = 15  # points per line of 11-point text

ABOUT = ("Each row turns a difference in performance into money per period. Unit: "
         "CVP_WORDEQ_UNIT. CVP_WORDEQ computes the words with the cvp-xl add-in; the native "
         "formula, translated from the same call, computes in any Excel and in LibreOffice. "
         "Inputs are on the Inputs sheet.")


# -- spec --------------------------------------------------------------------------------------


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CvpValueError(f"{where}: {key}: expected text, got {value!r}")
    return " ".join(value.split())


def load_spec(spec=None) -> dict:
    """Read and check a library spec (a dict, or the path of a YAML file; default: LIBRARY).

    Returns
    -------
    dict
        ``title``, ``note`` and ``equations``: each with ``element``, ``equation`` (whitespace
        collapsed), ``inputs`` (``name``, ``unit``, ``value`` as float, ``source``), and the
        ``unit`` and ``value`` computed in Python.

    Raises
    ------
    CvpError
        Naming the file and the equation: a missing field, a value that is not a number, a
        source that does not say it is an example, an equation that does not parse or
        compute, a unit that is not money per period.
    """
    data, where = load_yaml(spec, LIBRARY)
    if not isinstance(data, dict) or not isinstance(data.get("equations"), list):
        raise CvpValueError(f"{where}: expected a mapping with a list of equations")
    out = {"title": _text(data, "title", where), "note": _text(data, "note", where),
           "equations": []}
    for k, entry in enumerate(data["equations"], start=1):
        at = f"{where}: equations[{k}]"
        if not isinstance(entry, dict):
            raise CvpValueError(f"{at}: expected element, equation and inputs")
        element = _text(entry, "element", at)
        at = f"{where}: {element}"
        inputs = entry.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise CvpValueError(f"{at}: inputs: expected a list of name, unit, value, source")
        items = []
        for j, item in enumerate(inputs, start=1):
            if not isinstance(item, dict):
                raise CvpValueError(f"{at}: inputs[{j}]: expected name, unit, value, source")
            source = _text(item, "source", f"{at}: inputs[{j}]")
            if not source.lower().startswith("example"):
                raise CvpValueError(f"{at}: inputs[{j}]: the source must say the figure is an "
                                    f"example (start with 'Example'), got {source!r}")
            try:
                value = number(item.get("value"), "value")
            except CvpError as exc:
                raise type(exc)(f"{at}: inputs[{j}]: {exc.message}") from None
            items.append({"name": _text(item, "name", f"{at}: inputs[{j}]"),
                          "unit": _text(item, "unit", f"{at}: inputs[{j}]"),
                          "value": value, "source": source})
        equation = _text(entry, "equation", at)
        names = [i["name"] for i in items]
        try:
            unit = wordeq.unit(equation, names, [i["unit"] for i in items])
            result = wordeq.evaluate(equation, names, [i["value"] for i in items])
        except CvpError as exc:
            raise type(exc)(f"{at}: {exc.message}") from None
        if not wordeq.is_money_per_period(unit):
            raise CvpValueError(f"{at}: the equation's unit is {unit}, not money per period")
        out["equations"].append({"element": element, "equation": equation, "inputs": items,
                                 "unit": unit, "value": result})
    if not out["equations"]:
        raise CvpValueError(f"{where}: equations: the list is empty")
    return out


# -- workbook ----------------------------------------------------------------------------------


def _lines(text: str, width: int) -> int:
    """Lines a wrapped text takes in a column ``width`` wide (a column's width counts '0'
    characters; about 1.2 characters of text fit in each, less at the end of a line)."""
    return max(1, math.ceil(len(text) / (1.2 * max(width - 2, 1))))


def _fit_row(ws, row: int, texts: list[tuple[str, int]]) -> None:
    lines = max(_lines(text, width) for text, width in texts)
    ws.row_dimensions[row].height = LINE_HEIGHT * lines + 3


def _sheet(ws, title: str, note: str, columns) -> None:
    """Title, a wrapped note across the columns, the header row, widths, panes, printing."""
    from openpyxl.utils import get_column_letter

    set_text(ws.cell(1, 1), title)
    ws.cell(1, 1).font = TITLE_FONT
    set_text(ws.cell(2, 1), note)
    ws.cell(2, 1).font = NOTE_FONT
    ws.cell(2, 1).alignment = TOP_WRAP
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    _fit_row(ws, 2, [(note, sum(width for _, width, _ in columns))])
    for j, (header, width, _) in enumerate(columns, start=1):
        cell = ws.cell(HEADER_ROW, j)
        set_text(cell, header)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[HEADER_ROW].height = 2 * LINE_HEIGHT + 3
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _value_format(unit: str, value: float) -> str:
    if unit.strip().startswith("%"):
        return "0.0%"
    return "#,##0" if float(value).is_integer() else "#,##0.00##"


def build(path, spec=None) -> Path:
    """Write the word-equation library workbook to ``path``, with formulas and values.

    Parameters
    ----------
    path : path-like
        Where to write the .xlsx (atomically).
    spec : dict or path-like, optional
        The library spec; default ``workbooks/word-equations/library.yaml``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl.utils import get_column_letter

    s = load_spec(spec)
    path = Path(path)
    wb = Workbook()
    eq_ws = wb.active
    eq_ws.title = EQUATIONS
    in_ws = wb.create_sheet(INPUTS)
    _sheet(eq_ws, s["title"], s["note"] + " " + ABOUT, list(COLUMNS.values()))
    _sheet(in_ws, "Inputs of the word equations (examples, not facts)", s["note"],
           _INPUT_COLUMNS)
    col = {key: get_column_letter(j) for j, key in enumerate(COLUMNS, start=1)}
    widths = {key: width for key, (_, width, _) in COLUMNS.items()}
    read = workbook_cells(wb, EQUATIONS)
    in_row = HEADER_ROW + 1
    for k, e in enumerate(s["equations"], start=1):
        r = HEADER_ROW + k
        first, last = in_row, in_row + len(e["inputs"]) - 1
        for i, item in enumerate(e["inputs"]):
            row = first + i
            set_value(in_ws.cell(row, 1), k)
            if i == 0:  # the element once, at the head of its group
                set_text(in_ws.cell(row, 2), e["element"])
                in_ws.cell(row, 2).font = BOLD
            set_text(in_ws.cell(row, 3), item["name"])
            set_text(in_ws.cell(row, 4), item["unit"])
            value = in_ws.cell(row, 5)
            set_value(value, item["value"])
            value.number_format = _value_format(item["unit"], item["value"])
            value.fill, value.font = INPUT_FILL, INPUT_FONT
            set_text(in_ws.cell(row, 6), item["source"])
            for j in range(1, 7):
                in_ws.cell(row, j).alignment = TOP_WRAP if _INPUT_COLUMNS[j - 1][2] else TOP
            in_ws.cell(row, 1).alignment = CENTER_TOP
            value.alignment = NUMBER_TOP
            _fit_row(in_ws, row, [(item["name"], _INPUT_COLUMNS[2][1]),
                                  (item["source"], _INPUT_COLUMNS[5][1]),
                                  (e["element"] if i == 0 else "", _INPUT_COLUMNS[1][1])])
        in_row = last + 2  # a blank row between equations

        names = f"{INPUTS}!$C${first}:$C${last}"
        units = f"{INPUTS}!$D${first}:$D${last}"
        values = f"{INPUTS}!$E${first}:$E${last}"
        set_value(eq_ws[f"{col['number']}{r}"], k)
        set_text(eq_ws[f"{col['element']}{r}"], e["element"])
        set_text(eq_ws[f"{col['equation']}{r}"], e["equation"])
        equation = f"{col['equation']}{r}"
        eq_ws[f"{col['unit']}{r}"] = f"=CVP_WORDEQ_UNIT({equation},{names},{units})"
        cvp = f"=CVP_WORDEQ({equation},{names},{values})"
        eq_ws[f"{col['cvp']}{r}"] = cvp
        native = to_native(cvp, cells=read)
        eq_ws[f"{col['native']}{r}"] = native
        c, n = f"{col['cvp']}{r}", f"{col['native']}{r}"
        eq_ws[f"{col['agree']}{r}"] = f'=IF(ABS({c}-{n})<=1E-9*MAX(1,ABS({n})),"yes","NO")'
        link = eq_ws[f"{col['inputs']}{r}"]
        set_text(link, f"rows {first} to {last}")
        link.hyperlink = f"#{INPUTS}!A{first}"
        link.font = Font(color="0563C1", underline="single")
        set_text(eq_ws[f"{col['formula']}{r}"], native)
        for key, (_, _, wrap) in COLUMNS.items():
            cell = eq_ws[f"{col[key]}{r}"]
            cell.alignment = TOP_WRAP if wrap else TOP
        for key in ("cvp", "native"):
            eq_ws[f"{col[key]}{r}"].number_format = MONEY
            eq_ws[f"{col[key]}{r}"].alignment = NUMBER_TOP
        eq_ws[f"{col['number']}{r}"].alignment = CENTER_TOP
        eq_ws[f"{col['agree']}{r}"].alignment = CENTER_TOP
        _fit_row(eq_ws, r, [(e["equation"], widths["equation"]),
                            (e["element"], widths["element"]),
                            (native, widths["formula"])])
    atomic_save_workbook(wb, path)
    recalc(path)
    return path


def build_example_workbooks(out_dir) -> list[Path]:
    """Build the library workbook from the shipped spec into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / "word-equations-library.xlsx")]
