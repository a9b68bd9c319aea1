"""The positioning workbook: value-element ledger, the three propositions, the value map.

Three sheets, built from a spec (``workbooks/positioning/*.yaml``):

``Ledger``
    One row per value element: category, tangibility, the supplier's and the customer's view
    (ours minus the next best alternative's, in money, positive = better for the customer), the
    source of the customer's figure, and the point type computed by native IF formulas (the
    translation of ``CVP_POINT_TYPE``) against the parity tolerance.
``Propositions``
    The three kinds of value proposition side by side (DOMAIN.md §2), each built from the
    ledger, with its pitfall flagged where it applies:

    - *all benefits*: every element the supplier sees as at least on par; flagged *benefit
      assertion* where it is a point of parity or the customer sees no advantage;
    - *favorable points of difference*: every element the supplier sees as better; flagged
      *value presumption* where the customer does not value the difference;
    - *resonating focus*: the n favorable points of difference (both views agree) of greatest
      value to the customer, as ``CVP_RESONATING_FOCUS`` ranks them (ties: first listed);
      flagged where the customer's figure has no source (it needs customer value research).
``Value map``
    Gale's customer value map: attribute weights and scores per offering, relative quality
    (translation of ``CVP_VALUE_MAP``) and relative price (``CVP_RELATIVE_PRICE``) against the
    reference offering, the gap to the fair-value line (``CVP_FAIR_VALUE_GAP``), and a scatter
    chart with the fair-value line.

Each sheet prints one page wide on A4 or Letter: the ledger landscape with its header on every
page; the propositions landscape, their workings (the one-row-per-element table below them) left
out of the print area; the value map portrait on one page, its chart below its tables.

Share-safe formulas only (IF, AND, OR, ABS, SIGN, CHOOSE, SUM, SUMPRODUCT, COUNTIF, INDEX,
MATCH, IFERROR, MIN, MAX); no ``CVP_*`` call.  Every formula is written with the value Python
computed for it (the domain functions of :mod:`cvp_xl.domain.pricing`, plain Python for the
counts, ranks and picks of the workings) and the file is saved once by
:class:`~cvp_xl.workbooks.book.Book`; the formulas engine and LibreOffice only check those
values.  Inputs are styled and unlocked; every sheet is protected without a password.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from cvp_xl.domain import positioning
from cvp_xl.errors import CvpError, CvpValueError
from cvp_xl.workbooks import example
from cvp_xl.workbooks.book import Book, native
from cvp_xl.workbooks.spec_fields import field as _get
from cvp_xl.workbooks.spec_fields import list_field as _list
from cvp_xl.workbooks.spec_fields import number_field as _num
from cvp_xl.workbooks.spec_fields import read_mapping as _read
from cvp_xl.workbooks.spec_fields import text_field as _text
from cvp_xl.workbooks.style import (
    BOLD,
    NOTE_FONT,
    TITLE_FONT,
    WRAP,
    excel_axes,
    header,
    label,
    note,
    print_setup,
    protect,
    validation,
)

__all__ = ["build", "build_example_workbooks", "load_spec", "EXAMPLES", "CATEGORIES",
           "TANGIBILITY", "NO_SOURCE", "NOT_ENOUGH"]

EXAMPLES = example("positioning")
CATEGORIES = ("technical", "economic", "service", "social")
TANGIBILITY = ("tangible", "intangible")

PARITY_FLAG = "Benefit assertion: a point of parity"
NO_ADVANTAGE_FLAG = "Benefit assertion: the customer sees no advantage"
PRESUMPTION_FLAG = "Value presumption: the customer does not value this difference"
NO_SOURCE = "Needs customer value research: the customer's figure has no source"
INDENTED = Alignment(wrap_text=True, vertical="top", indent=1)
CENTERED = Alignment(horizontal="center", vertical="top")
NOT_ENOUGH = "(fewer favorable points of difference than asked)"
LEDGER_FIRST = 8  # first element row on the Ledger sheet


def load_spec(spec=None) -> dict:
    """Read and check a positioning spec (a dict or a YAML path; default: the example)."""
    data, where = _read(spec, EXAMPLES / "process-pump.yaml")
    out = {
        "title": _text(data, "title", where, "Positioning"),
        "currency": _text(data, "currency", where, ""),
        "unit": _text(data, "unit", where, ""),
        "tolerance": _num(data, "tolerance", where),
        "focus_count": _num(data, "focus_count", where, 2),
    }
    if out["tolerance"] < 0:
        raise CvpValueError(f"{where}: tolerance: expected 0 or more, got {out['tolerance']:g}")
    n = out["focus_count"]
    if n < 1 or n != int(n):
        raise CvpValueError(f"{where}: focus_count: expected a whole number of 1 or more, "
                            f"got {n:g}")
    elements = _list(data, "elements", where)
    if not elements:
        raise CvpValueError(f"{where}: elements: expected at least one value element")
    out["elements"] = []
    for i, e in enumerate(elements, start=1):
        ewhere = f"{where}: elements[{i}]"
        if not isinstance(e, dict):
            raise CvpValueError(f"{ewhere}: expected name, category, tangibility, views, source")
        item = {
            "name": _text(e, "name", ewhere),
            "category": _text(e, "category", ewhere).strip().lower(),
            "tangibility": _text(e, "tangibility", ewhere).strip().lower(),
            "supplier_view": _num(e, "supplier_view", ewhere),
            "customer_view": _num(e, "customer_view", ewhere),
            "source": _text(e, "source", ewhere, ""),
        }
        for key, allowed in (("category", CATEGORIES), ("tangibility", TANGIBILITY)):
            if item[key] not in allowed:
                raise CvpValueError(f"{ewhere}: {key}: expected one of {', '.join(allowed)}, "
                                    f"got {item[key]!r}")
        out["elements"].append(item)
    out["value_map"] = _value_map(_get(data, "value_map", where), f"{where}: value_map")
    return out


def _value_map(data, where: str) -> dict:
    if not isinstance(data, dict):
        raise CvpValueError(f"{where}: expected reference, attributes and offerings")
    attributes = []
    for i, a in enumerate(_list(data, "attributes", where), start=1):
        awhere = f"{where}: attributes[{i}]"
        if not isinstance(a, dict):
            raise CvpValueError(f"{awhere}: expected name and weight")
        attributes.append({"name": _text(a, "name", awhere), "weight": _num(a, "weight", awhere)})
    offerings = []
    for i, o in enumerate(_list(data, "offerings", where), start=1):
        owhere = f"{where}: offerings[{i}]"
        if not isinstance(o, dict):
            raise CvpValueError(f"{owhere}: expected name, price and scores")
        scores = _get(o, "scores", owhere)
        if not isinstance(scores, list) or len(scores) != len(attributes):
            raise CvpValueError(f"{owhere}: scores: expected {len(attributes)} scores, one per "
                                "attribute")
        offerings.append({"name": _text(o, "name", owhere), "price": _num(o, "price", owhere),
                          "scores": [_num({"score": v}, "score", owhere) for v in scores]})
    if not attributes or len(offerings) < 2:
        raise CvpValueError(f"{where}: expected at least one attribute and two offerings")
    reference = _text(data, "reference", where)
    names = [o["name"] for o in offerings]
    if reference not in names:
        raise CvpValueError(f"{where}: reference: {reference!r} is not one of the offerings "
                            f"({', '.join(names)})")
    ref = offerings[names.index(reference)]
    weights = [a["weight"] for a in attributes]
    try:  # the functions' own checks: weights, scores and prices
        for o in offerings:
            positioning.value_map(weights, o["scores"], ref["scores"])
            positioning.relative_price(o["price"], ref["price"])
    except CvpError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    return {"reference": reference, "attributes": attributes, "offerings": offerings}


# -- the workbook ------------------------------------------------------------------------------


def _ref(value):
    """What ``=A1`` shows for an input cell: its value, 0 for an empty cell."""
    return 0 if value is None or value == "" else value


def build(path, spec=None) -> Path:
    """Write the positioning workbook for ``spec`` to ``path``, with formulas and their values.

    Parameters
    ----------
    path : path-like
        The .xlsx file to write (atomically; replaced if it exists).
    spec : dict or path-like, optional
        The inputs (see ``workbooks/positioning/process-pump.yaml``); default: that example.

    Returns
    -------
    pathlib.Path
    """
    s = load_spec(spec)
    book = Book()
    ledger = book.wb.active
    ledger.title = "Ledger"
    rows, types = _ledger(book, ledger, s)
    _propositions(book, book.wb.create_sheet("Propositions"), s, rows, types)
    _value_map_sheet(book, book.wb.create_sheet("Value map"), s)
    for ws in book.wb.worksheets:
        protect(ws)
    return book.save(path)


def _ledger(book: Book, ws, s: dict) -> tuple[tuple[int, int], list[str]]:
    """The Ledger sheet; returns its first and last element rows and each element's type."""
    for col, width in zip("ABCDEFG", (34, 12, 12, 14, 14, 44, 22)):
        ws.column_dimensions[col].width = width
    label(ws["A1"], s["title"], TITLE_FONT)
    note(ws, "A2", "Example figures for illustration, not facts. Views: ours minus the next "
                   "best alternative's, in money, positive = better for the customer.", "G")
    label(ws["A3"], "Amounts in")
    label(ws["B3"], " ".join(p for p in (s["currency"], s["unit"]) if p))
    label(ws["A4"], "Parity tolerance (largest difference still parity)")
    ws["A4"].alignment = WRAP
    book.input(ws["B4"], s["tolerance"], "#,##0")
    label(ws["A5"], "Resonating focus: how many points")
    book.input(ws["B5"], int(s["focus_count"]), "0")
    validation(ws, "decimal", "greaterThanOrEqual", "0", None,
               "Enter a tolerance of 0 or more.").add("B4")
    validation(ws, "whole", "greaterThanOrEqual", "1", None,
               "Enter a whole number of 1 or more.").add("B5")
    head = LEDGER_FIRST - 1
    header(ws, head, 1, ["Value element", "Category", "Tangibility", "Supplier view",
                         "Customer view", "Source of the customer view", "Point type"])
    category = validation(ws, "list", None, f'"{",".join(CATEGORIES)}"', None,
                          f"Choose one of: {', '.join(CATEGORIES)}.")
    tangibility = validation(ws, "list", None, f'"{",".join(TANGIBILITY)}"', None,
                             f"Choose one of: {', '.join(TANGIBILITY)}.")
    first = LEDGER_FIRST
    last = first + len(s["elements"]) - 1
    types = [positioning.point_type(e["supplier_view"], e["customer_view"], s["tolerance"])
             for e in s["elements"]]
    for k, e in enumerate(s["elements"]):
        r = first + k
        book.input(ws[f"A{r}"], e["name"])
        book.input(ws[f"B{r}"], e["category"])
        book.input(ws[f"C{r}"], e["tangibility"])
        book.input(ws[f"D{r}"], e["supplier_view"], "#,##0")
        book.input(ws[f"E{r}"], e["customer_view"], "#,##0")
        book.input(ws[f"F{r}"], e["source"] or None)
        ws[f"A{r}"].alignment = WRAP
        ws[f"F{r}"].alignment = INDENTED  # clear of the number to its left
        book.formula(ws[f"G{r}"], native("CVP_POINT_TYPE", f"D{r}", f"E{r}", "$B$4"), types[k])
    category.add(f"B{first}:B{last}")
    tangibility.add(f"C{first}:C{last}")
    r = last + 2
    label(ws[f"A{r}"], "Count of each point type", BOLD)
    for k, kind in enumerate(positioning.POINT_TYPES, start=1):
        label(ws[f"A{r + k}"], kind)
        book.formula(ws[f"B{r + k}"], f'=COUNTIF($G${first}:$G${last},"{kind}")',
                     types.count(kind), "0")
    print_setup(ws, "landscape", title_rows=f"{head}:{head}", values=book.values)
    return (first, last), types


def _workings(s: dict, types: list[str]) -> list[dict]:
    """The value of each workings column (B to O) for each ledger element, as the formulas
    compute it: running counts of the first two propositions, each favorable point of
    difference's rank by the customer's view (ties: first listed, as ``CVP_RESONATING_FOCUS``
    ranks them), the pitfall flags."""
    tol = s["tolerance"]
    rows: list[dict] = []
    in_all = in_pod = 0
    for e, kind in zip(s["elements"], types):
        supplier, customer, source = e["supplier_view"], e["customer_view"], e["source"]
        g = 1 if supplier >= -tol else 0
        j = 1 if supplier > tol else 0
        in_all, in_pod = in_all + g, in_pod + j
        rows.append({
            "B": _ref(e["name"]), "C": kind, "D": supplier, "E": customer, "F": source,
            "G": g, "H": in_all,
            "I": ((PARITY_FLAG if kind == "parity" else NO_ADVANTAGE_FLAG)
                  if g == 1 and customer <= tol else ""),
            "J": j, "K": in_pod,
            "L": PRESUMPTION_FLAG if j == 1 and customer <= tol else "",
            "M": 1 if kind == "favorable difference" and customer > 0 else 0,
            "O": NO_SOURCE if source == "" else "Documented: " + source,
        })
    for i, row in enumerate(rows):
        if row["M"] != 1:
            row["N"] = ""
            continue
        larger = sum(1 for x in rows if x["M"] == 1 and x["E"] > row["E"])
        tied_before = sum(1 for x in rows[:i + 1] if x["M"] == 1 and x["E"] == row["E"])
        row["N"] = larger + tied_before
    return rows


def _pick(rows: list[dict], value: str, key: str, wanted: int, missing):
    """``IFERROR(INDEX(value, MATCH(wanted, key, 0)), missing)`` over the workings."""
    return next((row[value] for row in rows if row[key] == wanted), missing)


def _propositions(book: Book, ws, s: dict, ledger_rows: tuple[int, int],
                  types: list[str]) -> None:
    first, last = ledger_rows
    n = last - first + 1
    # A to G: the propositions (printed, wrapped); H to O: the rest of the workings.
    for col, width in zip("ABCDEFGHIJKLMN", (5, 26, 28, 26, 28, 26, 34, 10, 14, 10, 44, 12, 10,
                                              52)):
        ws.column_dimensions[col].width = width
    label(ws["A1"], "Three kinds of value proposition, built from the ledger", TITLE_FONT)
    note(ws, "A2", "Anderson, Narus and van Rossum (HBR 2006): each kind with its pitfall "
                   "flagged where it applies.", "G")
    header(ws, 3, 1, ["#", "All benefits", "Pitfall", "Favorable points of difference",
                      "Pitfall", "Resonating focus", "Evidence"])
    notes = ["", "Every element we see as at least on par", "benefit assertion",
             "Every element we see as better than the alternative", "value presumption",
             "The n agreed favorable points of difference of greatest value to the customer",
             "needs customer value research"]
    for col, text in enumerate(notes, start=1):
        label(ws.cell(4, col), text, NOTE_FONT)
        ws.cell(4, col).alignment = WRAP

    # Workings: one row per ledger element.
    w0 = 5 + n + 2
    w1 = w0 + n - 1
    label(ws[f"A{w0 - 2}"], "Workings (one row per ledger element)", BOLD)
    header(ws, w0 - 1, 1, ["Row", "Value element", "Point type", "Supplier view",
                           "Customer view", "Source", "In all benefits", "Count",
                           "All-benefits pitfall", "In points of difference", "Count",
                           "Points-of-difference pitfall", "Focus candidate", "Focus rank",
                           "Focus evidence"])
    tol, focus_n = "Ledger!$B$4", "Ledger!$B$5"
    work = _workings(s, types)
    for k, v in enumerate(work):
        i, lr = w0 + k, first + k
        ws[f"A{i}"] = k + 1
        formulas = {
            "B": (f"=Ledger!A{lr}", None),
            "C": (f"=Ledger!G{lr}", None),
            "D": (f"=Ledger!D{lr}", "#,##0"),
            "E": (f"=Ledger!E{lr}", "#,##0"),
            "F": (f'=IF(Ledger!F{lr}="","",Ledger!F{lr})', None),
            "G": (f"=IF(D{i}>=-{tol},1,0)", "0"),
            "H": (f"=SUM(G${w0}:G{i})", "0"),
            "I": (f'=IF(AND(G{i}=1,E{i}<={tol}),IF(C{i}="parity",'
                  f'"{PARITY_FLAG}","{NO_ADVANTAGE_FLAG}"),"")', None),
            "J": (f"=IF(D{i}>{tol},1,0)", "0"),
            "K": (f"=SUM(J${w0}:J{i})", "0"),
            "L": (f'=IF(AND(J{i}=1,E{i}<={tol}),"{PRESUMPTION_FLAG}","")', None),
            "M": (f'=IF(AND(C{i}="favorable difference",E{i}>0),1,0)', "0"),
            "N": (f"=IF(M{i}=1,SUMPRODUCT((M${w0}:M${w1}=1)*(E${w0}:E${w1}>E{i}))"
                  f"+SUMPRODUCT((M${w0}:M{i}=1)*(E${w0}:E{i}=E{i})),\"\")", "0"),
            "O": (f'=IF(F{i}="","{NO_SOURCE}","Documented: "&F{i})', None),
        }
        for col, (formula, number_format) in formulas.items():
            book.formula(ws[f"{col}{i}"], formula, v[col], number_format)
    ws.column_dimensions["O"].width = 52

    # The three propositions side by side.
    def pick(values_col: str, count_col: str, row: int) -> str:
        return (f'=IFERROR(INDEX(${values_col}${w0}:${values_col}${w1},'
                f'MATCH($A{row},${count_col}${w0}:${count_col}${w1},0)),"")')

    focus_count = int(s["focus_count"])
    for k in range(n):
        row, p = 5 + k, k + 1
        ws[f"A{row}"] = p
        ws[f"A{row}"].alignment = CENTERED
        book.formula(ws[f"B{row}"], pick("B", "H", row), _pick(work, "B", "H", p, ""))
        book.formula(ws[f"C{row}"], pick("I", "H", row), _pick(work, "I", "H", p, ""))
        book.formula(ws[f"D{row}"], pick("B", "K", row), _pick(work, "B", "K", p, ""))
        book.formula(ws[f"E{row}"], pick("L", "K", row), _pick(work, "L", "K", p, ""))
        shown = p <= focus_count
        book.formula(ws[f"F{row}"], f'=IF({p}>{focus_n},"",IFERROR(INDEX($B${w0}:$B${w1},'
                                    f'MATCH({p},$N${w0}:$N${w1},0)),"{NOT_ENOUGH}"))',
                     _pick(work, "B", "N", p, NOT_ENOUGH) if shown else "", bold=True)
        book.formula(ws[f"G{row}"], f'=IF({p}>{focus_n},"",IFERROR(INDEX($O${w0}:$O${w1},'
                                    f'MATCH({p},$N${w0}:$N${w1},0)),""))',
                     _pick(work, "O", "N", p, "") if shown else "")
        for col in "BCDEFG":
            ws[f"{col}{row}"].alignment = WRAP
    # The propositions print; the workings stay on screen (clear the print area to print them).
    print_setup(ws, "landscape", title_rows="3:4", area=f"A1:G{4 + n}", values=book.values)


def _value_map_sheet(book: Book, ws, s: dict) -> None:
    vm = s["value_map"]
    attrs, offers = vm["attributes"], vm["offerings"]
    m, k = len(attrs), len(offers)
    ref_index = [o["name"] for o in offers].index(vm["reference"])
    reference = offers[ref_index]
    ws.column_dimensions["A"].width = 30
    last_col = get_column_letter(max(8, 2 + k))  # the tables span A to H at least
    for j in range(max(7, k + 1)):
        ws.column_dimensions[get_column_letter(2 + j)].width = 14
    label(ws["A1"], "Customer value map (Gale)", TITLE_FONT)
    note(ws, "A2", "Relative quality = sum of w x 100 / sum(w) x (score / reference's score); "
                   "relative price = 100 x price / reference's price. 100 = the reference.",
         last_col)
    label(ws["A3"], "Reference offering (next best alternative)")
    ws["A3"].alignment = WRAP
    ref_col = get_column_letter(3 + ref_index)
    book.formula(ws["B3"], f"={ref_col}5", _ref(reference["name"]), bold=True)

    header(ws, 5, 1, ["Attribute", "Weight"])
    a0, a1 = 6, 6 + m - 1
    price_row = a1 + 1
    weights_dv = validation(ws, "decimal", "greaterThanOrEqual", "0", None,
                            "Enter a weight of 0 or more.")
    scores_dv = validation(ws, "decimal", "greaterThanOrEqual", "0", None,
                           "Enter a score of 0 or more.")
    for j, o in enumerate(offers):
        col = get_column_letter(3 + j)
        book.input(ws[f"{col}5"], o["name"])
        ws[f"{col}5"].font = BOLD
        for i, score in enumerate(o["scores"]):
            book.input(ws[f"{col}{a0 + i}"], score, "0.0")
        book.input(ws[f"{col}{price_row}"], o["price"], "#,##0")
        scores_dv.add(f"{col}{a0}:{col}{price_row}")
    for j in range(k):
        ws.cell(5, 3 + j).alignment = WRAP
    for i, a in enumerate(attrs):
        book.input(ws[f"A{a0 + i}"], a["name"])
        book.input(ws[f"B{a0 + i}"], a["weight"], "0")
    weights_dv.add(f"B{a0}:B{a1}")
    label(ws[f"A{price_row}"], "Price", BOLD)

    r0 = price_row + 3
    header(ws, r0 - 1, 1, ["Offering", "Relative quality", "Relative price",
                           "Gap to the fair-value line", "Position", "", "", ""])
    weights = f"$B${a0}:$B${a1}"
    ref_scores = f"${ref_col}${a0}:${ref_col}${a1}"
    weight_values = [a["weight"] for a in attrs]
    plotted = []
    for j, o in enumerate(offers):
        col, r = get_column_letter(3 + j), r0 + j
        quality = positioning.value_map(weight_values, o["scores"], reference["scores"])
        price = positioning.relative_price(o["price"], reference["price"])
        gap = positioning.fair_value_gap(quality, price)
        plotted += [quality, price]
        book.formula(ws[f"A{r}"], f"={col}5", _ref(o["name"]))
        book.formula(ws[f"B{r}"], native("CVP_VALUE_MAP", weights, f"{col}{a0}:{col}{a1}",
                                         ref_scores), quality, "0.0")
        book.formula(ws[f"C{r}"], native("CVP_RELATIVE_PRICE", f"{col}{price_row}",
                                         f"${ref_col}${price_row}"), price, "0.0")
        book.formula(ws[f"D{r}"], native("CVP_FAIR_VALUE_GAP", f"B{r}", f"C{r}"), gap, "0.0",
                     bold=True)
        below = "Below/right of the fair-value line: better customer value"
        above = "Above/left of the fair-value line: worse customer value"
        on = "On the fair-value line"
        book.formula(ws[f"E{r}"], f'=IF(D{r}>0,"{below}",IF(D{r}<0,"{above}","{on}"))',
                     below if gap > 0 else above if gap < 0 else on)
        ws[f"E{r}"].alignment = INDENTED
        ws.merge_cells(f"E{r}:H{r}")
    r1 = r0 + k - 1
    line0 = r1 + 2
    low, high = min(plotted) - 10, max(plotted) + 10
    label(ws[f"A{line0}"], "Fair-value line (relative quality = relative price)", BOLD)
    book.formula(ws[f"B{line0 + 1}"], f"=MIN(B{r0}:C{r1})-10", low, "0.0")
    book.formula(ws[f"C{line0 + 1}"], f"=B{line0 + 1}", low, "0.0")
    book.formula(ws[f"B{line0 + 2}"], f"=MAX(B{r0}:C{r1})+10", high, "0.0")
    book.formula(ws[f"C{line0 + 2}"], f"=B{line0 + 2}", high, "0.0")
    label(ws[f"A{line0 + 1}"], "from")
    label(ws[f"A{line0 + 2}"], "to")

    chart = ScatterChart()
    chart.title = "Customer value map"
    chart.scatterStyle = "lineMarker"
    chart.x_axis.title = "Relative quality (100 = reference)"
    chart.y_axis.title = "Relative price (100 = reference)"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.number_format = chart.y_axis.number_format = "0"
    sheet = ws.title.replace("'", "''")
    colors = ("1F4E78", "C00000", "70AD47", "ED7D31", "7030A0", "00B0F0")
    for j in range(k):
        r = r0 + j
        color = colors[j % len(colors)]
        series = Series(Reference(ws, min_col=3, min_row=r), Reference(ws, min_col=2, min_row=r))
        series.tx = SeriesLabel(strRef=StrRef(f"'{sheet}'!$A${r}"))
        series.marker.symbol = "circle"
        series.marker.size = 9
        series.marker.graphicalProperties = GraphicalProperties(solidFill=color)
        series.marker.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.noFill = True
        series.smooth = False
        chart.series.append(series)
    fair = Series(Reference(ws, min_col=3, min_row=line0 + 1, max_row=line0 + 2),
                  Reference(ws, min_col=2, min_row=line0 + 1, max_row=line0 + 2),
                  title="Fair-value line")
    fair.marker.symbol = "none"
    fair.graphicalProperties.line.solidFill = "7F7F7F"
    fair.graphicalProperties.line.dashStyle = "dash"
    fair.smooth = False  # a straight line, as Excel saves it
    chart.series.append(fair)
    chart.legend.position = "r"
    chart.height, chart.width = 14, 20
    excel_axes(chart)
    ws.add_chart(chart, f"A{line0 + 4}")  # below the tables: the sheet prints on one page
    print_setup(ws, "portrait", one_page=True, values=book.values)


def build_example_workbooks(out_dir) -> list[Path]:
    """Build a positioning workbook for every example spec in ``workbooks/positioning/``.

    Each ``NAME.yaml`` becomes ``out_dir / "positioning-NAME.xlsx"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / f"positioning-{spec.stem}.xlsx", spec)
            for spec in sorted(EXAMPLES.glob("*.yaml"))]
