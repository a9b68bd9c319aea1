"""The Summary: an executive one-pager.

From the top: the calculator and the customer; the scenario and the state of the inputs
(rows 6 and 7, the benefit factor and "All inputs and prices valid", are the model's and are
hidden); the value proposition in words; the figures at a glance; value by element; the
cumulative cash flow of ours against the next best with its payback point; then the backup:
the offering and the alternatives over the horizon, and the measures.

The statement is two sentences of formulas, so that it follows the customer's figures:

- "Over 3 years, <offering> is worth USD 1,234,567 more to <customer> than <next best>, the
  next best alternative." (less, when the differential is below 0);
- "Its largest gains are <element> (USD 119,040 a year) and <element> (...)." — the resonating
  focus (:func:`~cvp_xl.workbooks.calculator.value_sheet.focus`), one or two favorable points
  of difference, or a sentence saying there is none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import Marker
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from cvp_xl.workbooks.calculator import model
from cvp_xl.workbooks.calculator.parts import (
    OK,
    Theme,
    amount_text,
    amount_words,
    chart_title,
    general_text,
    guard,
    header,
    input_cell,
    money_format,
    print_setup,
    quoted,
    round_half_up,
)
from cvp_xl.workbooks.calculator.spec import CONSERVATIVE_FACTOR, SCENARIOS
from cvp_xl.workbooks.calculator.value_sheet import ValuePlan, focus
from cvp_xl.workbooks.style import BOLD, excel_axes
from cvp_xl.xlsx.write import set_text

__all__ = ["SummaryPlan", "summary_sheet", "statement", "payback_words", "VALID_LABEL"]

#: The label of the all-inputs-valid cell, Summary!A7 (``cvp-xl recalc --strict`` reads it).
VALID_LABEL = "All inputs and prices valid"
GLANCE = 17  # the first row of the figures at a glance
CHART_ROWS = 16  # rows the cumulative cash-flow chart takes


@dataclass(frozen=True)
class SummaryPlan:
    """Where the Summary puts things (rows), known before any sheet is written."""

    e_first: int
    total: int
    chart: int      # the row the cumulative cash-flow chart starts at
    parties: int    # the header row of the offering and the alternatives
    keys: int       # the first row of the measures
    alternatives: int

    @classmethod
    def of(cls, spec) -> SummaryPlan:
        e_first = GLANCE + 8
        total = e_first + len(spec.elements)
        chart = total + 2
        parties = chart + CHART_ROWS + 1
        n = len(spec.alternatives)
        return cls(e_first, total, chart, parties, parties + n + 3, n)

    def nb_match(self) -> str:
        """The MATCH of the next best alternative among the Summary's alternatives (for
        formulas on other sheets)."""
        first = self.parties + 2
        alts = f"Summary!$D${first}:$D${first + self.alternatives - 1}"
        return f"MATCH(MAX({alts}),{alts},0)"


def payback_words(years: float, note: str) -> str:
    """The payback as the Summary says it: months under two years, else years, else the note.

    >>> payback_words(0.0908, ""), payback_words(2.5, ""), payback_words(1 / 12, "")
    ('1.1 months', '2.5 years', '1 month')
    >>> payback_words(float("nan"), "never")
    'never'
    """
    if isinstance(years, float) and math.isnan(years):
        return note
    if years < 2:
        months = round_half_up(years * 12, 1)
        return f"{general_text(months)} month{'' if months == 1 else 's'}"
    return f"{general_text(round_half_up(years, 1))} years"


def statement(spec, results, customer: str | None) -> tuple[str, str]:
    """The value proposition in two sentences, as the Summary's formulas write them."""
    h = spec.horizon_years
    nb = spec.alternatives[results.next_best].label
    d = results.differential
    first = (f"Over {h} year{'' if h == 1 else 's'}, {spec.offering.name} is worth "
             f"{spec.currency} {amount_words(d)} {'less' if d < 0 else 'more'} to "
             f"{customer or 'the customer'} than {nb}, the next best alternative.")
    chosen = focus(spec, results.elements)
    if not chosen:
        return first, (f"No value element gains anything against "
                       f"{spec.alternatives[0].name} at these figures.")
    parts = [f"{name} ({spec.currency} {amount_words(v)} a year)" for name, v in chosen]
    if len(parts) == 1:
        return first, f"Its largest gain is {parts[0]}."
    return first, f"Its largest gains are {parts[0]} and {parts[1]}."


def _statement_formulas(spec, plan: SummaryPlan, vplan: ValuePlan, refs: dict) -> tuple:
    cur = quoted(spec.currency + " ")
    d = refs["differential"]
    years = '" years, "' if spec.horizon_years != 1 else '" year, "'
    first = (f'=IF($B$7,"Over "&$B$8&{years}&{quoted(spec.offering.name)}&" is worth "&{cur}&'
             f'{amount_text(d)}&IF({d}<0," less"," more")&" to "&IF($B$2="","the customer",'
             f'$B$2)&" than "&{refs["next_best"]}&", the next best alternative.","")')
    rank = f"Value!$H${vplan.e_first}:$H${vplan.e_last}"
    names = [f"Value!$B${vplan.focus + k}" for k in range(2)]
    values = [f"Value!$G${vplan.focus + k}" for k in range(2)]
    part = [f'{n}&" ("&{cur}&{amount_text(v)}&" a year)"' for n, v in zip(names, values)]
    none = quoted(f"No value element gains anything against {spec.alternatives[0].name} at "
                  "these figures.")
    second = (f'=IF($B$7,IF(COUNT({rank})=0,{none},IF(COUNT({rank})=1,"Its largest gain is "&'
              f'{part[0]}&".","Its largest gains are "&{part[0]}&" and "&{part[1]}&".")),"")')
    return first, second


def summary_sheet(spec, ws, book, layout, results, scenario, customer, theme: Theme,
                  plan: SummaryPlan, vplan: ValuePlan) -> None:
    h = spec.horizon_years
    money = money_format(spec.currency)
    first, last = layout.results["inputs_range"]
    p_first, p_last = layout.results["prices_range"]
    set_text(ws["A1"], spec.name)
    ws["A1"].font = theme.title_font
    if theme.supplier:  # under the logo, spilling left over the empty C4
        set_text(ws["D4"], f"Prepared by {theme.supplier}")
        ws["D4"].alignment = Alignment(horizontal="right")
        ws["D4"].font = Font(italic=True, color="595959")
    set_text(ws["A2"], "Customer")
    set_text(ws["B2"], customer or "")
    book.keyed(ws["B2"], ("customer",))
    set_text(ws["A4"], "Scenario (Base, Low, High, Conservative)")
    input_cell(ws["B4"], scenario)
    ws["B4"].value = scenario
    ws["B4"].data_type = "s"
    book.keyed(ws["B4"], ("scenario",))
    dv = DataValidation(type="list", formula1='"' + ",".join(SCENARIOS) + '"', allow_blank=False,
                        showErrorMessage=True, error="Choose Base, Low, High or Conservative")
    dv.add("B4")
    ws.add_data_validation(dv)
    set_text(ws["A5"], "Inputs")
    set_text(ws["A6"], "Benefit factor (Conservative halves every claim)")
    set_text(ws["A7"], VALID_LABEL)
    ok = (f'=AND(COUNTIF(Inputs!$J${first}:$J${last},"{OK}")={last - first + 1},'
          f'COUNTIF(Inputs!$J${p_first}:$J${p_last},"{OK}")={p_last - p_first + 1})')
    book.formula(ws["B7"], ok, True)
    book.formula(ws["B5"],
                 f'=IF(B7,"All inputs OK",IF(MAX(Inputs!$L${first}:$L${last})>0,'
                 f'"Fix "&INDEX(Inputs!$K${first}:$K${last},'
                 f'MATCH(1,Inputs!$L${first}:$L${last},0)),'
                 f'"Fix "&INDEX(Inputs!$K${p_first}:$K${p_last},'
                 f'MATCH(1,Inputs!$L${p_first}:$L${p_last},0))))',
                 "All inputs OK")
    factor = CONSERVATIVE_FACTOR if scenario == "Conservative" else 1.0
    book.formula(ws["B6"], f'=IF(B4="Conservative",{CONSERVATIVE_FACTOR},1)', factor,
                 key=("factor",))
    for r in (6, 7):  # the model's, not the reader's
        ws.row_dimensions[r].hidden = True
    set_text(ws["A8"], "Horizon (years)")
    ws["B8"] = h
    set_text(ws["A9"], "Discount rate")
    ws["B9"] = spec.discount_rate
    ws["B9"].number_format = "0.0%"
    set_text(ws["A10"], "Currency")
    set_text(ws["B10"], spec.currency)
    for r in (2, 4, 5, 8, 9, 10):
        ws[f"B{r}"].alignment = Alignment(horizontal="left")

    refs = _backup(spec, ws, book, layout, results, plan, vplan, money, theme)
    nb = spec.alternatives[results.next_best]
    book.formula(ws["A3"], f'={quoted(spec.offering.name + " vs ")}&IF($B$7,{refs["next_best"]}'
                           f'&" (the next best alternative)","the next best alternative")',
                 f"{spec.offering.name} vs {nb.label} (the next best alternative)", key=("vs",))
    ws["A3"].font = Font(italic=True)

    # the value proposition in words
    _band(ws, 12, "The value proposition", theme)
    words = statement(spec, results, customer)
    for k, (r, formula, text) in enumerate(zip((13, 14), _statement_formulas(spec, plan, vplan,
                                                                              refs), words)):
        ws.merge_cells(f"A{r}:D{r}")
        book.formula(ws[f"A{r}"], formula, text, key=("statement", k))
        ws[f"A{r}"].alignment = Alignment(wrap_text=True, vertical="top")
        ws[f"A{r}"].font = Font(size=12)
        ws.row_dimensions[r].height = 34
    _glance(spec, ws, book, layout, results, theme, refs, vplan, money)
    _chart(spec, ws, theme, vplan, nb.name, plan.chart)

    widths = {"A": 50, "B": 19, "C": 19, "D": 19}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    print_setup(ws, spec, theme, pages_tall=1, area=f"A1:D{plan.keys + 9}")
    if theme.logo:
        _logo(ws, theme.logo)


def _band(ws, row: int, text: str, theme: Theme) -> None:
    set_text(ws.cell(row, 1), text)
    ws.cell(row, 1).font = theme.band_font


def _glance(spec, ws, book, layout, results, theme, refs, vplan, money) -> None:
    g = GLANCE
    header(ws, g - 1, ["At a glance", "", "", ""], theme)
    h = spec.horizon_years
    nb = spec.alternatives[results.next_best].label
    rows = [
        ("Next best alternative", f"={refs['next_best']}", nb, None, ("next_best",)),
        (f"Value differential vs the next best over {h} year{'s' * (h != 1)}",
         f"={refs['differential']}", results.differential, money, ("result", "differential")),
        ("Total value per year, all elements", f"={refs['total_per_year']}",
         results.total_per_year, money, ("result", "total_per_year")),
    ]
    for k, (label, formula, value, fmt, key) in enumerate(rows):
        set_text(ws.cell(g + k, 1), label)
        book.formula(ws.cell(g + k, 2), formula, value, fmt, key=key)
    ws.cell(g + 1, 2).font = Font(bold=True, size=12)
    r = g + len(rows)
    roi, note = refs["roi"], refs["roi_note"]
    shown = results.roi_note if math.isnan(results.roi) else results.roi
    set_text(ws.cell(r, 1), "ROI on the extra spend (net gain / extra cost)")
    book.formula(ws[f"B{r}"], f"=IF(ISNUMBER({roi}),{roi},{note})", shown, '0.0"x"',
                 key=("roi_shown",))
    book.formula(ws[f"C{r}"], f"=IF(ISNUMBER({roi}),{roi},{note})", shown, "#,##0%",
                 key=("roi_shown",))
    layout.results["roi_multiple"], layout.results["roi_percent"] = f"B{r}", f"C{r}"
    pb, pb_note = refs["payback"], refs["payback_note"]
    months = f"ROUND({pb}*12,1)"
    set_text(ws.cell(r + 1, 1), "Payback")
    book.formula(ws[f"B{r + 1}"], guard(
        f'IF(ISNUMBER({pb}),IF({pb}<2,{months}&IF({months}=1," month"," months"),'
        f'ROUND({pb},1)&" years"),{pb_note})'), payback_words(results.payback,
                                                              results.payback_note),
        key=("payback_words",))
    layout.results["payback_words"] = f"B{r + 1}"
    set_text(ws.cell(r + 2, 1), "Cost of waiting: net value lost per month of delay")
    book.formula(ws[f"B{r + 2}"], guard(f"{vplan.yearly}/12"), results.cash_flows[1] / 12,
                 money, key=("waiting",))
    layout.results["cost_of_waiting"] = f"B{r + 2}"
    for k in range(1, r - g + 3):  # amounts right; the name (first row) spills right
        ws.cell(g + k, 2).alignment = Alignment(horizontal="right")


def _chart(spec, ws, theme, vplan: ValuePlan, nb: str, anchor: int) -> None:
    """The cumulative net cash flow of ours vs the next best, year by year, and the payback
    point (a marker on the zero line; none when there is no payback)."""
    value = ws.parent["Value"]
    h = spec.horizon_years
    chart = ScatterChart()
    chart.title = chart_title(f"Cumulative net cash flow vs {nb} ({spec.currency})")
    chart.style = 2
    chart.scatterStyle = "lineMarker"
    xs = Reference(value, min_col=1, min_row=vplan.years, max_row=vplan.years + h)
    ys = Reference(value, min_col=3, min_row=vplan.years, max_row=vplan.years + h)
    cumulative = Series(ys, xs, title="Cumulative net cash flow")
    cumulative.smooth = False
    cumulative.marker = Marker(symbol="circle", size=6)
    colour = theme.series_colour() or "1F4E78"
    cumulative.graphicalProperties.line.solidFill = colour
    cumulative.graphicalProperties.line.width = 28575
    cumulative.marker.graphicalProperties = None
    point = Series(Reference(value, min_col=3, min_row=vplan.point, max_row=vplan.point),
                   Reference(value, min_col=2, min_row=vplan.point, max_row=vplan.point),
                   title="Payback")
    point.marker = Marker(symbol="diamond", size=11)
    point.marker.graphicalProperties = GraphicalProperties(solidFill="C0504D")
    point.marker.graphicalProperties.line.solidFill = "C0504D"
    point.graphicalProperties.line.noFill = True
    point.smooth = False
    point.dLbls = DataLabelList()
    point.dLbls.showSerName = True
    point.dLbls.showVal = point.dLbls.showLegendKey = point.dLbls.showCatName = False
    point.dLbls.position = "r"
    chart.series += [cumulative, point]
    chart.x_axis.title = "Years"
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, h
    chart.x_axis.majorUnit = 1
    chart.x_axis.numFmt = "0"
    chart.y_axis.numFmt = "#,##0"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.tickLblPos = chart.y_axis.tickLblPos = "low"
    chart.legend.position = "b"
    chart.height, chart.width = 7.5, 19
    excel_axes(chart)
    ws.add_chart(chart, f"A{anchor}")


def _logo(ws, data: bytes) -> None:
    import io

    from openpyxl.drawing.image import Image

    image = Image(io.BytesIO(data))
    scale = min(1.0, 40 / image.height, 160 / image.width)  # at most 40 x 160 pixels
    image.height, image.width = image.height * scale, image.width * scale
    ws.add_image(image, "D1")


def _backup(spec, ws, book, layout, results, plan: SummaryPlan, vplan: ValuePlan,
            money, theme: Theme) -> dict:
    """Value by element, the offering and the alternatives, and the measures: the backup of
    the figures at a glance.  Returns the cells of the measures by key."""
    h = spec.horizon_years
    top = plan.e_first - 1
    header(ws, top, ["Value element (per year)", "Category", "Tangibility",
                     f"Value per year ({spec.currency})"], theme)
    for k, el in enumerate(spec.elements):
        r = plan.e_first + k
        vr = layout.element_rows[el.name]
        set_text(ws.cell(r, 1), el.name)
        set_text(ws.cell(r, 2), el.category)
        set_text(ws.cell(r, 3), "tangible" if el.tangible else "intangible")
        book.formula(ws[f"D{r}"], f"=Value!G{vr}", results.elements[el.name], money,
                     key=("element", el.name))
    e_first, e_last, t = plan.e_first, plan.total - 1, plan.total
    set_text(ws.cell(t, 1), "Total value per year")
    ws.cell(t, 1).font = BOLD
    book.formula(ws[f"D{t}"], guard(f"SUM(D{e_first}:D{e_last})"), results.total_per_year,
                 money, key=("result", "total_per_year"))
    ws[f"D{t}"].font = BOLD
    layout.results["total_per_year"] = f"D{t}"

    a = plan.parties
    header(ws, a, [f"Over {h} years", "Value", "Price", "Incentive"], theme)
    parties = (spec.offering,) + spec.alternatives
    for k, party in enumerate(parties):
        r = a + 1 + k
        pr = layout.price_rows[party.name]
        set_text(ws.cell(r, 1), party.label + (" (ours)" if k == 0 else ""))
        if k == 0:
            book.formula(ws[f"B{r}"], guard(f"$B$8*D{t}"), results.value_s, money,
                         key=("result", "value_s"))
        elif party.kind != "competitor":  # model.evaluate: the cost of the problem, the
            # value lost until it is built (Inputs G and H)
            v = f"Inputs!$F${pr}"
            book.formula(ws[f"B{r}"], guard(f"$B$8*({v}-Inputs!$G${pr})-{v}*Inputs!$H${pr}/12"),
                         results.alt_value[k - 1], money, key=("alt_value", k - 1))
        else:
            book.formula(ws[f"B{r}"], guard(f"$B$8*Inputs!$F${pr}"), results.alt_value[k - 1],
                         money, key=("alt_value", k - 1))
        price = results.price_s if k == 0 else results.alt_price[k - 1]
        book.formula(ws[f"C{r}"], guard(f"Inputs!$D${pr}+$B$8*Inputs!$E${pr}"), price, money,
                     key=("price", k))
        incentive = results.incentive_s if k == 0 else results.alt_incentive[k - 1]
        book.formula(ws[f"D{r}"], guard(f"B{r}-C{r}"), incentive, money, key=("incentive", k))
    ours = a + 1
    alt_first, alt_last = a + 2, a + len(parties)
    alts = lambda col: f"${col}${alt_first}:${col}${alt_last}"  # noqa: E731
    nb_match = f"MATCH(MAX({alts('D')}),{alts('D')},0)"
    n = plan.keys
    nb = results.next_best
    key_rows = [
        ("next_best", "Next best alternative (largest incentive)",
         guard(f"INDEX({alts('A')},{nb_match})"), spec.alternatives[nb].label, None),
        ("value_nb", "Value of the next best", guard(f"INDEX({alts('B')},{nb_match})"),
         results.alt_value[nb], money),
        ("price_nb", "Price of the next best", guard(f"INDEX({alts('C')},{nb_match})"),
         results.alt_price[nb], money),
        ("incentive_nb", "Customer's incentive to buy the next best",
         guard(f"MAX({alts('D')})"), results.incentive_nb, money),
        ("incentive_s", "Customer's incentive to buy ours", guard(f"D{ours}"),
         results.incentive_s, money),
        ("differential", "Value differential vs the next best (buy when > 0)",
         guard(f"D{ours}-MAX({alts('D')})"), results.differential, money),
        ("breakeven_price", f"Break-even price of ours over {h} years",
         guard(f"{{price_nb}}+(B{ours}-{{value_nb}})"), results.breakeven_price, money),
        ("roi", "ROI on the extra spend",
         guard(f"IF(C{ours}-{{price_nb}}>0,((B{ours}-{{value_nb}})-(C{ours}-{{price_nb}}))/"
               f'(C{ours}-{{price_nb}}),"")'), results.roi, "#,##0%"),
        ("payback", "Payback (years)", None, results.payback, "0.00"),
        ("npv", f"NPV of choosing ours at {spec.discount_rate:.1%} over {h} years",
         guard(f"{vplan.outlay}+NPV($B$9,{vplan.flows_after_0})"), results.npv, money),
    ]
    # rows are laid out first so that formulas can name each other's cells
    refs = {key: f"B{n + k}" for k, (key, *_rest) in enumerate(key_rows)}
    # Payback (model.payback): the year-0 flow f0 = -outlay, then y in every year; the
    # cumulative flow rises only when y > 0.  No payback is an empty result, never text in
    # place of a number; the cell beside it says why ("never", "not within N years").
    f0, yr = vplan.outlay, vplan.yearly
    payback = f'IF({yr}>0,IF({f0}>=0,0,IF(-{f0}/{yr}<=$B$8,-{f0}/{yr},"")),"")'
    payback_note = (f'IF({yr}>0,IF({f0}>=0,"",IF(-{f0}/{yr}<=$B$8,"",'
                    f'"{model.not_within(h)}")),"{model.NEVER}")')
    notes = {"roi": (f'IF(C{ours}-{{price_nb}}>0,"","{model.NOT_DEFINED}")', results.roi_note),
             "payback": (payback_note, results.payback_note)}
    for k, (key, label, formula, val, fmt) in enumerate(key_rows):
        r = n + k
        if key == "payback":
            formula = guard(payback)
        set_text(ws.cell(r, 1), label)
        book.formula(ws[refs[key]], formula.format(**refs), _number_or_empty(val), fmt,
                     key=("key", key))
        if key != "next_best":  # a name spills right, over the empty cells beside it
            ws[refs[key]].alignment = Alignment(horizontal="right")
        layout.results[key] = refs[key]
        if key in notes:
            note, text = notes[key]
            book.formula(ws[f"C{r}"], f"=IF($B$7,{note.format(**refs)},\"\")", text,
                         key=("note", key))
            layout.results[f"{key}_note"] = f"C{r}"
    for key in ("differential", "incentive_s"):
        ws[refs[key]].font = BOLD
    refs = {key: f"$B${n + k}" for k, (key, *_rest) in enumerate(key_rows)}
    refs.update(roi_note=f"$C${n + 7}", payback_note=f"$C${n + 8}",
                total_per_year=f"$D${t}")
    return refs


def _number_or_empty(value):
    """A result as its cell shows it: NaN (no result) is an empty cell, not a number."""
    return "" if isinstance(value, float) and math.isnan(value) else value
