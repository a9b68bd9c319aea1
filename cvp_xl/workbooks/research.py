"""Customer value research: the research workbook (and, from
:mod:`cvp_xl.workbooks.research_findings`, the reader of the findings it holds).

The findings (one observation per row: customer, segment, input, method, value, unit, date,
measured by, reference) and how they are read and checked are described in
:mod:`cvp_xl.workbooks.research_findings`.

:func:`build` writes the research workbook from a research spec (``workbooks/research/*.yaml``):

``Observations``
    The findings as an Excel table (inputs, with lists for input and method), room for more
    rows, and per row a check (``ok`` or the first problem) and the helper columns the
    summaries read.
``Summary``
    Two tables, one above the other, one row per input of the calculator: n, customers,
    observations per method, first and last date; then low, base and high by the percentile
    rule (yellow cells; Excel's ``PERCENTILE.INC``), the median, the spread (high - low), the
    spec's values now, and the source text ``cvp-xl research`` writes into the spec.
``Segments``
    The same per input and segment (n, low, base, high, median).
``Drivers``
    Survey importance ratings (one row per respondent), each respondent's weights (summing to
    100), the weights per segment with their spread (sample standard deviation), and the
    customer value map of each segment's weights (``CVP_VALUE_MAP``'s translation).

Every sheet prints one page wide (:func:`cvp_xl.workbooks.style.print_setup`): the
Observations landscape with their header on every page, the Summary's two tables each whole on
a page, the Drivers' three blocks never split.

Share-safe formulas only; every value is computed in Python (:mod:`cvp_xl.domain.research`)
and stored with its formula by :class:`~cvp_xl.workbooks.book.Book`.

Reading and checking (the findings, the ratings, the research spec) lives in
:mod:`cvp_xl.workbooks.research_findings`; its names are importable from here too.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.table import Table, TableStyleInfo

from cvp_xl.domain import positioning
from cvp_xl.domain import research as rs
from cvp_xl.workbooks.book import Book, native
from cvp_xl.workbooks.research_findings import (
    COLUMNS,
    EXAMPLES,
    HEADERS,
    HELPERS,
    REQUIRED,
    ROOM,
    TABLE,
    FindingsError,
    Observation,
    Ratings,
    RatingsError,
    check_findings,
    load_research_spec,
    positioning_attributes,
    read_findings,
    read_ratings,
)
from cvp_xl.workbooks.style import (
    BOLD,
    NOTE_FONT,
    TITLE_FONT,
    WRAP,
    as_input,
    header,
    label,
    note,
    print_setup,
    protect,
    validation,
)
from cvp_xl.xlsx.write import set_value

__all__ = [
    "COLUMNS",
    "HEADERS",
    "REQUIRED",
    "TABLE",
    "Observation",
    "FindingsError",
    "RatingsError",
    "read_findings",
    "check_findings",
    "Ratings",
    "read_ratings",
    "positioning_attributes",
    "load_research_spec",
    "build",
    "build_example_workbooks",
    "EXAMPLES",
]


# -- the workbook --------------------------------------------------------------------------------

_OBS = "Observations"
_FIRST = 2  # first observation row
_VALUE_FMT = "General"  # values come in every unit
_BESIDE = Alignment(wrap_text=True, vertical="top", indent=1)  # text right of a number
_DATE_FMT = "yyyy-mm-dd"


def _col(name: str) -> str:
    return get_column_letter(list(COLUMNS + HELPERS).index(name) + 1)


def _obs_range(name: str, last: int) -> str:
    c = _col(name)
    return f"{_OBS}!${c}${_FIRST}:${c}${last}"


def _serial(day: dt.date) -> float:
    return float(to_excel(dt.datetime.combine(day, dt.time())))


class _Layout:
    """Where the Summary sheet keeps the settings and the inputs."""

    rule = ("$B$4", "$C$4", "$D$4")  # low, base, high percentiles (Summary)
    min_n = "$B$5"
    first = 8  # first input row on Summary

    def __init__(self, inputs, last_obs: int):
        self.inputs = inputs
        self.last = self.first + len(inputs) - 1
        self.last_obs = last_obs
        #: The second table (low, base, high per input) starts here, below the first.
        self.second = self.last + 4

    def summary(self, col: str) -> str:
        return f"Summary!${col}${self.first}:${col}${self.last}"


def _check_value(raw: dict, inputs: dict, today: dt.date) -> str:
    """What the Check column's formula gives for one row (see :func:`_check_formula`)."""
    def text(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()

    if all(v is None or v == "" for v in raw.values()):  # COUNTA counts a space
        return ""
    if any(text(raw[c]) == "" for c in REQUIRED):
        return "incomplete"
    item = inputs.get(text(raw["input"]).casefold())
    if item is None:
        return "unknown input"
    if text(raw["method"]).casefold() not in rs.METHODS:
        return "unknown method"
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "value is not a number"
    if text(raw["unit"]).casefold() != item.unit.casefold():
        return f"unit is not {item.unit}"
    if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
        return "outside the allowed range"
    day = raw["date"]
    if not isinstance(day, (dt.date, int, float)) or isinstance(day, bool):
        return "date is not a date"
    if isinstance(day, dt.date) and (day.date() if isinstance(day, dt.datetime) else day) > today:
        return "date in the future"
    return "ok"


def _check_formula(r: int, lay: _Layout) -> str:
    """``ok``, or the first problem of row ``r`` (:func:`_check_value` says the same)."""
    cells = {c: f"${_col(c)}{r}" for c in COLUMNS}
    at = f"${_col('input row')}{r}"  # the input's row among the Summary's inputs, 0 if none
    units, lows, highs = (f"INDEX({lay.summary(c)},{at})" for c in "BCD")
    methods = "{" + ",".join(f'"{m}"' for m in rs.METHODS) + "}"
    first, last = _col(REQUIRED[0]), _col(REQUIRED[-1])  # the required columns, side by side
    blank = f'SUMPRODUCT((TRIM(${first}{r}:${last}{r})="")*1)>0'
    v = cells["value"]
    return (f'=IF(COUNTA($A{r}:${_col("reference")}{r})=0,"",IF({blank},"incomplete",'
            f'IF({at}=0,"unknown input",'
            f'IF(ISERROR(MATCH(TRIM({cells["method"]}),{methods},0)),"unknown method",'
            f'IF(NOT(ISNUMBER({v})),"value is not a number",'
            f'IF(LOWER(TRIM({cells["unit"]}))<>LOWER({units}),"unit is not "&{units},'
            f'IF(OR(AND(ISNUMBER({lows}),{v}<{lows}),AND(ISNUMBER({highs}),{v}>{highs})),'
            f'"outside the allowed range",'
            f'IF(NOT(ISNUMBER({cells["date"]})),"date is not a date",'
            f'IF({cells["date"]}>TODAY(),"date in the future","ok")))))))))')


def _observations(book: Book, ws, obs: list[Observation], lay: _Layout, spec_inputs,
                  today: dt.date) -> None:
    titles = [HEADERS[c] for c in COLUMNS] + [h[0].upper() + h[1:] for h in HELPERS]
    for j, title in enumerate(titles, start=1):
        label(ws.cell(1, j), title, BOLD)
        ws.cell(1, j).alignment = Alignment(wrap_text=True, vertical="top")
    widths = (18, 14, 30, 16, 9, 10, 10.5, 18, 22, 16, 8, 10, 12, 10)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    inputs = {i.name.casefold(): i for i in spec_inputs}
    seen: set[tuple[str, str]] = set()
    for k in range(lay.last_obs - _FIRST + 1):
        r = _FIRST + k
        o = obs[k] if k < len(obs) else None
        raw = dict.fromkeys(COLUMNS)
        if o is not None:
            raw = {"customer": o.customer, "segment": o.segment, "input": o.input,
                   "method": o.method, "value": o.value, "unit": o.unit, "date": o.date,
                   "measured by": o.measured_by, "reference": o.reference or None}
        for j, c in enumerate(COLUMNS, start=1):
            cell = ws.cell(r, j)
            if raw[c] is not None:
                set_value(cell, raw[c])
            as_input(cell)
            cell.alignment = WRAP
            if c == "date":
                cell.number_format = _DATE_FMT
        check = _check_value(raw, inputs, today)
        ok = check == "ok"
        item = inputs.get(str(raw["input"] or "").strip().casefold())
        book.formula(ws[f"{_col('input row')}{r}"],
                     f'=IFERROR(MATCH(TRIM(${_col("input")}{r}),{lay.summary("A")},0),0)',
                     0 if item is None else list(inputs.values()).index(item) + 1, "0")
        book.formula(ws[f"{_col('check')}{r}"], _check_formula(r, lay), check)
        c_chk = f"${_col('check')}"
        book.formula(ws[f"{_col('counted value')}{r}"],
                     f'=IF({c_chk}{r}="ok",${_col("value")}{r},0)', o.value if ok else 0)
        book.formula(ws[f"{_col('counted date')}{r}"],
                     f'=IF({c_chk}{r}="ok",${_col("date")}{r},0)',
                     _serial(o.date) if ok else 0)
        key = (o.input.casefold(), o.customer.casefold()) if ok else None
        new = 1 if ok and key not in seen else 0
        if ok:
            seen.add(key)
        ci, cc = _col("input"), _col("customer")
        book.formula(ws[f"{_col('new customer')}{r}"],
                     f'=IF({c_chk}{r}<>"ok",0,IF(SUMPRODUCT(({c_chk}${_FIRST}:{c_chk}{r}="ok")'
                     f'*(TRIM(${ci}${_FIRST}:${ci}{r})=TRIM(${ci}{r}))'
                     f'*(TRIM(${cc}${_FIRST}:${cc}{r})=TRIM(${cc}{r})))=1,1,0))', new, "0")
    last_col = get_column_letter(len(titles))
    table = Table(displayName=TABLE, ref=f"A1:{last_col}{lay.last_obs}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "A2"
    for helper in HELPERS[1:]:  # the numbers the summaries add up: plumbing, hidden
        ws.column_dimensions[_col(helper)].hidden = True
    input_list = validation(ws, "list", None, lay.summary("A"), None,
                            "Choose one of the calculator's inputs (Summary, column A).")
    input_list.add(f"{_col('input')}{_FIRST}:{_col('input')}{lay.last_obs}")
    method_list = validation(ws, "list", None, f'"{",".join(rs.METHODS)}"', None,
                             f"Choose one of: {', '.join(rs.METHODS)}.")
    method_list.add(f"{_col('method')}{_FIRST}:{_col('method')}{lay.last_obs}")
    date_check = validation(ws, "date", "greaterThanOrEqual", "1", None,
                            "A date, e.g. 2026-05-31.")
    date_check.add(f"{_col('date')}{_FIRST}:{_col('date')}{lay.last_obs}")
    print_setup(ws, "landscape", title_rows="1:1", values=book.values)


def _percentile_formula(counted: str, cond: str, n: str, p: str) -> str:
    """``PERCENTILE.INC`` of the counted values where ``cond`` is 1, without array entry.

    The others are pushed past every value (+1E+300); with ``h = (n - 1) p / 100`` and
    ``k = INT(h)``, one ``SMALL`` takes the k+1-th and k+2-th smallest (the k+1-th twice at the
    top) and ``SUMPRODUCT`` weighs them ``1 - (h - k)`` and ``h - k``.
    """
    h = f"({n}-1)*{p}/100"
    k = f"INT({h})"
    return (f"SUMPRODUCT(SMALL({counted}+(1-{cond})*1E+300,{k}+1+{{0,1}}*({k}+1<{n})),"
            f"{{1,0}}+{{-1,1}}*({h}-{k}))")


def _quarter_formula(day: str) -> str:
    return f'YEAR({day})&"-Q"&INT((MONTH({day})-1)/3+1)'


def _source_formula(r: int, lay: _Layout) -> str:
    """The provenance text of Summary row ``r`` (:func:`cvp_xl.domain.research.provenance`)."""
    cols = [get_column_letter(7 + j) for j in range(len(rs.METHODS))]  # G..L
    terms = []
    for j, (method, col) in enumerate(zip(rs.METHODS, cols)):
        one, several = rs.method_phrase(method, 1)[2:], rs.method_phrase(method, 2)[2:]
        after = (f'COUNTIF({cols[j + 1]}{r}:{cols[-1]}{r},">0")' if j + 1 < len(cols) else "0")
        terms.append(f'IF({col}{r}=0,"",{col}{r}&" "&IF({col}{r}=1,"{one}","{several}")'
                     f'&IF({after}=0,"",IF({after}=1," and ",", ")))')
    qa, qb = _quarter_formula(f"M{r}"), _quarter_formula(f"N{r}")
    period = (f'IF({qa}={qb},{qa},IF(YEAR(M{r})=YEAR(N{r}),{qa}&"–Q"&INT((MONTH(N{r})-1)/3+1),'
              f'{qa}&"–"&{qb}))')
    low, base, high = lay.rule
    rule = f'"P"&{low}&"/P"&{base}&"/P"&{high}'
    return (f'=IF(E{r}=0,"",{"&".join(terms)}&" at "&F{r}&" customer"&IF(F{r}=1,"","s")'
            f'&", "&{period}&", "&{rule})')


#: The Summary's two tables, one above the other (so the sheet prints one page wide): the
#: evidence per input (A to N), then its low, base and high (A to N, some cells merged).
_SUMMARY_HEAD = ["Input", "Unit", "Min", "Max", "n", "Customers",
                 *[m[0].upper() + m[1:] for m in rs.METHODS], "First", "Last"]
_VALUES_HEAD = ["Input", "Low", "Base", "High", "Median", "Spread (high - low)",
                "Spec now: low", "base", "high", "Evidence", "",
                "Source (as cvp-xl research writes it)", "", ""]


def _evidence_text(n: int, min_n: int) -> str:
    if n == 0:
        return "no evidence"
    return "sets low, base and high" if n >= min_n else f"not enough (fewer than {min_n})"


def _summary(book: Book, ws, s: dict, obs: list[Observation], lay: _Layout) -> None:
    spec = s["calculator"]
    label(ws["A1"], s["title"], TITLE_FONT)
    note(ws, "A2", f"Evidence per input of the calculator '{spec.name}', from the "
                   "Observations sheet (rows whose check is ok). Example figures, not facts.",
         "N")
    label(ws["A3"], "Percentiles for", BOLD)
    for j, t in enumerate(("low", "base", "high")):
        label(ws.cell(3, 2 + j), t, BOLD)
    label(ws["A4"], "Percentile rule (Excel's PERCENTILE.INC)")
    for j, p in enumerate(s["rule"]):
        book.input(ws.cell(4, 2 + j), p, "0")
    label(ws["A5"], "Observations needed to set an input")
    ws["A4"].alignment = ws["A5"].alignment = WRAP
    book.input(ws["B5"], s["min_n"], "0")
    validation(ws, "decimal", "between", "0", "100", "A percentile from 0 to 100.").add("B4:D4")
    validation(ws, "whole", "greaterThanOrEqual", "1", None, "A whole number, 1 or more."
               ).add("B5")
    header(ws, lay.first - 1, 1, _SUMMARY_HEAD)
    label(ws.cell(lay.second - 2, 1), "Low, base and high by the percentile rule", BOLD)
    header(ws, lay.second - 1, 1, _VALUES_HEAD)
    for j, w in enumerate([28, *[10] * 5, *[12] * 6, 10.5, 10.5], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    last = lay.last_obs
    counted, ok = _obs_range("counted value", last), _obs_range("check", last)
    dates, new = _obs_range("counted date", last), _obs_range("new customer", last)
    inputs_col, methods_col = _obs_range("input", last), _obs_range("method", last)
    low_p, base_p, high_p = lay.rule
    for k, item in enumerate(spec.inputs):
        r = lay.first + k
        mine = [o for o in obs if o.input == item.name]
        r2 = lay.second + k  # the input's row in the second table
        for row in (r, r2):
            label(ws[f"A{row}"], item.name)
            ws[f"A{row}"].alignment = WRAP
        label(ws[f"B{r}"], item.unit)
        if item.min is not None:
            ws[f"C{r}"] = item.min
        if item.max is not None:
            ws[f"D{r}"] = item.max
        cond = f'({ok}="ok")*(TRIM({inputs_col})=$A{r})'
        n = len(mine)
        ev = (rs.summarize([o.value for o in mine], [o.customer for o in mine],
                           [o.method for o in mine], [o.date for o in mine], s["rule"])
              if mine else None)
        book.formula(ws[f"E{r}"], f"=SUMPRODUCT({cond})", n, "0")
        book.formula(ws[f"F{r}"], f"=SUMPRODUCT({cond}*{new})", ev.customers if ev else 0, "0")
        for j, method in enumerate(rs.METHODS):
            col = get_column_letter(7 + j)
            book.formula(ws[f"{col}{r}"],
                         f'=SUMPRODUCT({cond}*(LOWER(TRIM({methods_col}))="{method}"))',
                         sum(o.method == method for o in mine), "0")
        x = f"{dates}+(1-{cond})*1E+300"
        book.formula(ws[f"M{r}"], f'=IF(E{r}=0,"",SUMPRODUCT(SMALL({x},1)))',
                     _serial(ev.first) if ev else "", _DATE_FMT)
        book.formula(ws[f"N{r}"], f'=IF(E{r}=0,"",SUMPRODUCT(LARGE({dates}*{cond},1)))',
                     _serial(ev.last) if ev else "", _DATE_FMT)
        for col, p, v in (("B", low_p, "low"), ("C", base_p, "base"), ("D", high_p, "high")):
            book.formula(ws[f"{col}{r2}"],
                         f'=IF(E{r}=0,"",{_percentile_formula(counted, cond, f"E{r}", p)})',
                         getattr(ev, v) if ev else "", _VALUE_FMT)
        median = _percentile_formula(counted, cond, f"E{r}", "50")
        book.formula(ws[f"E{r2}"], f'=IF(E{r}=0,"",{median})', ev.median if ev else "",
                     _VALUE_FMT)
        book.formula(ws[f"F{r2}"], f'=IF(E{r}=0,"",D{r2}-B{r2})', ev.spread if ev else "",
                     _VALUE_FMT)
        for col, v in (("G", item.low), ("H", item.base), ("I", item.high)):
            ws[f"{col}{r2}"] = v
        book.formula(ws[f"J{r2}"], f'=IF(E{r}=0,"no evidence",IF(E{r}>={lay.min_n},'
                                   f'"sets low, base and high","not enough (fewer than "&'
                                   f'{lay.min_n}&")"))', _evidence_text(n, s["min_n"]))
        book.formula(ws[f"L{r2}"], _source_formula(r, lay), rs.provenance(ev) if ev else "")
        for first, last in (("J", "K"), ("L", "N")):
            ws[f"{first}{r2}"].alignment = _BESIDE
            ws.merge_cells(f"{first}{r2}:{last}{r2}")
    ws.freeze_panes = "B1"
    print_setup(ws, "landscape", keep_together=[(1, lay.last), (lay.second - 2, r2)],
                values=book.values)


def _segments(book: Book, ws, s: dict, obs: list[Observation], lay: _Layout) -> None:
    label(ws["A1"], "Evidence per input and segment", TITLE_FONT)
    note(ws, "A2", "Low, base and high by the percentile rule on the Summary sheet, from the "
                   "observations of each segment.", "G")
    header(ws, 4, 1, ["Input", "Segment", "n", "Low", "Base", "High", "Median"])
    for col, w in zip("ABCDEFG", (40, 22, 6, 12, 12, 12, 12)):
        ws.column_dimensions[col].width = w
    last = lay.last_obs
    counted, ok = _obs_range("counted value", last), _obs_range("check", last)
    inputs_col, segs = _obs_range("input", last), _obs_range("segment", last)
    r = 5
    for item in s["calculator"].inputs:
        mine = [o for o in obs if o.input == item.name]
        segments: dict[str, str] = {}
        for o in mine:
            segments.setdefault(o.segment.casefold(), o.segment)
        for key, shown in segments.items():
            group = [o.value for o in mine if o.segment.casefold() == key]
            label(ws[f"A{r}"], item.name)
            label(ws[f"B{r}"], shown)
            cond = f'({ok}="ok")*(TRIM({inputs_col})=$A{r})*(TRIM({segs})=$B{r})'
            book.formula(ws[f"C{r}"], f"=SUMPRODUCT({cond})", len(group), "0")
            rules = (*zip(lay.rule, s["rule"]), ("50", 50.0))
            for col, (p, percent) in zip("DEFG", rules):
                at = p if p == "50" else f"Summary!{p}"
                book.formula(ws[f"{col}{r}"],
                             f'=IF(C{r}=0,"",{_percentile_formula(counted, cond, f"C{r}", at)})',
                             rs.percentile(group, percent), _VALUE_FMT)
            r += 1
    if r == 5:
        label(ws["A5"], "No observations yet.", NOTE_FONT)
    print_setup(ws, "portrait", title_rows="4:4", values=book.values)


def _drivers(book: Book, ws, d: dict) -> None:
    rt: Ratings = d["ratings"]
    m = len(rt.drivers)
    n = len(rt.ratings)
    label(ws["A1"], "Value drivers: importance ratings and weights", TITLE_FONT)
    head = 4
    first, last = head + 1, head + n
    w0 = 4 + m + 1  # first weight column (after a row-sum column)
    note(ws, "A2", "Each respondent's ratings rescaled to sum to 100 (CVP_DRIVER_WEIGHTS), "
                   "averaged per segment; spread = sample standard deviation.",
         get_column_letter(w0 + m - 1))
    header(ws, head, 1, ["Respondent", "Customer", "Segment", *rt.drivers, "Sum of ratings",
                         *[f"Weight: {x}" for x in rt.drivers]])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 20
    ws.column_dimensions["C"].width = 18
    for j in range(4, w0 + m + 1):
        ws.column_dimensions[get_column_letter(j)].width = 12
    weights = rs.respondent_weights([list(r) for r in rt.ratings])
    sum_col = get_column_letter(4 + m)
    for i in range(n):
        r = first + i
        for j, v in enumerate((rt.respondents[i], rt.customers[i], rt.segments[i],
                               *rt.ratings[i]), start=1):
            book.input(ws.cell(r, j), v)
        book.formula(ws[f"{sum_col}{r}"], f"=SUM(D{r}:{get_column_letter(3 + m)}{r})",
                     sum(rt.ratings[i]), "0.##")
        for j in range(m):
            col = get_column_letter(w0 + j)
            book.formula(ws[f"{col}{r}"], f"=100*{get_column_letter(4 + j)}{r}/${sum_col}{r}",
                         float(weights[i, j]), "0.0")
    validation(ws, "decimal", "greaterThanOrEqual", "0", None, "A rating of 0 or more."
               ).add(f"D{first}:{get_column_letter(3 + m)}{last}")

    # Weights per segment, then for all respondents.
    s0 = last + 3
    label(ws[f"A{s0 - 1}"], "Weights per segment (sum to 100)", BOLD)
    header(ws, s0, 1, ["Segment", "Respondents", "", *rt.drivers, "",
                       *[f"Spread: {x}" for x in rt.drivers]])
    groups = rs.segment_weights([list(r) for r in rt.ratings], list(rt.segments))
    seg_range = f"$C${first}:$C${last}"
    for k, g in enumerate(groups):
        r = s0 + 1 + k
        every = g.segment == "All"
        if every:
            label(ws[f"A{r}"], "All", BOLD)
            cond, count = "1", f"ROWS({seg_range})"
        else:
            label(ws[f"A{r}"], g.segment)
            ws[f"A{r}"].alignment = WRAP
            cond, count = f"(TRIM({seg_range})=$A{r})", f"SUMPRODUCT((TRIM({seg_range})=$A{r})*1)"
        book.formula(ws[f"B{r}"], f"={count}", g.n, "0")
        for j in range(m):
            wcol = get_column_letter(w0 + j)
            w_range = f"${wcol}${first}:${wcol}${last}"
            mean_col, spread_col = get_column_letter(4 + j), get_column_letter(w0 + j)
            book.formula(ws[f"{mean_col}{r}"], f"=SUMPRODUCT({cond}*{w_range})/$B{r}",
                         g.weights[j], "0.0")
            spread = "" if math.isnan(g.spread[j]) else g.spread[j]
            book.formula(ws[f"{spread_col}{r}"],
                         f'=IF($B{r}<2,"",SQRT(SUMPRODUCT({cond}*({w_range}-{mean_col}{r})^2)'
                         f'/($B{r}-1)))', spread, "0.0")
    seg_last = s0 + len(groups)
    blocks = [(1, last), (s0 - 1, seg_last)]

    scores = d.get("scores")
    if not scores:
        print_setup(ws, "landscape", keep_together=blocks, values=book.values)
        return
    v0 = seg_last + 3
    label(ws[f"A{v0 - 1}"], "Customer value map of each segment's weights (Gale)", BOLD)
    header(ws, v0, 1, ["Scores (performance)", "", "", *rt.drivers])
    for k, (name, values) in enumerate(scores):
        r = v0 + 1 + k
        book.input(ws[f"A{r}"], name)
        for j, v in enumerate(values):
            book.input(ws.cell(r, 4 + j), v, "0.0")
    ours, ref = v0 + 1, v0 + 2
    last_driver = get_column_letter(3 + m)
    q0 = v0 + 4
    header(ws, q0, 1, ["Segment", f"Relative quality of {scores[0][0]} (100 = {scores[1][0]})",
                       "", "", ""])
    ws.merge_cells(f"B{q0}:E{q0}")
    for k, g in enumerate(groups):
        r, seg_row = q0 + 1 + k, s0 + 1 + k
        book.formula(ws[f"A{r}"], f"=A{seg_row}", g.segment)
        ws[f"A{r}"].alignment = WRAP
        quality = positioning.value_map(list(g.weights), scores[0][1], scores[1][1])
        book.formula(ws[f"B{r}"], native("CVP_VALUE_MAP", f"$D${seg_row}:${last_driver}${seg_row}",
                                         f"$D${ours}:${last_driver}${ours}",
                                         f"$D${ref}:${last_driver}${ref}"), quality, "0.0")
    blocks.append((v0 - 1, q0 + len(groups)))
    print_setup(ws, "landscape", keep_together=blocks, values=book.values)


def build(path, spec=None, today: dt.date | None = None) -> Path:
    """Write the research workbook for a research spec, with formulas and their values.

    Parameters
    ----------
    path : path-like
        The .xlsx file to write (atomically; replaced if it exists).
    spec : dict or path-like, optional
        The research spec (default: ``workbooks/research/linecare.yaml``).
    today : datetime.date, optional
        The date that observations may not be after (default: today).

    Raises
    ------
    FindingsError, RatingsError
        The findings or the ratings have bad rows (nothing is written).
    """
    s = load_research_spec(spec)
    today = today or dt.date.today()
    spec_inputs = s["calculator"].inputs
    obs = read_findings(s["findings"], s["calculator"], today)
    book = Book()
    ws = book.wb.active
    ws.title = _OBS
    lay = _Layout(spec_inputs, _FIRST + len(obs) + ROOM - 1)
    _observations(book, ws, obs, lay, spec_inputs, today)
    _summary(book, book.wb.create_sheet("Summary"), s, obs, lay)
    _segments(book, book.wb.create_sheet("Segments"), s, obs, lay)
    if s["drivers"] is not None:
        _drivers(book, book.wb.create_sheet("Drivers"), s["drivers"])
    for sheet in book.wb.worksheets[1:]:
        protect(sheet)
    return book.save(path)


def build_example_workbooks(out_dir) -> list[Path]:
    """Build the research workbook for every research spec in ``workbooks/research/`` (the
    ``pilot-*.yaml`` files there are :mod:`cvp_xl.workbooks.pilot`'s).

    Each ``NAME.yaml`` becomes ``out_dir / "research-NAME.xlsx"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / f"research-{p.stem}.xlsx", p)
            for p in sorted(EXAMPLES.glob("*.yaml")) if not p.stem.startswith("pilot")]
