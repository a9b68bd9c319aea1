"""Write a share-safe value calculator from a spec: formulas *and* their values.

The workbook uses only functions that Excel 2016 and LibreOffice 7.4 both
compute (ARCHITECTURE.md, share-safe workbooks).  Every formula cell is
written together with the value the Python model computes for it, so the
file shows numbers before any spreadsheet program has recalculated it; the
tests recompute it in LibreOffice and the formulas engine to prove the two
agree.

Sheets: Summary (one printed page), Inputs, Value, Sensitivity, About.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from cvp_xl import wordeq
from cvp_xl._version import __version__
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.calculator import digests, model
from cvp_xl.workbooks.calculator.spec import CONSERVATIVE_FACTOR, SCENARIOS, Spec
from cvp_xl.workbooks.style import (
    BOLD,
    HEAD_FILL,
    HEAD_FONT,
    INPUT_BORDER,
    INPUT_FILL,
    MONEY,
    TITLE_FONT,
    UNLOCKED,
)
from cvp_xl.xlsx.write import set_text

__all__ = ["build", "template_print", "Layout", "INPUT_FIRST_ROW", "TEMPLATE_VERSION",
           "CARRIED_SHEET", "BUILT_FORMAT"]

TEMPLATE_VERSION = f"calculator/2 (cvp-xl {__version__})"
BUILT_FORMAT = "%Y-%m-%d %H:%M:%S"
INPUT_FIRST_ROW = 5
CARRIED_SHEET = "Carried over"
CARRIED_COLUMNS = ("Input", "Unit", "Base", "Low", "High", "Source")
CHECK_INPUTS = "check inputs"
OK = "ok"


@dataclass
class Layout:
    """Where things are, for the checker, the batch writer and the tests."""

    input_rows: dict = field(default_factory=dict)     # input name -> row on Inputs
    price_rows: dict = field(default_factory=dict)     # party name -> row on Inputs
    element_rows: dict = field(default_factory=dict)   # element name -> row on Value
    results: dict = field(default_factory=dict)        # result key -> Summary cell


def _header(ws, row: int, titles: list[str]) -> None:
    if any(len(t) > 16 for t in titles[1:]):
        ws.row_dimensions[row].height = 30  # room for a wrapped title
    for col, title in enumerate(titles, start=1):
        cell = ws.cell(row, col)
        set_text(cell, title)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _input_cell(cell, value, number_format: str = "General") -> None:
    cell.value = value
    cell.fill, cell.border, cell.protection = INPUT_FILL, INPUT_BORDER, UNLOCKED
    cell.number_format = number_format


def _guard(formula: str) -> str:
    """Show 'check inputs' instead of a cascade of #VALUE! when an input is bad."""
    return f'=IF(Summary!$B$7,{formula},"{CHECK_INPUTS}")'


def build(spec: Spec, path: str | Path, given: dict | None = None, scenario: str = "Base",
          built_at: dt.datetime | None = None, customer: str | None = None,
          results: model.Results | None = None, sens: list[dict] | None = None,
          properties: dict | None = None, cached: bool = True,
          carried: list[dict] | None = None) -> Layout:
    """Write the calculator for ``spec`` to ``path`` (atomically), with cached values.

    ``given`` holds a customer's own figures (input name -> number) that
    replace the spec's base values; ``scenario`` is the case selected when
    the file opens.  ``results`` and ``sens`` may be passed in when they were
    computed already (the batch path evaluates all customers at once);
    ``properties`` are written as custom document properties (text).
    ``cached=False`` writes the formulas alone (the benchmark's floor).
    ``carried`` lists inputs of an earlier version of the spec that this one
    no longer has (``cvp-xl upgrade``): they are kept in a sheet of their own.
    """
    built_at = built_at or dt.datetime.now(dt.timezone.utc)
    book, layout = _workbook(spec, given, scenario, built_at, customer, results, sens, carried)
    wb = book.wb
    if not cached:  # the benchmark's floor: the same workbook, formulas only
        from cvp_xl.xlsx.cached import atomic_save_workbook

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_save_workbook(wb, path)
        return layout
    from openpyxl.packaging.custom import StringProperty

    record = digests.fingerprint(wb, _build_params(spec, given, customer, built_at, carried))
    properties = {**(properties or {}), digests.DIGEST_PROPERTY: digests.write_record(wb, record)}
    for key, text in properties.items():
        wb.custom_doc_props.append(StringProperty(name=key, value=str(text)))
    book.save(path)
    return layout


def _build_params(spec, given, customer, built_at, carried) -> dict:
    """What a rebuild needs besides the spec: the same customer, time, inputs and carried rows.

    Each input's base, low and high as built decide which end the Low case takes and the
    order of the Sensitivity rows.
    """
    base = model.input_values(spec, "Base", given)
    return {"customer": customer or "", "built_at": built_at.strftime(BUILT_FORMAT),
            "inputs": {i.name: [float(base[i.name]), i.low, i.high] for i in spec.inputs},
            "carried": list(carried or [])}


def template_print(spec: Spec, params: dict, with_book: bool = False):
    """The record of the template that ``spec`` and a file's build parameters make.

    ``params`` is the ``build`` part of the record a calculator carries
    (:func:`cvp_xl.workbooks.calculator.digests.read_record`); inputs it does not
    name keep the spec's values.  Nothing is written.  With ``with_book`` the
    rebuilt openpyxl workbook comes too: ``(record, workbook)``.
    """
    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    given, changed = {}, []
    for i in spec.inputs:
        values = inputs.get(i.name)
        if isinstance(values, list) and len(values) == 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            given[i.name] = float(values[0])
            i = replace(i, low=float(values[1]), high=float(values[2]))
        changed.append(i)
    spec = replace(spec, inputs=tuple(changed))
    try:
        built_at = dt.datetime.strptime(str(params.get("built_at")), BUILT_FORMAT)
    except ValueError:
        built_at = dt.datetime.now(dt.timezone.utc)
    carried = params.get("carried") if isinstance(params.get("carried"), list) else None
    book, _ = _workbook(spec, given, "Base", built_at, str(params.get("customer") or "") or None,
                        None, None, carried or None)
    record = digests.fingerprint(book.wb, _build_params(spec, given, params.get("customer"),
                                                        built_at, carried))
    return (record, book.wb) if with_book else record


def _workbook(spec, given, scenario, built_at, customer, results, sens, carried):
    """The calculator's workbook in memory, every formula with its value: (book, layout)."""
    results = results if results is not None else model.evaluate(spec, given, scenario)
    sens = sens if sens is not None else model.sensitivity(spec, given)
    base_inputs = model.input_values(spec, "Base", given)
    book = Book()
    layout = Layout()
    wb = book.wb
    summary = wb.active
    summary.title = "Summary"
    inputs = wb.create_sheet("Inputs")
    value = wb.create_sheet("Value")
    sensitivity = wb.create_sheet("Sensitivity")
    about = wb.create_sheet("About")

    _inputs_sheet(spec, inputs, book, layout, results, base_inputs, model.lowers_value(sens))
    _value_sheet(spec, value, book, layout, results)
    _summary_sheet(spec, summary, book, layout, results, scenario, customer)
    _sensitivity_sheet(spec, sensitivity, book, layout, sens)
    _about_sheet(spec, about, built_at, customer)
    if carried:
        _carried_sheet(wb.create_sheet(CARRIED_SHEET), carried)
    for ws in wb.worksheets:
        ws.protection.sheet = True  # no password: Review > Unprotect Sheet
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
    return book, layout


# ---------------------------------------------------------------------------------- Inputs


def _check_formula(r: int, lo, hi) -> str:
    rng = f"D{r}:F{r}"
    limits = []
    if lo is not None:
        limits.append(f"MIN({rng})<G{r}")
    if hi is not None:
        limits.append(f"MAX({rng})>H{r}")
    outside = f"OR({','.join(limits)})" if len(limits) > 1 else (limits or ["FALSE"])[0]
    allowed = ('"allowed "&G{r}&" to "&H{r}' if lo is not None and hi is not None else
               '"allowed at least "&G{r}' if lo is not None else
               '"allowed at most "&H{r}' if hi is not None else '""').format(r=r)
    return (f'=IF(COUNTBLANK({rng})>0,"blank: base, low and high are needed",'
            f'IF(COUNT({rng})<3,"not a number",IF({outside},"outside the "&{allowed},"{OK}")))')


def _number_format(unit: str) -> str:
    return "0.0%" if unit.strip() in ("%", "percent") else "#,##0.##"


def _inputs_sheet(spec, ws, book, layout, results, base_inputs, lowers) -> None:
    set_text(ws["A1"], f"Inputs — {spec.name}")
    ws["A1"].font = TITLE_FONT
    set_text(ws["A2"], "Yellow cells are inputs: put in the customer's own figures. Each shows "
                       "its unit, allowed range and source.")
    _header(ws, INPUT_FIRST_ROW - 1, ["Input", "Unit", "In use", "Base", "Low", "High", "Min",
                                      "Max", "Source", "Check", "Problem", "Problems so far"])
    first = INPUT_FIRST_ROW
    last = first + len(spec.inputs) - 1
    for k, i in enumerate(spec.inputs):
        r = first + k
        layout.input_rows[i.name] = r
        set_text(ws.cell(r, 1), i.name)
        set_text(ws.cell(r, 2), i.unit)
        low_col, high_col = ("E", "F") if lowers[i.name] else ("F", "E")
        book.formula(ws[f"C{r}"], f'=IF(Summary!$B$4="Low",{low_col}{r},'
                                  f'IF(Summary!$B$4="High",{high_col}{r},D{r}))',
                     results.inputs[i.name], _number_format(i.unit))
        fmt = _number_format(i.unit)
        _input_cell(ws.cell(r, 4), float(base_inputs[i.name]), fmt)
        _input_cell(ws.cell(r, 5), i.low, fmt)
        _input_cell(ws.cell(r, 6), i.high, fmt)
        if i.min is not None:
            ws.cell(r, 7, i.min)
        if i.max is not None:
            ws.cell(r, 8, i.max)
        set_text(ws.cell(r, 9), i.source)
        book.formula(ws[f"J{r}"], _check_formula(r, i.min, i.max), OK)
        book.formula(ws[f"K{r}"], f'=IF(J{r}="{OK}","",A{r}&": "&J{r})', "")
        book.formula(ws[f"L{r}"], f'=COUNTIF($J${first}:J{r},"<>{OK}")', 0)
        dv_kwargs = {}
        if i.min is not None and i.max is not None:
            dv_kwargs = {"operator": "between", "formula1": repr(i.min), "formula2": repr(i.max)}
        elif i.min is not None:
            dv_kwargs = {"operator": "greaterThanOrEqual", "formula1": repr(i.min)}
        elif i.max is not None:
            dv_kwargs = {"operator": "lessThanOrEqual", "formula1": repr(i.max)}
        dv = DataValidation(type="decimal", allow_blank=False, showErrorMessage=True,
                            errorTitle="Outside the allowed range",
                            error=f"{i.name}: {i.unit}, allowed {_range(i)}"[:255],
                            promptTitle=i.name[:32], prompt=f"{i.unit}. {i.source}"[:255],
                            **dv_kwargs)
        dv.add(f"D{r}:F{r}")
        ws.add_data_validation(dv)
    # Prices: also inputs, also checked.
    p0 = last + 3
    set_text(ws.cell(p0 - 1, 1), f"Prices ({spec.currency})")
    ws.cell(p0 - 1, 1).font = BOLD
    _header(ws, p0, ["Offering or alternative", "", "", "One-time", "Recurring per year",
                     "Value per year vs reference", "", "", "", "Check", "Problem",
                     "Problems so far"])
    parties = (spec.offering,) + spec.alternatives
    for k, party in enumerate(parties):
        r = p0 + 1 + k
        layout.price_rows[party.name] = r
        set_text(ws.cell(r, 1), party.name)
        _input_cell(ws.cell(r, 4), party.one_time, MONEY)
        _input_cell(ws.cell(r, 5), party.recurring, MONEY)
        if k >= 2:  # the offering and the reference have no value of their own here
            _input_cell(ws.cell(r, 6), party.value_per_year, MONEY)
        else:
            ws.cell(r, 6, 0)
        rng = f"D{r}:F{r}"
        book.formula(ws[f"J{r}"], f'=IF(COUNTBLANK({rng})>0,"blank",IF(COUNT({rng})<3,'
                                  f'"not a number",IF(MIN(D{r}:E{r})<0,"negative price",'
                                  f'"{OK}")))', OK)
        book.formula(ws[f"K{r}"], f'=IF(J{r}="{OK}","",A{r}&": "&J{r})', "")
        book.formula(ws[f"L{r}"], f'=COUNTIF($J${p0 + 1}:J{r},"<>{OK}")', 0)
    layout.results["inputs_range"] = (first, last)
    layout.results["prices_range"] = (p0 + 1, p0 + len(parties))
    widths = {"A": 44, "B": 14, "C": 12, "D": 12, "E": 12, "F": 12, "G": 9, "H": 9, "I": 40,
              "J": 26, "K": 30, "L": 10}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    ws.column_dimensions["K"].hidden = True
    ws.column_dimensions["L"].hidden = True
    ws.freeze_panes = f"B{INPUT_FIRST_ROW}"


def _range(i) -> str:
    if i.min is not None and i.max is not None:
        return f"{i.min:g} to {i.max:g}"
    if i.min is not None:
        return f"at least {i.min:g}"
    if i.max is not None:
        return f"at most {i.max:g}"
    return "any number"


# ----------------------------------------------------------------------------------- Value


def _refs(spec, layout, column: str, override: tuple[str, str] | None = None) -> dict:
    refs = {n: f"Inputs!${column}${r}" for n, r in layout.input_rows.items()}
    if override:
        name, col = override
        refs[name] = f"Inputs!${col}${layout.input_rows[name]}"
    return refs


def _element_expr(el, refs) -> str:
    return _formula(el.equation, tuple(sorted(refs.items())))


@functools.lru_cache(maxsize=4096)
def _formula(equation: str, refs: tuple) -> str:
    """The native expression of a word equation; the same for every customer of a batch."""
    return wordeq.to_formula(equation, dict(refs))[1:]


def _value_sheet(spec, ws, book, layout, results) -> None:
    set_text(ws["A1"], f"Value by element — {spec.name}")
    ws["A1"].font = TITLE_FONT
    set_text(ws["A2"], "Each value element: its word equation as text, and the formula that "
                       "computes it from the inputs in use.")
    _header(ws, 4, ["Value element", "Category", "Tangibility", "Word equation", "Unit",
                    "Periods per year", f"Value per year ({spec.currency})"])
    names = spec.input_names
    refs = _refs(spec, layout, "C")
    for k, el in enumerate(spec.elements):
        r = 5 + k
        layout.element_rows[el.name] = r
        set_text(ws.cell(r, 1), el.name)
        set_text(ws.cell(r, 2), el.category)
        set_text(ws.cell(r, 3), "tangible" if el.tangible else "intangible")
        set_text(ws.cell(r, 4), el.equation)
        ws.cell(r, 4).alignment = Alignment(wrap_text=True, vertical="top")
        set_text(ws.cell(r, 5), el.unit)
        factor = model.annual_factor(el.unit)
        ws.cell(r, 6, factor)
        used = wordeq.parse(el.equation, names).quantities
        checks = ",".join(f'Inputs!$J${layout.input_rows[q]}="{OK}"' for q in used) or "TRUE"
        expr = _element_expr(el, refs)
        book.formula(ws[f"G{r}"],
                     f'=IF(AND({checks}),({expr})*F{r}*Summary!$B$6,"{CHECK_INPUTS}")',
                     results.elements[el.name], MONEY)
    for col, w in {"A": 36, "B": 11, "C": 11, "D": 70, "E": 14, "F": 9, "G": 16}.items():
        ws.column_dimensions[col].width = w


# --------------------------------------------------------------------------------- Summary


def _summary_sheet(spec, ws, book, layout, results, scenario, customer) -> None:
    h = spec.horizon_years
    first, last = layout.results["inputs_range"]
    p_first, p_last = layout.results["prices_range"]
    set_text(ws["A1"], spec.name)
    ws["A1"].font = TITLE_FONT
    set_text(ws["A2"], "Customer")
    set_text(ws["B2"], customer or "")
    set_text(ws["A3"], f"{spec.offering.name} vs {spec.alternatives[0].name}")
    set_text(ws["A4"], "Scenario (Base, Low, High, Conservative)")
    _input_cell(ws["B4"], scenario)
    ws["B4"].value = scenario
    ws["B4"].data_type = "s"
    dv = DataValidation(type="list", formula1='"' + ",".join(SCENARIOS) + '"', allow_blank=False,
                        showErrorMessage=True, error="Choose Base, Low, High or Conservative")
    dv.add("B4")
    ws.add_data_validation(dv)
    set_text(ws["A5"], "Inputs")
    set_text(ws["A6"], "Benefit factor (Conservative halves every claim)")
    set_text(ws["A7"], "All inputs and prices valid")
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
    book.formula(ws["B6"], f'=IF(B4="Conservative",{CONSERVATIVE_FACTOR},1)', factor)
    set_text(ws["A8"], "Horizon (years)")
    ws["B8"] = h
    set_text(ws["A9"], "Discount rate")
    ws["B9"] = spec.discount_rate
    ws["B9"].number_format = "0.0%"
    set_text(ws["A10"], "Currency")
    set_text(ws["B10"], spec.currency)

    # Value by element
    top = 12
    _header(ws, top, ["Value element (per year)", "Category", "Tangibility",
                      f"Value per year ({spec.currency})"])
    for k, el in enumerate(spec.elements):
        r = top + 1 + k
        vr = layout.element_rows[el.name]
        set_text(ws.cell(r, 1), el.name)
        set_text(ws.cell(r, 2), el.category)
        set_text(ws.cell(r, 3), "tangible" if el.tangible else "intangible")
        book.formula(ws[f"D{r}"], f"=Value!G{vr}", results.elements[el.name], MONEY)
    e_first, e_last = top + 1, top + len(spec.elements)
    t = e_last + 1
    set_text(ws.cell(t, 1), "Total value per year")
    ws.cell(t, 1).font = BOLD
    book.formula(ws[f"D{t}"], _guard(f"SUM(D{e_first}:D{e_last})"), results.total_per_year,
                 MONEY)
    ws[f"D{t}"].font = BOLD
    layout.results["total_per_year"] = f"D{t}"

    # Offering and alternatives over the horizon
    a = t + 2
    _header(ws, a, [f"Over {h} years ({spec.currency})", "Value", "Price", "Incentive"])
    parties = (spec.offering,) + spec.alternatives
    for k, party in enumerate(parties):
        r = a + 1 + k
        pr = layout.price_rows[party.name]
        set_text(ws.cell(r, 1), party.name + (" (ours)" if k == 0 else ""))
        if k == 0:
            book.formula(ws[f"B{r}"], _guard(f"$B$8*D{t}"), results.value_s, MONEY)
            book.formula(ws[f"C{r}"], _guard(f"Inputs!$D${pr}+$B$8*Inputs!$E${pr}"),
                         results.price_s, MONEY)
        else:
            j = k - 1
            book.formula(ws[f"B{r}"], _guard(f"$B$8*Inputs!$F${pr}"), results.alt_value[j],
                         MONEY)
            book.formula(ws[f"C{r}"], _guard(f"Inputs!$D${pr}+$B$8*Inputs!$E${pr}"),
                         results.alt_price[j], MONEY)
        incentive = results.incentive_s if k == 0 else results.alt_incentive[k - 1]
        book.formula(ws[f"D{r}"], _guard(f"B{r}-C{r}"), incentive, MONEY)
    ours = a + 1
    alt_first, alt_last = a + 2, a + len(parties)
    alts = lambda col: f"${col}${alt_first}:${col}${alt_last}"  # noqa: E731
    nb_match = f"MATCH(MAX({alts('D')}),{alts('D')},0)"
    n = alt_last + 2
    nb = results.next_best
    nb_alt = spec.alternatives[nb]
    key_rows = [
        ("next_best", "Next best alternative (largest incentive)",
         _guard(f"INDEX({alts('A')},{nb_match})"), nb_alt.name, None),
        ("value_nb", "Value of the next best", _guard(f"INDEX({alts('B')},{nb_match})"),
         results.alt_value[nb], MONEY),
        ("price_nb", "Price of the next best", _guard(f"INDEX({alts('C')},{nb_match})"),
         results.alt_price[nb], MONEY),
        ("incentive_nb", "Customer's incentive to buy the next best",
         _guard(f"MAX({alts('D')})"), results.incentive_nb, MONEY),
        ("incentive_s", "Customer's incentive to buy ours", _guard(f"D{ours}"),
         results.incentive_s, MONEY),
        ("differential", "Value differential vs the next best (buy when > 0)",
         _guard(f"D{ours}-MAX({alts('D')})"), results.differential, MONEY),
        ("breakeven_price", f"Break-even price of ours over {h} years",
         _guard(f"{{price_nb}}+(B{ours}-{{value_nb}})"), results.breakeven_price, MONEY),
        ("roi", "ROI on the extra spend",
         _guard(f"IF(C{ours}-{{price_nb}}>0,((B{ours}-{{value_nb}})-(C{ours}-{{price_nb}}))/"
                f'(C{ours}-{{price_nb}}),"")'), results.roi, "0%"),
        ("payback", "Payback (years)", None, results.payback, "0.0"),
        ("npv", None, None, results.npv, MONEY),
    ]
    # rows are laid out first so that formulas can name each other's cells
    refs = {key: f"B{n + k}" for k, (key, *_rest) in enumerate(key_rows)}
    cf = n + len(key_rows) + 1  # cash-flow block below
    outlay_ref, yearly_ref = f"B{cf + 1}", f"C{cf + 1}"
    # Payback (model.payback): the year-0 flow f0 = -outlay, then y in every year; the
    # cumulative flow rises only when y > 0.  No payback is an empty result, never text in
    # place of a number; the cell beside it says why ("never", "not within N years").
    f0, yr = outlay_ref, yearly_ref
    payback = f'IF({yr}>0,IF({f0}>=0,0,IF(-{f0}/{yr}<=$B$8,-{f0}/{yr},"")),"")'
    payback_note = (f'IF({yr}>0,IF({f0}>=0,"",IF(-{f0}/{yr}<=$B$8,"",'
                    f'"{model.not_within(h)}")),"{model.NEVER}")')
    notes = {"roi": (f'IF(C{ours}-{{price_nb}}>0,"","{model.NOT_DEFINED}")', results.roi_note),
             "payback": (payback_note, results.payback_note)}
    for k, (key, label, formula, val, fmt) in enumerate(key_rows):
        r = n + k
        if key == "payback":
            formula = _guard(payback)
        if key == "npv":
            label = f"NPV of choosing ours at {spec.discount_rate:.1%} over {h} years"
            formula = _guard(f"{outlay_ref}+NPV($B$9,{yearly_ref}:"
                             f"{get_column_letter(2 + h)}{cf + 1})")
        set_text(ws.cell(r, 1), label)
        book.formula(ws[refs[key]], formula.format(**refs), _number_or_empty(val), fmt)
        layout.results[key] = refs[key]
        if key in notes:
            note, text = notes[key]
            book.formula(ws[f"C{r}"], f"=IF($B$7,{note.format(**refs)},\"\")", text)
            layout.results[f"{key}_note"] = f"C{r}"
    for key in ("differential", "incentive_s"):
        ws[refs[key]].font = BOLD
    # cash flows of choosing ours over the next best
    set_text(ws.cell(cf, 1), "Net cash flow of ours vs the next best, by year")
    ws.cell(cf, 1).font = BOLD
    for y in range(h + 1):
        ws.cell(cf, 2 + y, y).font = BOLD
    set_text(ws.cell(cf + 1, 1), f"Cash flow ({spec.currency})")
    o_pr = layout.price_rows[spec.offering.name]
    book.formula(ws[outlay_ref], _guard(f"-(Inputs!$D${o_pr}-INDEX(Inputs!$D${p_first + 1}:"
                                        f"$D${p_last},{nb_match}))"),
                 results.cash_flows[0], MONEY)
    yearly_formula = _guard(f"(D{t}-INDEX(Inputs!$F${p_first + 1}:$F${p_last},{nb_match}))-"
                            f"(Inputs!$E${o_pr}-INDEX(Inputs!$E${p_first + 1}:$E${p_last},"
                            f"{nb_match}))")
    book.formula(ws[yearly_ref], yearly_formula, results.cash_flows[1], MONEY)
    for y in range(2, h + 1):
        ref = f"{get_column_letter(2 + y)}{cf + 1}"
        book.formula(ws[ref], f"={yearly_ref}", results.cash_flows[y], MONEY)
    layout.results["cash_flows"] = f"B{cf + 1}:{get_column_letter(2 + h)}{cf + 1}"

    chart = BarChart()
    chart.type = "bar"
    chart.title = f"Value per year by element ({spec.currency})"
    chart.legend = None
    chart.add_data(Reference(ws, min_col=4, min_row=e_first, max_row=e_last),
                   titles_from_data=False)
    chart.set_categories(Reference(ws, min_col=1, min_row=e_first, max_row=e_last))
    chart.height, chart.width = 6.5, 16
    ws.add_chart(chart, f"A{cf + 3}")

    for col, w in {"A": 52, "B": 16, "C": 16, "D": 18}.items():
        ws.column_dimensions[col].width = w
    for y in range(2, h + 2):
        ws.column_dimensions[get_column_letter(2 + y)].width = 11
    ws.print_area = f"A1:{get_column_letter(max(4, 2 + h))}{cf + 17}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _number_or_empty(value):
    """A result as its cell shows it: NaN (no result) is an empty cell, not a number."""
    return "" if isinstance(value, float) and math.isnan(value) else value


# ----------------------------------------------------------------------------- Sensitivity


def _sensitivity_sheet(spec, ws, book, layout, sens) -> None:
    set_text(ws["A1"], f"Sensitivity of the total value per year — {spec.name}")
    ws["A1"].font = TITLE_FONT
    set_text(ws["A2"], "Each input at its low and at its high, the others at base "
                       "(no conservative halving). Sorted by the swing at the built values.")
    set_text(ws["A3"], "Total value per year at base")
    base_refs = _refs(spec, layout, "D")
    factors = {el.name: f"Value!$F${layout.element_rows[el.name]}" for el in spec.elements}

    def total(refs) -> str:
        return "+".join(f"({_element_expr(el, refs)})*{factors[el.name]}" for el in spec.elements)

    book.formula(ws["D3"], _guard(total(base_refs)), sens[0]["base"] if sens else 0, MONEY)
    _header(ws, 5, ["Input", "Low", "High", "Total at low", "Total at high", "Swing",
                    "Low - base", "High - base"])
    ordered = sorted(sens, key=lambda s: -abs(s["swing"]))
    for k, s in enumerate(ordered):
        r = 6 + k
        ir = layout.input_rows[s["input"]]
        set_text(ws.cell(r, 1), s["input"])
        # an explicit format: LibreOffice would give a General formula its source's format
        fmt = _number_format(spec.input(s["input"]).unit)
        book.formula(ws[f"B{r}"], f"=Inputs!$E${ir}", s["low"], fmt)
        book.formula(ws[f"C{r}"], f"=Inputs!$F${ir}", s["high"], fmt)
        book.formula(ws[f"D{r}"], _guard(total(_refs(spec, layout, "D", (s["input"], "E")))),
                     s["at_low"], MONEY)
        book.formula(ws[f"E{r}"], _guard(total(_refs(spec, layout, "D", (s["input"], "F")))),
                     s["at_high"], MONEY)
        book.formula(ws[f"F{r}"], _guard(f"ABS(E{r}-D{r})"), s["swing"], MONEY)
        book.formula(ws[f"G{r}"], _guard(f"D{r}-$D$3"), s["at_low"] - s["base"], MONEY)
        book.formula(ws[f"H{r}"], _guard(f"E{r}-$D$3"), s["at_high"] - s["base"], MONEY)
    last = 5 + len(ordered)
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.title = "Tornado: change in total value per year"
    chart.add_data(Reference(ws, min_col=7, max_col=8, min_row=5, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=6, max_row=last))
    chart.y_axis.title = spec.currency
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, f"A{last + 3}")
    for col, w in {"A": 44, "B": 10, "C": 10, "D": 14, "E": 14, "F": 14, "G": 14,
                   "H": 14}.items():
        ws.column_dimensions[col].width = w


# ----------------------------------------------------------------------------------- About


def _about_sheet(spec, ws, built_at, customer) -> None:
    rows = [
        ("Calculator", spec.name),
        ("Customer", customer or ""),
        ("Spec", Path(spec.path).name),
        ("Spec version", spec.version),
        ("Spec digest (sha256, first 16)", spec.digest),
        ("Template version", TEMPLATE_VERSION),
        ("Built (UTC)", built_at.strftime(BUILT_FORMAT)),
        ("Scenarios", "Base: the yellow Base column. Low: every input at the end of its range "
                      "that lowers the total value (High: the other end), as found when the file "
                      "was built. Conservative: Base with every benefit claim halved."),
        ("Definitions", "Value elements measure ours against the reference alternative. "
                        "Differential = incentive to buy ours - incentive to buy the next best "
                        "(incentive = value - price over the horizon). ROI = (extra value - "
                        "extra price) / extra price vs the next best; none when ours costs no "
                        "more. Payback = the time until the cumulative net cash flow of ours "
                        "vs the next best first reaches zero, linear within the year: the "
                        "extra paid up front / the net cash flow of a year (0 when nothing "
                        "more is paid up front); none (the cell beside it says 'never') when "
                        "that yearly flow is 0 or negative, whatever is paid up front, and "
                        "none within the horizon when it is later. NPV uses Excel's NPV "
                        "(first year discounted once) plus the year-0 flow."),
        ("How to verify", "Run `cvp-xl check` on this file (add `--spec` with the spec named "
                          "above to rebuild the template from it). It compares every formula "
                          "and every protected cell with the template this file was built "
                          f"from, whose digests are kept in the hidden sheet "
                          f"'{digests.DIGEST_SHEET}', and lists by cell: a formula typed over "
                          "or edited, a protected cell changed or unlocked, a sheet "
                          "unprotected, a row or sheet added, an input whose low, base and "
                          "high are out of order. 'no problems found' means the formulas are "
                          "the template's. The digests show edits made in a spreadsheet "
                          "program; they are not a signature: with the spec at hand, the "
                          "rebuilt template decides."),
    ]
    set_text(ws["A1"], "About this calculator")
    ws["A1"].font = TITLE_FONT
    for r, (label, text) in enumerate(rows, start=3):
        set_text(ws.cell(r, 1), label)
        ws.cell(r, 1).font = BOLD
        set_text(ws.cell(r, 2), text)
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top")
    start = len(rows) + 5
    set_text(ws.cell(start - 1, 1), "The spec this calculator was built from")
    ws.cell(start - 1, 1).font = BOLD
    for k, line in enumerate(spec.text.splitlines()):
        set_text(ws.cell(start + k, 1), line)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 100


def _carried_sheet(ws, carried: list[dict]) -> None:
    set_text(ws["A1"], "Inputs of an earlier version of this calculator that the current one "
                       "no longer uses, kept as the customer entered them.")
    _header(ws, 3, list(CARRIED_COLUMNS))
    for r, item in enumerate(carried, start=4):
        for c, key in enumerate(CARRIED_COLUMNS, start=1):
            value = item.get(key.lower())
            if isinstance(value, str):
                set_text(ws.cell(r, c), value)
            else:
                ws.cell(r, c, value)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["F"].width = 40
