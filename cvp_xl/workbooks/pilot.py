"""The pilot workbook: baseline against pilot measurements of one value element.

A pilot project demonstrates value (the guide's third section): the customer measures a value
element without the offering (the baseline) and with it (the pilot).  The workbook, built from a
pilot spec (``workbooks/research/pilot-*.yaml``), has one sheet ``Pilot``:

- the settings (inputs): customer, segment, situation, offering, value element, category, what
  is measured and in which unit, whether lower or higher is better, paired or not, the
  confidence level, the money one unit of improvement is worth, periods per year, currency,
  the pilot's period, who verified it and when;
- the measurements (inputs; blank cells are skipped, rows can be added in the room left);
- the results: counts, means, standard deviations, the lift (mean pilot - mean baseline), its
  standard error, degrees of freedom (Welch–Satterthwaite, or n - 1 paired), the t quantile
  (``BETAINV``, see :mod:`cvp_xl.domain.research`), the interval, the improvement in the better
  direction, the value per year with its interval, and a verdict: *demonstrated* only when the
  whole interval is an improvement;
- the case history the pilot becomes (:func:`pilot_cases`, :func:`export_pilot_cases`): the
  baseline and pilot means as before and after, the value per year as documented value;
  :func:`from_pilot` (``cvp-xl cases --from-pilot``) adds it to a case-history workbook and,
  with a tracker, the tracker entry of the pilot's last quarter.

Share-safe formulas only; every value is computed in Python (:func:`cvp_xl.domain.research.
pilot_interval`) and stored with its formula by :class:`~cvp_xl.workbooks.book.Book`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment
from openpyxl.utils.datetime import to_excel

from cvp_xl.domain import research as rs
from cvp_xl.errors import (
    CvpError,
    CvpValueError,
    CvpXlError,
    ProblemsError,
    RowProblem,
    WorkbookError,
)
from cvp_xl.workbooks import example
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.case_table import CATEGORIES, COLUMNS, validate_cases
from cvp_xl.workbooks.spec_fields import field as _get
from cvp_xl.workbooks.spec_fields import number_field as _num
from cvp_xl.workbooks.spec_fields import read_mapping
from cvp_xl.workbooks.spec_fields import text_field as _text
from cvp_xl.workbooks.style import (
    BOLD,
    MONEY,
    TITLE_FONT,
    WRAP,
    header,
    label,
    note,
    print_setup,
    protect,
    validation,
)
from cvp_xl.xlsx import tables

__all__ = ["SETTINGS", "Pilot", "PilotError", "load_pilot_spec", "build", "read_pilot",
           "pilot_cases", "export_pilot_cases", "build_example_workbooks", "EXAMPLES",
           "PilotRefused", "FromPilot", "from_pilot", "last_quarter"]

EXAMPLES = example("research")
SHEET = "Pilot"

#: The settings of a pilot: (spec key, label on the sheet), rows 4 onwards of column B.
SETTINGS = (
    ("customer", "Customer"),
    ("segment", "Segment"),
    ("situation", "Situation before the pilot"),
    ("offering", "Offering piloted"),
    ("value_element", "Value element"),
    ("category", "Category"),
    ("measure", "What was measured"),
    ("unit", "Unit of the measurements"),
    ("better", "Better when the measure is (lower/higher)"),
    ("paired", "Paired measurements (TRUE/FALSE)"),
    ("confidence", "Confidence level"),
    ("value_per_unit", "Value of one unit of improvement"),
    ("periods_per_year", "Measurement periods per year"),
    ("currency", "Currency"),
    ("period", "Period of the pilot"),
    ("verified_by", "Verified by (at the customer)"),
    ("date", "Verified on"),
)
_ROW = {key: 4 + k for k, (key, _) in enumerate(SETTINGS)}
_MEAS_HEAD = 26
_MEAS_FIRST = 27
ROOM = 12  # blank measurement rows for more


class PilotError(ProblemsError):
    """A pilot workbook whose settings or measurements cannot be used."""

    headline = " in the pilot:"


@dataclass(frozen=True)
class Pilot:
    """A pilot's settings, measurements and result."""

    settings: dict
    baseline: tuple[float | None, ...]
    pilot: tuple[float | None, ...]
    baseline_label: str = "Baseline"
    pilot_label: str = "Pilot"

    @property
    def result(self) -> rs.PilotLift:
        return rs.pilot_interval([[v] for v in self.baseline], [[v] for v in self.pilot],
                                 self.settings["paired"], self.settings["confidence"])

    @property
    def sign(self) -> int:
        return -1 if self.settings["better"] == "lower" else 1

    def improvement(self) -> tuple[float, float, float]:
        """The lift in the better direction: point, low, high."""
        r, s = self.result, self.sign
        return s * r.lift, min(s * r.low, s * r.high), max(s * r.low, s * r.high)

    def value_per_year(self) -> tuple[float, float, float]:
        """Improvement x value of one unit x periods per year: point, low, high."""
        k = self.settings["value_per_unit"] * self.settings["periods_per_year"]
        return tuple(x * k for x in self.improvement())  # type: ignore[return-value]

    @property
    def demonstrated(self) -> bool:
        return self.improvement()[1] > 0


def _measurements(values, where: str) -> tuple[float | None, ...]:
    if not isinstance(values, list) or not values:
        raise CvpValueError(f"{where}: expected a list of measurements")
    out = []
    for i, v in enumerate(values, start=1):
        if v is None:
            out.append(None)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise CvpValueError(f"{where} (item {i}): expected a number, got {v!r}")
        out.append(float(v))
    return tuple(out)


def _setting_problems(s: dict) -> list[tuple[str, str]]:
    """``(key, what is wrong)`` for each setting that cannot be used; normalises the others."""
    out = []
    s["category"] = s["category"].strip().lower()
    if s["category"] not in CATEGORIES:
        out.append(("category", f"expected one of {', '.join(CATEGORIES)}, got "
                                f"{s['category']!r}"))
    s["better"] = s["better"].strip().lower()
    if s["better"] not in ("lower", "higher"):
        out.append(("better", f"expected lower or higher, got {s['better']!r}"))
    if s["value_per_unit"] is not None and s["value_per_unit"] < 0:
        out.append(("value_per_unit", "expected the money one unit of improvement is worth, "
                                      f"0 or more, got {s['value_per_unit']:g}"))
    if s["periods_per_year"] is not None and s["periods_per_year"] <= 0:
        out.append(("periods_per_year", f"expected more than 0, got {s['periods_per_year']:g}"))
    return out


def load_pilot_spec(spec=None) -> Pilot:
    """Read a pilot spec (a dict or a YAML path; default ``workbooks/research/pilot-*.yaml``'s
    first) and check it, the measurements with :func:`cvp_xl.domain.research.pilot_interval`."""
    default = sorted(EXAMPLES.glob("pilot-*.yaml"))[0]
    data, where = read_mapping(spec, default)
    s: dict = {}
    for key, _ in SETTINGS:
        if key in ("paired",):
            value = _get(data, key, where, False)
            if not isinstance(value, bool):
                raise CvpValueError(f"{where}: paired: expected true or false, got {value!r}")
            s[key] = value
        elif key in ("confidence", "value_per_unit", "periods_per_year"):
            s[key] = _num(data, key, where, rs.DEFAULT_CONFIDENCE if key == "confidence" else ...)
        elif key == "date":
            value = _get(data, key, where, None)
            if value is not None and not isinstance(value, dt.date):
                raise CvpValueError(f"{where}: date: expected a date (YYYY-MM-DD), got {value!r}")
            s[key] = value
        else:
            optional = key in ("situation", "verified_by")
            s[key] = _text(data, key, where, "" if optional else ...)
    for key, message in _setting_problems(s):
        raise CvpValueError(f"{where}: {key}: {message}")
    parts = {}
    for side in ("baseline", "pilot"):
        block = _get(data, side, where)
        if not isinstance(block, dict):
            raise CvpValueError(f"{where}: {side}: expected label and values")
        parts[side] = (_text(block, "label", f"{where}: {side}", side.capitalize()),
                       _measurements(_get(block, "values", f"{where}: {side}"),
                                     f"{where}: {side}: values"))
    pilot = Pilot(s, parts["baseline"][1], parts["pilot"][1], parts["baseline"][0],
                  parts["pilot"][0])
    try:
        pilot.result  # noqa: B018 (the domain's checks of the measurements)
    except CvpError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    return pilot


# -- the workbook --------------------------------------------------------------------------------


def _b(key: str) -> str:
    return f"$B${_ROW[key]}"


def build(path, spec=None) -> Path:
    """Write the pilot workbook to ``path``, with formulas and the values Python computed.

    Parameters
    ----------
    path : path-like
        The .xlsx file to write (atomically; replaced if it exists).
    spec : dict, path-like or Pilot, optional
        The pilot (see ``workbooks/research/pilot-northwind.yaml``).
    """
    p = spec if isinstance(spec, Pilot) else load_pilot_spec(spec)
    s, r = p.settings, p.result
    book = Book()
    ws = book.wb.active
    ws.title = SHEET
    for col, width in zip("ABCDEF", (40, 34, 4, 40, 20, 34)):
        ws.column_dimensions[col].width = width
    label(ws["A1"], f"Pilot: {s['value_element']} at {s['customer']}", TITLE_FONT)
    note(ws, "A2", "Baseline against pilot measurements; lift and its confidence interval by "
                   "Welch's t (or the paired t). Example figures, not facts.", "F")
    header(ws, 3, 1, ["Setting", "Value"])
    header(ws, 3, 4, ["Result", "Value"])
    for key, text in SETTINGS:
        row = _ROW[key]
        label(ws[f"A{row}"], text)
        value = s[key]
        if key == "date" and value is not None:
            value = dt.datetime.combine(value, dt.time())
        book.input(ws[f"B{row}"], value if value != "" else None)
        ws[f"B{row}"].alignment = WRAP
    ws[f"B{_ROW['date']}"].number_format = "yyyy-mm-dd"
    ws[f"B{_ROW['confidence']}"].number_format = "0%"
    ws[f"B{_ROW['value_per_unit']}"].number_format = "#,##0.00"
    validation(ws, "list", None, '"lower,higher"', None, "lower or higher").add(_b("better"))
    validation(ws, "list", None, '"TRUE,FALSE"', None, "TRUE or FALSE").add(_b("paired"))
    validation(ws, "decimal", "between", "0.5", "0.999", "A level such as 0.95 (95 %)."
               ).add(_b("confidence"))
    validation(ws, "list", None, f'"{",".join(CATEGORIES)}"', None,
               f"One of: {', '.join(CATEGORIES)}").add(_b("category"))

    # measurements
    n_rows = max(len(p.baseline), len(p.pilot)) + ROOM
    last = _MEAS_FIRST + n_rows - 1
    label(ws[f"A{_MEAS_HEAD - 1}"], "Measurements (blank cells are skipped)", BOLD)
    header(ws, _MEAS_HEAD, 1, [f"Baseline: {p.baseline_label}", f"Pilot: {p.pilot_label}"])
    for k in range(n_rows):
        for col, values in (("A", p.baseline), ("B", p.pilot)):
            book.input(ws[f"{col}{_MEAS_FIRST + k}"], values[k] if k < len(values) else None,
                       "General")  # as typed (Excel's #,##0.### shows 3150 as "3,150.")
    validation(ws, "decimal", "between", "-1E+15", "1E+15", "A number (no text)."
               ).add(f"A{_MEAS_FIRST}:B{last}")
    b, pl = f"$A${_MEAS_FIRST}:$A${last}", f"$B${_MEAS_FIRST}:$B${last}"

    # results
    imp, value = p.improvement(), p.value_per_year()
    conf = _b("confidence")
    check = "ok"
    verdict = ("Demonstrated: the whole interval is an improvement" if p.demonstrated else
               "Worse: the whole interval goes the wrong way" if imp[2] < 0 else
               "Not demonstrated: the interval includes no change")
    k = f"{_b('value_per_unit')}*{_b('periods_per_year')}"
    rows = [
        ("Baseline measurements (n)", f"=COUNT({b})", r.n_baseline, "0"),
        ("Pilot measurements (n)", f"=COUNT({pl})", r.n_pilot, "0"),
        ("Baseline mean", f"=AVERAGE({b})", r.mean_baseline, "#,##0.0###"),
        ("Pilot mean", f"=AVERAGE({pl})", r.mean_pilot, "#,##0.0###"),
        ("Baseline standard deviation",
         f"=SQRT(SUMPRODUCT(ISNUMBER({b})*({b}-E6)^2)/(E4-1))", r.sd_baseline, "#,##0.0###"),
        ("Pilot standard deviation",
         f"=SQRT(SUMPRODUCT(ISNUMBER({pl})*({pl}-E7)^2)/(E5-1))", r.sd_pilot, "#,##0.0###"),
        ("Check", f'=IF(OR(E4<2,E5<2),"needs at least 2 measurements on each side",'
                  f'IF(AND({_b("paired")},OR(E4<>E5,SUMPRODUCT(ISNUMBER({b})*ISNUMBER({pl}))'
                  f'<>E4)),"paired: every row needs both measurements","ok"))', check, None),
        ("Lift (pilot mean - baseline mean)", '=IF(E10="ok",E7-E6,NA())', r.lift, "#,##0.0###"),
        ("Standard error of the lift",
         f'=IF({_b("paired")},SQRT(SUMPRODUCT(ISNUMBER({pl})*({pl}-{b}-E11)^2)/(E5-1)/E5),'
         f'SQRT(E8^2/E4+E9^2/E5))', r.se, "#,##0.0###"),
        ("Degrees of freedom",
         f'=IF({_b("paired")},E5-1,(E8^2/E4+E9^2/E5)^2/((E8^2/E4)^2/(E4-1)+(E9^2/E5)^2/(E5-1)))',
         r.df, "0.0##"),
        ("t quantile", f"=SQRT(E13*(1/BETAINV(1-{conf},E13/2,0.5)-1))", r.t, "0.0###"),
        ("Lift, low end of the interval", "=E11-E14*E12", r.low, "#,##0.0###"),
        ("Lift, high end of the interval", "=E11+E14*E12", r.high, "#,##0.0###"),
        ("Improvement (lift in the better direction)",
         f'=IF({_b("better")}="lower",-1,1)*E11', imp[0], "#,##0.0###"),
        ("Improvement, low", f'=MIN(IF({_b("better")}="lower",-1,1)*E15,'
                             f'IF({_b("better")}="lower",-1,1)*E16)', imp[1], "#,##0.0###"),
        ("Improvement, high", f'=MAX(IF({_b("better")}="lower",-1,1)*E15,'
                              f'IF({_b("better")}="lower",-1,1)*E16)', imp[2], "#,##0.0###"),
        ("Value per year", f"=E17*{k}", value[0], MONEY),
        ("Value per year, low", f"=E18*{k}", value[1], MONEY),
        ("Value per year, high", f"=E19*{k}", value[2], MONEY),
        ("Verdict", '=IF(E18>0,"Demonstrated: the whole interval is an improvement",'
                    'IF(E19<0,"Worse: the whole interval goes the wrong way",'
                    '"Not demonstrated: the interval includes no change"))', verdict, None),
    ]
    for i, (text, formula, v, fmt) in enumerate(rows):
        row = 4 + i
        label(ws[f"D{row}"], text)
        book.formula(ws[f"E{row}"], formula, v, fmt, bold=text in ("Value per year", "Verdict"))
    label(ws["F20"], f"{s['currency']} per year")
    ws["F20"].alignment = Alignment(indent=1)

    # the case history this pilot becomes
    label(ws[f"D{_MEAS_HEAD - 1}"], "The case history this pilot becomes (when verified and "
                                    "demonstrated)", BOLD)
    header(ws, _MEAS_HEAD, 4, ["Case-history column", "Value"])
    case = _case(p)
    links = {"customer": _b("customer"), "segment": _b("segment"),
             "situation": _b("situation"), "offering": _b("offering"),
             "value element": _b("value_element"), "category": _b("category"),
             "before": "E6", "after": "E7", "unit": _b("unit"),
             "documented value per year": "E20", "currency": _b("currency"),
             "period": _b("period"), "verified by": _b("verified_by"), "date": _b("date")}
    for i, col in enumerate(COLUMNS):
        row = _MEAS_FIRST + i
        label(ws[f"D{row}"], col)
        ref = links[col]
        stored = case[col]
        if col == "date":
            stored = float(to_excel(case[col])) if case[col] is not None else ""
        elif stored is None:
            stored = ""
        fmt = {"date": "yyyy-mm-dd", "documented value per year": MONEY,
               "before": "#,##0.0###", "after": "#,##0.0###"}.get(col)
        book.formula(ws[f"E{row}"], f'=IF({ref}="","",{ref})', stored, fmt)
    protect(ws)
    print_setup(ws, "landscape", one_page=True, values=book.values)
    return book.save(path)


def _case(p: Pilot) -> dict:
    s, r = p.settings, p.result
    return {
        "customer": s["customer"], "segment": s["segment"], "situation": s["situation"] or None,
        "offering": s["offering"], "value element": s["value_element"],
        "category": s["category"], "before": r.mean_baseline, "after": r.mean_pilot,
        "unit": s["unit"], "documented value per year": p.value_per_year()[0],
        "currency": s["currency"], "period": s["period"],
        "verified by": s["verified_by"] or None,
        "date": dt.datetime.combine(s["date"], dt.time()) if s["date"] else None,
    }


# -- reading a pilot back, and its case history ----------------------------------------------


def read_pilot(path: str | os.PathLike) -> Pilot:
    """Read a pilot workbook (as :func:`build` writes it, possibly edited) back into a Pilot.

    Raises
    ------
    PilotError
        A setting or measurement that cannot be used, by row and column of the Pilot sheet.
    cvp_xl.errors.WorkbookError
        Not a pilot workbook, or refused.
    """
    source = os.fspath(path)
    rows = tables.read_rows(source, SHEET)

    def cell(row: int, col: int):
        return rows[row - 1][col - 1] if row <= len(rows) and col <= len(rows[row - 1]) else None

    if cell(4, 1) != SETTINGS[0][1]:
        raise WorkbookError(f"{source}: not a pilot workbook (no {SETTINGS[0][1]!r} in A4 of "
                            f"the {SHEET} sheet)")
    problems: list[RowProblem] = []
    s: dict = {}
    where = f"{SHEET} row"
    for key, text in SETTINGS:
        row = _ROW[key]
        v = cell(row, 2)
        if key == "paired":
            if v is not None and not isinstance(v, bool):
                problems.append(RowProblem(row, text, f"expected TRUE or FALSE, got "
                                           f"{tables.shown(v)}", where))
            s[key] = v if isinstance(v, bool) else False
        elif key in ("confidence", "value_per_unit", "periods_per_year"):
            x = tables.as_number(v) if not isinstance(v, str) else None
            if x is None:
                problems.append(RowProblem(row, text, f"expected a number, got "
                                           f"{tables.shown(v)}", where))
            s[key] = x
        elif key == "date":
            s[key] = tables.as_date(v)
            if s[key] is None and not tables.is_blank(v):
                problems.append(RowProblem(row, text, f"expected a date, got {tables.shown(v)}",
                                           where))
        else:
            s[key] = tables.as_text(v, strip=True) or ""
            if not s[key] and key not in ("situation", "verified_by"):
                problems.append(RowProblem(row, text, "expected text, got a blank cell", where))
    labels = dict(SETTINGS)
    problems += [RowProblem(_ROW[key], labels[key], message, where)
                 for key, message in _setting_problems(s)]
    if problems:
        raise PilotError(problems, source)
    sides = {}
    for col, side in ((1, "baseline"), (2, "pilot")):
        values = []
        for row in range(_MEAS_FIRST, len(rows) + 1):
            v = cell(row, col)
            if tables.is_blank(v):
                values.append(None)
            elif tables.is_number(v):
                values.append(float(v))
            else:
                problems.append(RowProblem(row, side, f"expected a number, got "
                                           f"{tables.shown(v)}", where))
        while values and values[-1] is None:
            values.pop()
        sides[side] = tuple(values)
    if problems:
        raise PilotError(problems, source)
    n = max(len(sides["baseline"]), len(sides["pilot"]))
    pilot = Pilot(s, sides["baseline"] + (None,) * (n - len(sides["baseline"])),
                  sides["pilot"] + (None,) * (n - len(sides["pilot"])),
                  str(cell(_MEAS_HEAD, 1) or "Baseline"), str(cell(_MEAS_HEAD, 2) or "Pilot"))
    try:
        pilot.result  # noqa: B018
    except CvpError as exc:
        raise PilotError([RowProblem(_MEAS_HEAD, "measurements", exc.message, where)],
                         source) from None
    return pilot


def pilot_cases(paths: Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, list[str]]:
    """Case-history rows for the pilots that are verified and demonstrated.

    A pilot is verified when its "Verified by" cell is filled, and demonstrated when the whole
    confidence interval of its improvement is above 0.  Returns the rows (the columns of
    :data:`~cvp_xl.workbooks.case_table.COLUMNS`) and, for each pilot left out, why.
    """
    rows, numbers, skipped = [], [], []
    for k, path in enumerate(paths, start=1):
        p = read_pilot(path)
        name = Path(path).name
        if not p.settings["verified_by"]:
            skipped.append(f"{name}: not verified (no one at the customer has signed it off)")
        elif not p.demonstrated:
            lo, hi = p.improvement()[1:]
            skipped.append(f"{name}: not demonstrated (the improvement's interval runs from "
                           f"{lo:,.4g} to {hi:,.4g} {p.settings['unit']})")
        elif p.settings["date"] is None:
            skipped.append(f"{name}: no date of verification")
        else:
            rows.append(_case(p))
            numbers.append(k)
    raw = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
    raw = raw.where(raw.notna(), None)
    df, problems = validate_cases(raw, numbers, where="pilot")
    if problems:
        raise ProblemsError(problems)
    return df, skipped


def export_pilot_cases(paths: Iterable[str | os.PathLike], cases_path: str | os.PathLike
                       ) -> tuple[pd.DataFrame, list[str], int]:
    """Append the verified, demonstrated pilots to a case-history workbook (created if missing).

    Cases already there (same customer, value element and period, ignoring case) are skipped;
    when nothing is new the file is not written.  The workbook is written as ``cvp-xl cases``
    writes it (:func:`cvp_xl.workbooks.tracker_cases.append_cases`: under its lock, never over
    a person's cells, whole or not at all).  Returns the cases added, why each other pilot was
    left out, and the number of cases in the workbook afterwards.
    """
    from cvp_xl.workbooks.tracker_cases import append_cases

    new, skipped = pilot_cases(paths)
    added, _count, total = append_cases(new, cases_path)

    def keys(df):
        return list(zip(df["customer"].str.lower(), df["value element"].str.lower(),
                        df["period"].str.lower()))

    fresh = set(keys(added))
    skipped += [f"{c}: already a case ({e}, {p})"
                for (c, e, p), key in zip(zip(new["customer"], new["value element"],
                                              new["period"]), keys(new)) if key not in fresh]
    return added, skipped, total


class PilotRefused(CvpXlError, ValueError):
    """A pilot that cannot become a case history or a tracker entry (not verified, ...)."""


_QUARTERS = re.compile(r"^(\d{4})-Q([1-4])(?:[–-](?:(\d{4})-)?Q([1-4]))?$")


def last_quarter(period: str) -> tuple[str, dt.date] | None:
    """The last quarter of a period such as ``2026-Q2–Q3``, and the day it ends.

    >>> last_quarter("2026-Q2–Q3"), last_quarter("2025-Q4–2026-Q1")
    (('2026-Q3', datetime.date(2026, 9, 30)), ('2026-Q1', datetime.date(2026, 3, 31)))
    >>> last_quarter("May to October") is None
    True
    """
    m = _QUARTERS.match(" ".join(str(period).split()))
    if m is None:
        return None
    year = int(m.group(3) or m.group(1))
    q = int(m.group(4) or m.group(2))
    end = dt.date(year + (q == 4), 1 + 3 * q if q < 4 else 1, 1) - dt.timedelta(days=1)
    return f"{year}-Q{q}", end


@dataclass(frozen=True)
class FromPilot:
    """What :func:`from_pilot` did: the case history and the tracker entry, added or not."""

    case: dict
    case_added: bool
    cases_total: int
    entry: dict | None = None
    entry_added: bool = False


def from_pilot(pilot_path: str | os.PathLike, cases_path: str | os.PathLike,
               tracker: str | os.PathLike | None = None,
               promised: float | None = None) -> FromPilot:
    """A verified pilot becomes a case-history row, and with ``tracker`` a tracker entry.

    The case history is :func:`pilot_cases`'s row (before and after: the baseline and pilot
    means; documented value per year: the improvement's point estimate x value of one unit x
    periods per year).  The tracker entry is for the pilot's last quarter (``2026-Q2–Q3``
    gives ``2026-Q3``, ending 2026-09-30): promised ``promised``, documented the value per
    year / the tracker's periods per year, verified by the pilot's verifier.

    Everything is checked before anything is written: the pilot must be verified (its
    "Verified by" cell filled, a date) and demonstrated (the whole interval of its
    improvement above 0); with a tracker, the pilot's customer must be on its Customers
    sheet, its currency the pilot's and its periods quarters.  A case or an entry already
    there (same customer, value element and period; same customer and period) is left as it
    is and not written again.  Each file is written whole or not at all, under its lock.

    Raises
    ------
    PilotRefused
        The pilot is not verified or not demonstrated, or cannot become a tracker entry.
    PilotError, cvp_xl.errors.WorkbookError
        The pilot, the case histories or the tracker cannot be read or written.
    """
    from cvp_xl.workbooks.tracker_cases import append_cases

    name = Path(pilot_path).name
    new, skipped = pilot_cases([pilot_path])
    if skipped:
        raise PilotRefused(f"{skipped[0]}; nothing written")
    case = new.iloc[0].to_dict()
    entry, present = None, False
    if tracker is not None:
        entry, present = _tracker_entry(read_pilot(pilot_path), name, tracker, promised)
    added, _skipped, total = append_cases(new, cases_path)
    if entry is not None and not present:
        _add_entry(tracker, entry, name, case_added=not added.empty)
    return FromPilot(case, not added.empty, total, entry, entry is not None and not present)


def _tracker_entry(p: Pilot, name: str, tracker, promised) -> tuple[dict, bool]:
    """The pilot's tracker entry, checked against the tracker, and whether it is there."""
    from cvp_xl.workbooks.tracker import read_tracker

    s = p.settings
    if promised is None or not isinstance(promised, (int, float)) or not promised >= 0:
        raise PilotRefused(f"{name}: a tracker entry needs the value promised for the period "
                           f"(0 or more, in {s['currency']}), got {promised!r}")
    state = read_tracker(tracker)
    settings = state.settings
    if settings.currency != s["currency"]:
        raise PilotRefused(f"{name}: the pilot's value is in {s['currency']}, the tracker "
                           f"{tracker} counts {settings.currency}; nothing written")
    if settings.periods_per_year != 4:
        raise PilotRefused(f"{name}: the tracker {tracker} counts {settings.periods_per_year:g} "
                           "periods a year; a pilot's entry is for a quarter; nothing written")
    quarter = last_quarter(s["period"])
    if quarter is None:
        raise PilotRefused(f"{name}: the pilot's period {s['period']!r} is not quarters such as "
                           "2026-Q2–Q3, so it names no quarter of the tracker; nothing written")
    customers = {str(c).strip().lower(): str(c).strip() for c in state.customers["customer"]
                 if tables.as_text(c)}
    customer = customers.get(s["customer"].strip().lower())
    if customer is None:
        raise PilotRefused(f"{name}: the customer {s['customer']!r} is not on the Customers "
                           f"sheet of {tracker}; add it there first; nothing written")
    entry = {"customer": customer, "period": quarter[0], "period end": quarter[1],
             "promised": float(promised),
             "documented": p.value_per_year()[0] / settings.periods_per_year,
             "verified by": s["verified_by"]}
    mine = [(str(q).strip(), tables.as_date(end)) for c, q, end in zip(
        state.entries["customer"], state.entries["period"], state.entries["period end"])
        if str(c).strip().lower() == customer.lower()]
    present = any(q == quarter[0] for q, _end in mine)
    later = [(q, end) for q, end in mine if end is not None and end >= quarter[1]]
    if not present and later:
        q, end = max(later, key=lambda x: x[1])
        raise PilotRefused(f"{name}: {tracker} already has {q} (ending {end.isoformat()}) for "
                           f"{customer}; the tracker adds periods in time order, and the "
                           f"pilot's {quarter[0]} ends {quarter[1].isoformat()}; nothing written")
    return entry, present


def _add_entry(tracker, entry: dict, name: str, case_added: bool) -> None:
    """Add one entry to the tracker through ``cvp-xl track``'s own path (its checks and lock)."""
    import csv
    import tempfile

    from cvp_xl.workbooks.tracker import ENTRY_COLUMNS, TrackerInputError, add_period

    with tempfile.TemporaryDirectory(prefix="cvp_xl_pilot_") as tmp:
        path = Path(tmp) / "entry.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(ENTRY_COLUMNS)
            writer.writerow([entry["customer"], entry["period"], entry["period end"].isoformat(),
                             repr(entry["promised"]), repr(entry["documented"]),
                             entry["verified by"]])
        try:
            add_period(tracker, path)
        except TrackerInputError as exc:
            why = "; ".join(p.message for p in exc.problems)
            done = "the case history was added, " if case_added else ""
            raise PilotRefused(f"{tracker}: {name}'s entry ({entry['customer']}, "
                               f"{entry['period']}) was not added: {why} ({done}the tracker is "
                               "as it was)") from None


def build_example_workbooks(out_dir) -> list[Path]:
    """Build a pilot workbook for every ``workbooks/research/pilot-NAME.yaml``
    (``out_dir / "pilot-NAME.xlsx"``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / f"{spec.stem}.xlsx", spec)
            for spec in sorted(EXAMPLES.glob("pilot-*.yaml"))]
