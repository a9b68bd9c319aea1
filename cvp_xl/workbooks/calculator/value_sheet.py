"""The Value sheet: each value element's word equation and formula, the resonating focus, and
the cash flow of choosing ours over the next best, year by year (the Summary's chart reads it).
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from cvp_xl.domain.positioning import resonating_focus
from cvp_xl.errors import ErrorValue
from cvp_xl.workbooks.calculator import model
from cvp_xl.workbooks.calculator.parts import (
    CHECK_INPUTS,
    OK,
    Formulas,
    Theme,
    chart_title,
    guard,
    header,
    money_format,
    print_setup,
    wrapped_height,
)
from cvp_xl.workbooks.style import BOLD, NOTE_FONT, excel_axes
from cvp_xl.xlsx.write import set_text

__all__ = ["ValuePlan", "value_sheet", "cash_flow_block", "focus", "FOCUS_LABELS"]

WIDTHS = {"A": 34, "B": 15, "C": 15, "D": 60, "E": 14, "F": 9, "G": 16, "H": 11}
#: The labels of the resonating-focus rows (the statement on the Summary names them).
FOCUS_LABELS = ("Worth most", "Second")


@dataclass(frozen=True)
class ValuePlan:
    """Where the Value sheet puts things (rows), known before any sheet is written."""

    e_first: int
    e_last: int
    focus: int      # the first of the two resonating-focus rows
    years: int      # the row of year 0 of the cash-flow block
    point: int      # the payback point (the chart's marker)
    horizon: int

    @classmethod
    def of(cls, spec) -> ValuePlan:
        e_first = 5
        e_last = e_first + len(spec.elements) - 1
        focus = e_last + 3
        years = focus + len(FOCUS_LABELS) + 3
        return cls(e_first, e_last, focus, years, years + spec.horizon_years + 2,
                   spec.horizon_years)

    def flow(self, year: int) -> str:
        return f"Value!$B${self.years + year}"

    @property
    def outlay(self) -> str:
        return self.flow(0)

    @property
    def yearly(self) -> str:
        return self.flow(1)

    @property
    def flows_after_0(self) -> str:
        return f"Value!$B${self.years + 1}:$B${self.years + self.horizon}"


def focus(spec, elements: dict) -> list[tuple[str, float]]:
    """The resonating focus: the (at most two) favorable points of difference worth most.

    Favorable: value per year above 0 (each element measures ours against the reference);
    largest first, the one listed first on a tie (:func:`resonating_focus`).
    """
    names = [el.name for el in spec.elements]
    values = [float(elements[n]) for n in names]
    count = min(len(FOCUS_LABELS), sum(v > 0 for v in values))
    if count == 0:
        return []
    chosen = [row[0] for row in resonating_focus(names, values, n=count)]
    return [(n, float(elements[n])) for n in chosen]


def value_sheet(spec, ws, book, layout, results, formulas: Formulas, theme: Theme,
                plan: ValuePlan) -> None:
    """The value elements; :func:`cash_flow_block` adds the cash flows once the Summary's
    rows are known."""
    money = money_format(spec.currency)
    set_text(ws["A1"], f"Value by element — {spec.name}")
    ws["A1"].font = theme.title_font
    set_text(ws["A2"], "Each value element: its word equation as text, and the formula that "
                       "computes it from the inputs in use.")
    header(ws, 4, ["Value element", "Category", "Tangibility", "Word equation", "Unit",
                   "Periods per year", f"Value per year ({spec.currency})",
                   "Rank (favorable)"], theme)
    first, last = plan.e_first, plan.e_last
    ranks = _ranks(spec, results.elements)
    for k, el in enumerate(spec.elements):
        r = first + k
        layout.element_rows[el.name] = r
        set_text(ws.cell(r, 1), el.name)
        set_text(ws.cell(r, 2), el.category)
        set_text(ws.cell(r, 3), "tangible" if el.tangible else "intangible")
        set_text(ws.cell(r, 4), el.equation)
        ws.cell(r, 4).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = wrapped_height(el.equation, WIDTHS["D"])
        set_text(ws.cell(r, 5), el.unit)
        ws.cell(r, 6, model.annual_factor(el.unit))
        checks = ",".join(f'Inputs!$J${layout.input_rows[q]}="{OK}"'
                          for q in formulas.uses(el.name)) or "TRUE"
        formula = (f'=IF(AND({checks}),({formulas.expr(el.name, "C")})*F{r}*Summary!$B$6,'
                   f'"{CHECK_INPUTS}")')
        book.formula(ws[f"G{r}"], formulas.fits(formula, el.name, "Value"),
                     results.elements[el.name], money, key=("element", el.name))
        # favorable (above 0) ranked by value, the one listed first on a tie
        tie = f"+SUMPRODUCT((G${first}:G{r - 1}=G{r})*1)" if r > first else ""
        book.formula(ws[f"H{r}"], f'=IF(Summary!$B$7,IF(G{r}>0,1+SUMPRODUCT((G${first}:G${last}'
                                  f'>G{r})*1){tie},""),"")', ranks[el.name], "0",
                     key=("rank", el.name))
    # the resonating focus, which the Summary's statement names
    f0 = plan.focus
    set_text(ws.cell(f0 - 1, 1), "The resonating focus: the favorable points of difference "
                                 "worth most")
    ws.cell(f0 - 1, 1).font = BOLD
    chosen = focus(spec, results.elements)
    names, values, rank = (f"$A${first}:$A${last}", f"$G${first}:$G${last}",
                           f"$H${first}:$H${last}")
    for k, label in enumerate(FOCUS_LABELS):
        r = f0 + k
        set_text(ws.cell(r, 1), label)
        pick = f"MATCH({k + 1},{rank},0)"
        name, amount = chosen[k] if k < len(chosen) else ("", "")
        book.formula(ws[f"B{r}"], f'=IF(COUNT({rank})>{k},INDEX({names},{pick}),"")', name,
                     key=("focus_name", k))
        book.formula(ws[f"G{r}"], f'=IF(COUNT({rank})>{k},INDEX({values},{pick}),"")', amount,
                     money, key=("focus_value", k))
    layout.results["focus"] = [f"Value!B{f0 + k}" for k in range(len(FOCUS_LABELS))]
    for col, w in WIDTHS.items():
        ws.column_dimensions[col].width = w


def _ranks(spec, elements: dict) -> dict:
    """Each element's rank among the favorable ones (1 = worth most), or "" when not one."""
    order = [(-float(elements[el.name]), k, el.name) for k, el in enumerate(spec.elements)
             if float(elements[el.name]) > 0]
    return {el.name: "" for el in spec.elements} | {
        name: n for n, (_, _, name) in enumerate(sorted(order), start=1)}


def cash_flow_block(spec, ws, book, layout, results, theme: Theme, plan: ValuePlan,
                    nb_match: str, total_ref: str, payback_ref: str) -> None:
    """Net cash flow of ours vs the next best, by year, its cumulative sum, and the payback
    point the Summary's chart marks; then the chart of value by element."""
    money = money_format(spec.currency)
    h = spec.horizon_years
    p_first, p_last = layout.results["prices_range"]
    o_pr = layout.price_rows[spec.offering.name]
    y0 = plan.years
    set_text(ws.cell(y0 - 2, 1), "Cash flow of ours vs the next best alternative, by year")
    ws.cell(y0 - 2, 1).font = BOLD
    header(ws, y0 - 1, ["Year", f"Net cash flow ({spec.currency})",
                        f"Cumulative ({spec.currency})"], theme)
    alt = f"${p_first + 1}:$"
    outlay = guard(f"-(Inputs!$D${o_pr}-INDEX(Inputs!$D{alt}D${p_last},{nb_match}))")
    yearly = guard(f"({total_ref}-INDEX(Inputs!$F{alt}F${p_last},{nb_match}))-"
                   f"(Inputs!$E${o_pr}-INDEX(Inputs!$E{alt}E${p_last},{nb_match}))")
    if any(a.kind != "competitor" for a in spec.alternatives):
        # model.evaluate: the next best's value lost while it is built counts in year 0, and
        # the cost of the problem a status quo leaves every year (Inputs G and H)
        nb = {c: f"INDEX(Inputs!${c}{alt}{c}${p_last},{nb_match})" for c in "DEFGH"}
        outlay = guard(f"-(Inputs!$D${o_pr}-{nb['D']}-{nb['F']}*{nb['H']}/12)")
        yearly = guard(f"({total_ref}-({nb['F']}-{nb['G']}))-(Inputs!$E${o_pr}-{nb['E']})")
    cumulative = 0.0
    for y in range(h + 1):
        r = y0 + y
        ws.cell(r, 1, y).number_format = "0"
        formula = outlay if y == 0 else yearly if y == 1 else f"=B{y0 + 1}"
        book.formula(ws[f"B{r}"], formula, results.cash_flows[y], money, key=("flow", y))
        cumulative = cumulative + results.cash_flows[y]
        book.formula(ws[f"C{r}"], f"=B{r}" if y == 0 else guard(f"C{r - 1}+B{r}"), cumulative,
                     money, key=("cumulative", y))
    layout.results["cash_flows"] = f"Value!B{y0}:B{y0 + h}"
    layout.results["cumulative"] = f"Value!C{y0}:C{y0 + h}"
    pr = plan.point
    set_text(ws.cell(pr, 1), "Payback point (chart)")
    ws.cell(pr, 1).font = NOTE_FONT
    years = results.payback
    point = ErrorValue("#N/A") if years != years else years  # NaN: no point (#N/A)
    book.formula(ws[f"B{pr}"], f"=IF(ISNUMBER({payback_ref}),{payback_ref},NA())", point,
                 "0.00", key=("payback_point",))
    ws.cell(pr, 3, 0).number_format = money
    layout.results["payback_point"] = f"Value!B{pr}:C{pr}"

    chart = BarChart()
    chart.type = "bar"
    chart.title = chart_title(f"Value per year by element ({spec.currency})")
    chart.legend = None
    chart.add_data(Reference(ws, min_col=7, min_row=plan.e_first, max_row=plan.e_last),
                   titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=1, min_row=plan.e_first, max_row=plan.e_last))
    chart.x_axis.scaling.orientation = "maxMin"  # the first element on top, as in the table
    chart.y_axis.crosses = "max"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.y_axis.numFmt = "#,##0"
    chart.y_axis.majorGridlines = None
    colour = theme.series_colour()
    if colour:
        chart.series[0].graphicalProperties.solidFill = colour
    chart.height, chart.width = 6.5, 24  # wide enough for the value axis labels side by side
    anchor = pr + 2
    excel_axes(chart)
    ws.add_chart(chart, f"A{anchor}")
    last_col = get_column_letter(8)
    print_setup(ws, spec, theme, landscape=True, title_rows="4:4",
                area=f"A1:{last_col}{anchor + 14}")
    if anchor - 1 > 38:  # the chart starts a page of its own rather than being cut
        from openpyxl.worksheet.pagebreak import Break

        ws.row_breaks.append(Break(id=anchor - 1))
