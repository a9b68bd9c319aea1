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
(:func:`cvp_xl.wordeq.is_money_per_period`), or the build stops with the equation named.
Python computes the value of every formula cell (the registry's ``CVP_WORDEQ`` and
``CVP_WORDEQ_UNIT`` for their columns, :func:`cvp_xl.wordeq.evaluate` for the native one) and
the file is saved once, with formulas and values, by :class:`~cvp_xl.workbooks.book.Book`; the
formulas engine and LibreOffice only check those values (the tests).  The native column
computes in any Excel and in LibreOffice; the ``CVP_*`` columns need the add-in.  Inputs are
styled and unlocked; both sheets are protected without a password.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from cvp_xl import wordeq
from cvp_xl.args import number
from cvp_xl.errors import CvpError, CvpValueError
from cvp_xl.hosts.native import to_native, workbook_cells
from cvp_xl.registry import get
from cvp_xl.workbooks import example, load_yaml, style
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.style import (
    BOLD,
    LINK_FONT,
    MONEY_CENTS,
    PERCENT,
    TITLE_FONT,
    header,
    label,
    protect,
)
from cvp_xl.xlsx.write import set_value

__all__ = ["build", "build_example_workbooks", "load_spec", "LIBRARY", "EQUATIONS", "INPUTS",
           "COLUMNS"]

#: The library spec shipped with the repository.
LIBRARY = example("word-equations", "library.yaml")
EQUATIONS, INPUTS = "Equations", "Inputs"

#: The columns of the Equations sheet (header, width, wrapped).
COLUMNS = {
    "number": ("#", 5, False),
    "element": ("Value element", 18, True),
    "equation": ("Word equation", 56, True),
    "unit": ("Unit", 12, True),
    "cvp": ("CVP_WORDEQ", 14, False),
    "native": ("Native formula", 14, False),
    "agree": ("Agree", 7, False),
    "inputs": ("Inputs", 13, False),
    "formula": ("Native formula, as text", 40, True),
}
_INPUT_COLUMNS = (
    ("#", 5, False),
    ("Value element", 20, True),
    ("Quantity", 40, True),
    ("Unit", 14, False),
    ("Example value", 14, False),
    ("Source (an example, not a fact)", 70, True),
)
HEADER_ROW = 4  # on both sheets; data starts on the next row
#: How close CVP_WORDEQ and the native formula must be for the Agree column to say "yes".
AGREE_TOLERANCE = 1e-9

TOP_WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
CENTER_TOP = Alignment(horizontal="center", vertical="top")
NUMBER_TOP = Alignment(horizontal="right", vertical="top", indent=1)
LINE_HEIGHT = style.LINE_HEIGHT  # points per line of 11-point text

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


# -- workbook ---------------------------------------------------------------------------------


def _sheet(ws, title: str, note: str, columns) -> None:
    """Title, a wrapped note across the columns, the header row, widths, panes."""
    label(ws.cell(1, 1), title, TITLE_FONT)
    style.note(ws, "A2", note, get_column_letter(len(columns)))
    header(ws, HEADER_ROW, 1, [title for title, _, _ in columns])
    for j, (_, width, _) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)


def _value_format(unit: str, value: float) -> str:
    if unit.strip().startswith("%"):
        return PERCENT
    return "#,##0" if float(value).is_integer() else "#,##0.00##"


def _inputs(book: Book, ws, k: int, e: dict, first: int) -> None:
    """The inputs of equation ``k`` on the Inputs sheet, from row ``first``."""
    for i, item in enumerate(e["inputs"]):
        row = first + i
        set_value(ws.cell(row, 1), k)
        if i == 0:  # the element once, at the head of its group
            label(ws.cell(row, 2), e["element"], BOLD)
        label(ws.cell(row, 3), item["name"])
        label(ws.cell(row, 4), item["unit"])
        value = ws.cell(row, 5)
        book.input(value, item["value"], _value_format(item["unit"], item["value"]))
        label(ws.cell(row, 6), item["source"])
        for j in range(1, 7):
            ws.cell(row, j).alignment = TOP_WRAP if _INPUT_COLUMNS[j - 1][2] else TOP
        ws.cell(row, 1).alignment = CENTER_TOP
        value.alignment = NUMBER_TOP


def _results(e: dict) -> dict:
    """What the Equations row's formula cells show, computed in Python: the unit and the
    result by the registry's functions (as the add-in computes them), the native formula's
    result by :func:`cvp_xl.wordeq.evaluate`, and the Agree cell's verdict."""
    names = [[i["name"]] for i in e["inputs"]]
    unit = get("CVP_WORDEQ_UNIT").func(e["equation"], names, [[i["unit"]] for i in e["inputs"]])
    cvp = get("CVP_WORDEQ").func(e["equation"], names, [[i["value"]] for i in e["inputs"]])
    native = wordeq.evaluate(e["equation"], [i["name"] for i in e["inputs"]],
                             [i["value"] for i in e["inputs"]])
    agree = abs(cvp - native) <= AGREE_TOLERANCE * max(1.0, abs(native))
    return {"unit": unit, "cvp": cvp, "native": native, "agree": "yes" if agree else "NO"}


def _equation(book: Book, ws, k: int, e: dict, first: int, read) -> None:
    """Row ``k`` of the Equations sheet, over the inputs at rows ``first`` on of Inputs."""
    col = {key: get_column_letter(j) for j, key in enumerate(COLUMNS, start=1)}
    r = HEADER_ROW + k
    at = {key: ws[f"{col[key]}{r}"] for key in COLUMNS}
    last = first + len(e["inputs"]) - 1
    names, units, values = (f"{INPUTS}!${c}${first}:${c}${last}" for c in "CDE")
    value = _results(e)
    set_value(at["number"], k)
    label(at["element"], e["element"])
    label(at["equation"], e["equation"])
    equation = at["equation"].coordinate
    book.formula(at["unit"], f"=CVP_WORDEQ_UNIT({equation},{names},{units})", value["unit"])
    cvp = f"=CVP_WORDEQ({equation},{names},{values})"
    book.formula(at["cvp"], cvp, value["cvp"], MONEY_CENTS)
    native = to_native(cvp, cells=read)
    book.formula(at["native"], native, value["native"], MONEY_CENTS)
    c, n = at["cvp"].coordinate, at["native"].coordinate
    book.formula(at["agree"], f'=IF(ABS({c}-{n})<=1E-9*MAX(1,ABS({n})),"yes","NO")',
                 value["agree"])
    label(at["inputs"], f"rows {first} to {last}", LINK_FONT)
    at["inputs"].hyperlink = f"#{INPUTS}!A{first}"
    label(at["formula"], native)
    for key, (_, _, wrap) in COLUMNS.items():
        at[key].alignment = TOP_WRAP if wrap else TOP
    at["cvp"].alignment = at["native"].alignment = NUMBER_TOP
    at["number"].alignment = at["agree"].alignment = CENTER_TOP


def build(path, spec=None) -> Path:
    """Write the word-equation library workbook to ``path``, with formulas and their values.

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
    s = load_spec(spec)
    book = Book()
    eq_ws = book.wb.active
    eq_ws.title = EQUATIONS
    in_ws = book.wb.create_sheet(INPUTS)
    _sheet(eq_ws, s["title"], s["note"] + " " + ABOUT, list(COLUMNS.values()))
    _sheet(in_ws, "Inputs of the word equations (examples, not facts)", s["note"],
           _INPUT_COLUMNS)
    read = workbook_cells(book.wb, EQUATIONS)
    first = HEADER_ROW + 1
    for k, e in enumerate(s["equations"], start=1):
        _inputs(book, in_ws, k, e, first)
        _equation(book, eq_ws, k, e, first, read)
        first += len(e["inputs"]) + 1  # a blank row between equations
    for ws in book.wb.worksheets:  # landscape, one page wide, the header on every page
        protect(ws)
        style.print_setup(ws, "landscape", title_rows=f"{HEADER_ROW}:{HEADER_ROW}",
                          values=book.values)
    return book.save(path)


def build_example_workbooks(out_dir) -> list[Path]:
    """Build the library workbook from the shipped spec into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / "word-equations-library.xlsx")]
