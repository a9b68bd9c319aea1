"""The Sensitivity sheet: the total value per year with each input at its low and its high.

Moving one input changes only the elements whose equations use it, so each total is the total
at base plus the change of those elements.  Below the table and its tornado chart (outside the
printed page) the sheet shows how: each element's value at base, and, grouped by input, the
change of each element that uses the input when it moves to its low and to its high — one
formula per (input, element that uses it).  Each row of the table sums its input's block.
The sheet holds as many formulas as the spec has uses of inputs in equations, none longer
than its element's own (the sheet grew with inputs x elements and broke Excel's formula
limit before).
"""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.pagebreak import Break

from cvp_xl.workbooks.calculator.parts import (
    Formulas,
    Theme,
    chart_title,
    guard,
    header,
    money_format,
    print_setup,
)
from cvp_xl.workbooks.style import BOLD, NOTE_FONT, excel_axes
from cvp_xl.xlsx.write import set_text

__all__ = ["sensitivity_sheet", "CHART_ROWS", "TABLE_FIRST_ROW", "block_rows", "table_row"]

#: Rows the tornado chart takes below the table.
CHART_ROWS = 18
#: A table and chart longer than this many rows put the chart on a page of its own.
PAGE_ROWS = 48
#: The first row of the table (largest swing first).
TABLE_FIRST_ROW = 6


def block_rows(spec, sens) -> dict:
    """The rows of each input's block of changes below the table (None: no element uses
    it), where :func:`sensitivity_sheet` writes them."""
    last = TABLE_FIRST_ROW - 1 + len(sens)
    detail = last + 2 + CHART_ROWS + 2
    r = detail + 1 + len(spec.elements) + 3  # the block's header, then its first row
    blocks = {}
    for s in sens:
        n = len(s["elements"])
        blocks[s["input"]] = (r, r + n - 1) if n else None
        r += n
    return blocks


def table_row(r: int, s: dict, input_row: int, fmt: str, block, money: str) -> list[tuple]:
    """The formula cells of row ``r`` of the table for the sensitivity row ``s``:
    ``(column, formula, value, number format)``, in the order they are written."""
    cells = [("B", f"=Inputs!$E${input_row}", s["low"], fmt),
             ("C", f"=Inputs!$F${input_row}", s["high"], fmt)]
    for col, side, value in (("D", "D", s["at_low"]), ("E", "E", s["at_high"])):
        total = f"$D$3+SUM({side}{block[0]}:{side}{block[1]})" if block else "$D$3"
        cells.append((col, guard(total), value, money))
    cells += [("F", guard(f"ABS(E{r}-D{r})"), s["swing"], money),
              ("G", guard(f"D{r}-$D$3"), s["at_low"] - s["base"], money),
              ("H", guard(f"E{r}-$D$3"), s["at_high"] - s["base"], money)]
    return cells


def sensitivity_sheet(spec, ws, book, layout, sens, base_elements: dict, formulas: Formulas,
                      theme: Theme, formats: dict) -> None:
    money = money_format(spec.currency)
    set_text(ws["A1"], f"Sensitivity of the total value per year — {spec.name}")
    ws["A1"].font = theme.title_font
    set_text(ws["A2"], "Each input at its low and at its high, the others at base "
                       "(no conservative halving). Sorted by the swing at the built values.")
    set_text(ws["A3"], "Total value per year at base")
    ordered = sorted(sens, key=lambda s: -abs(s["swing"]))
    last = TABLE_FIRST_ROW - 1 + len(ordered)
    chart_at = last + 2
    detail = chart_at + CHART_ROWS + 2

    # each element at base
    set_text(ws.cell(detail, 1), "How the totals are computed (not printed): each element at "
                                 "base, and its change when one input moves")
    ws.cell(detail, 1).font = BOLD
    header(ws, detail + 1, ["Value element", "", "", f"Per year at base ({spec.currency})"],
           theme)
    base_row = {}
    for k, el in enumerate(spec.elements):
        r = detail + 2 + k
        base_row[el.name] = r
        set_text(ws.cell(r, 1), el.name)
        factor = f"Value!$F${layout.element_rows[el.name]}"
        formula = guard(f"({formulas.expr(el.name, 'D')})*{factor}")
        book.formula(ws[f"D{r}"], formulas.fits(formula, el.name, "Sensitivity"),
                     base_elements[el.name], money, key=("base_element", el.name))
    b_first, b_last = detail + 2, detail + 1 + len(spec.elements)
    book.formula(ws["D3"], guard(f"SUM(D{b_first}:D{b_last})"), sens[0]["base"] if sens else 0,
                 money, key=("sens_base",))
    ws["D3"].font = BOLD

    # the change of each element that uses an input, grouped by input
    top = b_last + 2
    header(ws, top, ["Input moved", "Value element", "", "Change at low", "Change at high"],
           theme)
    blocks, r = block_rows(spec, sens), top + 1
    for s in sens:
        name, start = s["input"], r
        for el_name, (low, high) in s["elements"].items():
            set_text(ws.cell(r, 1), name)
            set_text(ws.cell(r, 2), el_name)
            factor = f"Value!$F${layout.element_rows[el_name]}"
            for side, (col, moved_to, value) in enumerate((("D", "E", low), ("E", "F", high))):
                expr = formulas.moved(el_name, "D", name, moved_to)
                formula = guard(f"({expr})*{factor}-$D${base_row[el_name]}")
                book.formula(ws[f"{col}{r}"], formulas.fits(formula, el_name, "Sensitivity"),
                             value, money, key=("sens_change", name, el_name, side))
            r += 1
        if blocks[name] != ((start, r - 1) if r > start else None):
            raise AssertionError(f"Sensitivity: the block of {name} is not where block_rows "
                                 f"puts it")

    # the table, largest swing first
    header(ws, 5, ["Input", "Low", "High", "Total at low", "Total at high", "Swing",
                   "Low - base", "High - base"], theme)
    for k, s in enumerate(ordered):
        r = TABLE_FIRST_ROW + k
        ir = layout.input_rows[s["input"]]
        set_text(ws.cell(r, 1), s["input"])
        # an explicit format: LibreOffice would give a General formula its source's format
        fmt = formats[s["input"]]
        for col, formula, value, number_format in table_row(r, s, ir, fmt, blocks[s["input"]],
                                                            money):
            book.formula(ws[f"{col}{r}"], formula, value, number_format)
    _tornado(spec, ws, theme, last, chart_at)
    set_text(ws.cell(chart_at + CHART_ROWS, 1), "Bars: the change of the total value per year "
                                                "with the input at its low and at its high.")
    ws.cell(chart_at + CHART_ROWS, 1).font = NOTE_FONT
    for col, w in {"A": 40, "B": 12, "C": 12, "D": 15, "E": 15, "F": 15, "G": 15,
                   "H": 15}.items():
        ws.column_dimensions[col].width = w
    print_setup(ws, spec, theme, landscape=False, title_rows="5:5",
                area=f"A1:H{chart_at + CHART_ROWS}")
    if chart_at + CHART_ROWS > PAGE_ROWS:  # the chart on a page of its own, never cut
        ws.row_breaks.append(Break(id=chart_at - 1))


def _tornado(spec, ws, theme: Theme, last: int, anchor: int) -> None:
    """Largest swing on top, input names at the left edge (clear of the bars), both axes
    shown."""
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.gapWidth = 40
    chart.title = chart_title(f"Tornado: change in total value per year ({spec.currency})")
    chart.add_data(Reference(ws, min_col=7, max_col=8, min_row=5, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=6, max_row=last))
    low, high = chart.series
    low.graphicalProperties.solidFill = "C0504D"
    high.graphicalProperties.solidFill = theme.accent
    chart.x_axis.scaling.orientation = "maxMin"  # the table's first row (largest) on top
    chart.x_axis.tickLblPos = "low"              # names at the left, clear of the bars
    chart.y_axis.crosses = "max"                 # the value axis at the bottom
    chart.y_axis.numFmt = "#,##0"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.height, chart.width = 8.5, 20
    excel_axes(chart)
    ws.add_chart(chart, f"A{anchor}")
