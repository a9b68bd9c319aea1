"""The Inputs sheet: every input with its unit, base/low/high, allowed range and source; the
prices of the offering and the alternatives; a check of each row in words.

When the spec records research evidence for some input (``evidence:``, written by ``cvp-xl
research``), two more columns, M and N, show its number of observations and its methods
(blank for an input without evidence); a spec without evidence keeps the sheet as it was, so
that a calculator built before evidence existed still matches its rebuilt template.

Likewise, when an alternative is not a competitor (``kind: status_quo`` or ``make``), the
prices block shows each party's kind (column B), the cost of the problem per year a status quo
leaves (G, "Problem cost per year") and the months a make alternative takes to build (H); these
come from the spec and are not inputs.  A status quo's prices and value are a plain 0 (it
carries no price); a make alternative's one-time and recurring prices are its build cost and
upkeep."""

from __future__ import annotations

from openpyxl.worksheet.datavalidation import DataValidation

from cvp_xl.workbooks.calculator.parts import (
    OK,
    Theme,
    header,
    input_cell,
    input_format,
    money_format,
    print_setup,
    wrapped_height,
)
from cvp_xl.workbooks.style import BOLD, WRAP
from cvp_xl.xlsx.write import set_text

#: Column widths (characters) of the Inputs sheet; the source (I) and the research methods (N)
#: wrap within theirs.
_WIDTHS = {"A": 40, "B": 14, "C": 12, "D": 13, "E": 13, "F": 13, "G": 9, "H": 9, "I": 36,
           "J": 22, "K": 30, "L": 10}
_EVIDENCE_WIDTHS = {"M": 13, "N": 30}

__all__ = ["inputs_sheet", "INPUT_FIRST_ROW", "check_formula", "input_formats",
           "EVIDENCE_COLUMNS"]

INPUT_FIRST_ROW = 5
#: The headers of the evidence columns (M and N), shown when some input has evidence.
EVIDENCE_COLUMNS = ("n (research)", "Research methods")
#: What column B of the prices block says of each kind of party.
KIND_WORDS = {"offering": "ours", "competitor": "competitor", "status_quo": "status quo",
              "make": "make: build, upkeep"}


def check_formula(r: int, lo, hi) -> str:
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


def input_formats(spec, base_inputs) -> dict[str, str]:
    """The number format of each input, from its unit and the spec's own figures."""
    return {i.name: input_format(i.unit, [float(base_inputs[i.name]), i.low, i.high, i.min,
                                          i.max]) for i in spec.inputs}


def inputs_sheet(spec, ws, book, layout, results, base_inputs, lowers, theme: Theme,
                 formats: dict[str, str]) -> None:
    money = money_format(spec.currency)
    set_text(ws["A1"], f"Inputs — {spec.name}")
    ws["A1"].font = theme.title_font
    set_text(ws["A2"], "Yellow cells are inputs: put in the customer's own figures. Each shows "
                       "its unit, allowed range and source.")
    header(ws, INPUT_FIRST_ROW - 1, ["Input", "Unit", "In use", "Base", "Low", "High", "Min",
                                     "Max", "Source", "Check", "Problem", "Problems so far"],
           theme)
    evidence = any(i.evidence is not None for i in spec.inputs)
    if evidence:
        header(ws, INPUT_FIRST_ROW - 1, list(EVIDENCE_COLUMNS), theme, col=13)
    first = INPUT_FIRST_ROW
    last = first + len(spec.inputs) - 1
    for k, i in enumerate(spec.inputs):
        r = first + k
        layout.input_rows[i.name] = r
        set_text(ws.cell(r, 1), i.name)
        set_text(ws.cell(r, 2), i.unit)
        fmt = formats[i.name]
        low_col, high_col = ("E", "F") if lowers[i.name] else ("F", "E")
        book.formula(ws[f"C{r}"], f'=IF(Summary!$B$4="Low",{low_col}{r},'
                                  f'IF(Summary!$B$4="High",{high_col}{r},D{r}))',
                     results.inputs[i.name], fmt, key=("input", i.name))
        input_cell(ws.cell(r, 4), float(base_inputs[i.name]), fmt)
        # a customer's own base outside the spec's range widens the range to include it
        base = float(base_inputs[i.name])
        input_cell(ws.cell(r, 5), min(i.low, base), fmt)
        input_cell(ws.cell(r, 6), max(i.high, base), fmt)
        for col, end in ((4, "base"), (5, "low"), (6, "high")):
            book.keyed(ws.cell(r, col), (end, i.name))
        if i.min is not None:
            ws.cell(r, 7, i.min).number_format = fmt
        if i.max is not None:
            ws.cell(r, 8, i.max).number_format = fmt
        set_text(ws.cell(r, 9), i.source)  # wrapped: research writes long provenance
        ws.cell(r, 9).alignment = WRAP
        lines = [(i.source, _WIDTHS["I"])]
        if i.evidence is not None:
            ws.cell(r, 13, i.evidence.n).number_format = "0"
            set_text(ws.cell(r, 14), i.evidence.methods_text)
            ws.cell(r, 14).alignment = WRAP
            lines.append((i.evidence.methods_text, _EVIDENCE_WIDTHS["N"]))
        height = max(wrapped_height(text, width) for text, width in lines)
        if height > 15:  # a row of one line keeps the default height
            ws.row_dimensions[r].height = height
        book.formula(ws[f"J{r}"], check_formula(r, i.min, i.max), OK)
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
    kinds = any(a.kind != "competitor" for a in spec.alternatives)
    header(ws, p0, ["Offering or alternative", "Kind" if kinds else "", "", "One-time",
                    "Recurring per year", "Value per year vs reference",
                    "Problem cost per year" if kinds else "",
                    "Months to build" if kinds else "", "", "Check", "Problem",
                    "Problems so far"], theme)
    ws.row_dimensions[p0].height = 44  # "Value per year vs reference" wraps to three lines
    parties = (spec.offering,) + spec.alternatives
    for k, party in enumerate(parties):
        r = p0 + 1 + k
        layout.price_rows[party.name] = r
        set_text(ws.cell(r, 1), party.name)
        if party.kind == "status_quo":  # no price and no value of its own: not inputs
            for col in (4, 5, 6):
                ws.cell(r, col, 0).number_format = money
        else:
            input_cell(ws.cell(r, 4), party.one_time, money)
            input_cell(ws.cell(r, 5), party.recurring, money)
        if party.kind == "status_quo":
            pass  # its 0 is written above
        elif k >= 2:  # the offering and the reference have no value of their own here
            input_cell(ws.cell(r, 6), party.value_per_year, money)
        else:
            ws.cell(r, 6, 0).number_format = money
        if kinds:
            set_text(ws.cell(r, 2), KIND_WORDS["offering" if k == 0 else party.kind])
        if kinds and k > 0:
            ws.cell(r, 7, party.cost_per_year).number_format = money
            ws.cell(r, 8, party.months_to_build).number_format = input_format(
                "months", [party.months_to_build])
        rng = f"D{r}:F{r}"
        book.formula(ws[f"J{r}"], f'=IF(COUNTBLANK({rng})>0,"blank",IF(COUNT({rng})<3,'
                                  f'"not a number",IF(MIN(D{r}:E{r})<0,"negative price",'
                                  f'"{OK}")))', OK)
        book.formula(ws[f"K{r}"], f'=IF(J{r}="{OK}","",A{r}&": "&J{r})', "")
        book.formula(ws[f"L{r}"], f'=COUNTIF($J${p0 + 1}:J{r},"<>{OK}")', 0)
    layout.results["inputs_range"] = (first, last)
    layout.results["prices_range"] = (p0 + 1, p0 + len(parties))
    for col, w in _WIDTHS.items():
        ws.column_dimensions[col].width = w
    ws.column_dimensions["K"].hidden = True
    ws.column_dimensions["L"].hidden = True
    if kinds:  # room for an amount and for "Problem cost per year" in two lines
        ws.column_dimensions["G"].width = ws.column_dimensions["H"].width = 12
    if evidence:
        for col, w in _EVIDENCE_WIDTHS.items():
            ws.column_dimensions[col].width = w
    ws.freeze_panes = f"B{INPUT_FIRST_ROW}"
    print_setup(ws, spec, theme, landscape=True, title_rows=f"{first - 1}:{first - 1}",
                area=f"A1:{'N' if evidence else 'J'}{p0 + len(parties)}")


def _range(i) -> str:
    if i.min is not None and i.max is not None:
        return f"{i.min:g} to {i.max:g}"
    if i.min is not None:
        return f"at least {i.min:g}"
    if i.max is not None:
        return f"at most {i.max:g}"
    return "any number"
