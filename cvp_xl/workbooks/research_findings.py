"""Customer value research: reading and checking findings, importance ratings and research specs.

A research table holds one observation per row: what was measured for one calculator input
at one customer, how, when and by whom (DOMAIN.md §3).  Columns, in any order, headers in any
case:

==============  ===========================================================  ========
column          holds                                                        required
==============  ===========================================================  ========
customer        the customer the figure was measured at                      yes
segment         its market segment                                           yes
input           the calculator input the figure is for (the spec's name)     yes
method          one of :data:`~cvp_xl.domain.research.METHODS`               yes
value           the measured value, a number in the input's unit             yes
unit            the unit of the value; must be the input's unit              yes
date            when it was measured (a date, or text ``YYYY-MM-DD``)        yes
measured by     who measured it                                              yes
reference       where the figure is written down (a report, a file)          no
==============  ===========================================================  ========

:func:`read_findings` reads a CSV file, or an .xlsx workbook (its table named
``Observations``, its only table, or else its first sheet with headers in row 1), and checks
every row against the calculator spec: an unknown input (with a suggestion), a unit that is not
the input's, a value outside the input's allowed range (the spec's ``min`` and ``max``), a date
in the future, a blank required cell, an unknown method.  Every bad cell is reported at once,
by row (CSV: line) and column, in a :class:`FindingsError`.  Inputs match the spec's names (or
an earlier name under ``was:``) ignoring case and surrounding spaces; units ignoring case and
surrounding spaces.  Rows blank in every column are skipped.

:func:`read_ratings` reads survey importance ratings (one row per respondent, one column per
value driver); :func:`positioning_attributes` turns them into a positioning spec's value-map
weights; :func:`load_research_spec` reads the research spec the workbook
(:mod:`cvp_xl.workbooks.research`) is built from.  Everything here is also importable from
:mod:`cvp_xl.workbooks.research`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cvp_xl.domain import positioning
from cvp_xl.domain import research as rs
from cvp_xl.errors import CvpError, CvpValueError, ProblemsError, RowProblem, WorkbookError
from cvp_xl.workbooks import example
from cvp_xl.workbooks.spec_fields import field as _get
from cvp_xl.workbooks.spec_fields import read_mapping, text_field
from cvp_xl.xlsx import tables

__all__ = [
    "COLUMNS",
    "HEADERS",
    "REQUIRED",
    "HELPERS",
    "TABLE",
    "ROOM",
    "Observation",
    "FindingsError",
    "RatingsError",
    "read_findings",
    "check_findings",
    "Ratings",
    "read_ratings",
    "positioning_attributes",
    "load_research_spec",
    "EXAMPLES",
]

EXAMPLES = example("research")

#: The columns of a research table, in the order a new table lists them.
COLUMNS = ("customer", "segment", "input", "method", "value", "unit", "date", "measured by",
           "reference")
HEADERS = {c: c[0].upper() + c[1:] for c in COLUMNS}
REQUIRED = COLUMNS[:-1]
#: Columns the research workbook adds to its table (formulas); ignored when reading.
HELPERS = ("check", "input row", "counted value", "counted date", "new customer")
TABLE = "Observations"
ROOM = 30  # blank rows left in the table for more observations

_EXPECTED = {
    "customer": "a customer name",
    "segment": "a segment",
    "input": "a calculator input",
    "method": f"one of {', '.join(rs.METHODS)}",
    "value": "a number",
    "unit": "a unit",
    "date": "a date",
    "measured by": "who measured it",
}


class FindingsError(ProblemsError):
    """A research table with bad rows; ``problems`` lists every bad cell."""

    headline = " in the research findings:"


class RatingsError(ProblemsError):
    """An importance-ratings table with bad rows; ``problems`` lists every bad cell."""

    headline = " in the importance ratings:"


@dataclass(frozen=True)
class Observation:
    """One checked row of a research table; ``input`` is spelled as in the spec."""

    row: int
    customer: str
    segment: str
    input: str
    method: str
    value: float
    unit: str
    date: dt.date
    measured_by: str
    reference: str = ""


def _key(text) -> str:
    """How names, units and methods compare: case and surrounding spaces ignored."""
    return str(text).strip().casefold()


# -- reading -------------------------------------------------------------------------------------


def _pick_table(found: list[tables.TableInfo]) -> tables.TableInfo | None:
    for t in found:
        if t.name.casefold() == TABLE.casefold():
            return t
    return found[0] if len(found) == 1 else None


def _raw_rows(path: str) -> tuple[list, list[list], int, str]:
    """Headers, body rows, the number of the first body row, and how rows are named."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        info = _pick_table(tables.find_tables(path))
        if info is not None:
            from openpyxl.utils.cell import range_boundaries

            min_col, min_row, max_col, max_row = range_boundaries(info.ref)
            rows = tables.read_block(path, info.sheet, min_row, max_row - info.totals_rows,
                                     min_col, max_col)
            return list(rows[0]), [list(r) for r in rows[1:]], min_row + 1, "row"
        rows = tables.read_rows(path)
        return (list(rows[0]) if rows else []), [list(r) for r in rows[1:]], 2, "row"
    frame = tables.read_table(path)
    return list(frame.columns), frame.to_numpy(dtype=object).tolist(), 2, "line"


def read_findings(path: str | os.PathLike, spec=None, today: dt.date | None = None
                  ) -> list[Observation]:
    """Read and check a research table (CSV or .xlsx) against a calculator spec.

    Parameters
    ----------
    path : path-like
        The findings: a CSV file (UTF-8, dates as ``YYYY-MM-DD``) or an .xlsx workbook, such
        as the research workbook (:func:`build`).
    spec : cvp_xl.workbooks.calculator.spec.Spec, optional
        The calculator the findings are for: inputs, units and allowed ranges are checked
        against it.  Without it only the form of each row is checked.
    today : datetime.date, optional
        Dates after it are refused (default: today).

    Returns
    -------
    list of Observation
        In table order.

    Raises
    ------
    FindingsError
        Every bad cell, by row (CSV: line) and column; nothing is returned.
    cvp_xl.errors.WorkbookError
        The file is missing, refused or not a table.
    """
    source = os.fspath(path)
    if not os.path.exists(source):
        raise WorkbookError(f"{source}: no such file")
    headers, body, first, where = _raw_rows(source)
    match = tables.match_headers(headers, COLUMNS + HELPERS)
    header_row = first - 1
    problems = [RowProblem(header_row, str(h), "appears twice" if why == "repeated" else
                           f"not a research column (expected: {', '.join(COLUMNS)})", where)
                for _, h, why in match.extra if not tables.is_blank(h)]
    problems += [RowProblem(header_row, col, "missing from the header row", where)
                 for col in match.missing if col in REQUIRED]
    if problems:
        raise FindingsError(problems, source)
    rows = []
    for k, cells in enumerate(body):
        raw = {c: (cells[match.positions[c]] if c in match.positions
                   and match.positions[c] < len(cells) else None) for c in COLUMNS}
        rows.append((first + k, raw))
    observations, problems = check_findings(rows, spec, today, where)
    if problems:
        raise FindingsError(problems, source)
    return observations


def _input_names(spec) -> dict[str, str]:
    """Spec input names (and earlier names under ``was:``) by key, to the current name."""
    names: dict[str, str] = {}
    for i in spec.inputs:
        names.setdefault(_key(i.name), i.name)
    for i in spec.inputs:
        for old in i.was:
            names.setdefault(_key(old), i.name)
    return names


def _range_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    return f"at least {lo:g}" if lo is not None else f"at most {hi:g}"


def check_findings(rows: Sequence[tuple[int, dict]], spec=None, today: dt.date | None = None,
                   where: str = "row") -> tuple[list[Observation], list[RowProblem]]:
    """Check raw rows (``(row number, {column: cell value})``) of a research table.

    Returns the observations of the good rows and every problem, by row and then in column
    order.  See :func:`read_findings`.
    """
    today = today or dt.date.today()
    names = _input_names(spec) if spec is not None else None
    spec_name = Path(getattr(spec, "path", "the spec")).name
    methods = {_key(m): m for m in rs.METHODS}
    out, problems = [], []
    for number, raw in rows:
        if all(tables.is_blank(raw.get(c)) for c in COLUMNS):
            continue
        found: list[RowProblem] = []

        def bad(col, message, number=number, found=found):
            found.append(RowProblem(number, col, message, where))

        text = {}
        for col in ("customer", "segment", "input", "method", "unit", "measured by",
                    "reference"):
            value = raw.get(col)
            t = tables.as_text(value, strip=True)
            if t is None and not tables.is_blank(value):
                bad(col, f"expected {_EXPECTED.get(col, 'text')}, got {tables.shown(value)}")
            elif t is None and col in REQUIRED:
                bad(col, f"expected {_EXPECTED[col]}, got a blank cell")
            text[col] = t
        name = text["input"]
        item = None
        if name is not None and names is not None:
            current = names.get(_key(name))
            if current is None:
                close = difflib.get_close_matches(name, [i.name for i in spec.inputs], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (not in {spec_name})"
                bad("input", f"unknown input {name!r}{hint}")
            else:
                name, item = current, spec.input(current)
        method = text["method"]
        if method is not None:
            method = methods.get(_key(method))
            if method is None:
                bad("method", f"expected {_EXPECTED['method']}, got {text['method']!r}")
        value = tables.as_number(raw.get("value"))
        if value is None and not tables.is_blank(raw.get("value")):
            bad("value", f"expected a number, got {tables.shown(raw.get('value'))}")
        elif value is None:
            bad("value", "expected a number, got a blank cell")
        elif item is not None and ((item.min is not None and value < item.min)
                                   or (item.max is not None and value > item.max)):
            bad("value", f"{value:g} is outside the allowed range of {item.name!r} "
                         f"({_range_text(item.min, item.max)}, {item.unit})")
        unit = text["unit"]
        if item is not None and unit is not None and _key(unit) != _key(item.unit):
            bad("unit", f"{unit!r} does not match the unit of {item.name!r} ({item.unit})")
        day = tables.as_date(raw.get("date"))
        if day is None:
            got = tables.shown(raw.get("date")) if not tables.is_blank(raw.get("date")) \
                else "a blank cell"
            bad("date", f"expected a date (YYYY-MM-DD), got {got}")
        elif day > today:
            bad("date", f"{day.isoformat()} is in the future (today is {today.isoformat()})")
        order = {c: k for k, c in enumerate(COLUMNS)}
        found.sort(key=lambda p: order[p.column])
        problems += found
        if not found:
            out.append(Observation(number, text["customer"], text["segment"], name, method,
                                   value, unit, day, text["measured by"],
                                   text["reference"] or ""))
    return out, problems


# -- importance ratings --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    """Survey importance ratings: one row per respondent, one column per driver."""

    drivers: tuple[str, ...]
    respondents: tuple[str, ...]
    customers: tuple[str, ...]
    segments: tuple[str, ...]
    ratings: tuple[tuple[float, ...], ...]


_RATING_KEYS = ("respondent", "customer", "segment")


def read_ratings(path: str | os.PathLike, scale: tuple[float, float] | None = None) -> Ratings:
    """Read and check importance ratings: columns respondent, customer, segment, then one column
    per value driver (its header is the driver's name).

    Ratings are numbers (0 or more; within ``scale`` when given, e.g. ``(1, 10)``), none blank.

    Raises
    ------
    RatingsError
        Every bad cell, by row (CSV: line) and column.
    """
    source = os.fspath(path)
    if not os.path.exists(source):
        raise WorkbookError(f"{source}: no such file")
    headers, body, first, where = _raw_rows(source)
    keys = [tables.header_key(h) for h in headers]
    problems = [RowProblem(first - 1, k, "missing from the header row", where)
                for k in _RATING_KEYS if k not in keys]
    drivers = [(j, tables.as_text(h, strip=True)) for j, (h, k) in enumerate(zip(headers, keys))
               if k not in _RATING_KEYS and not tables.is_blank(h)]
    if not drivers:
        problems.append(RowProblem(first - 1, "drivers", "expected one column per value driver "
                                   "after respondent, customer and segment", where))
    if problems:
        raise RatingsError(problems, source)
    pos = {k: keys.index(k) for k in _RATING_KEYS}
    lo, hi = scale if scale is not None else (0.0, None)
    rows, problems = [], []
    for k, cells in enumerate(body):
        number = first + k
        if all(tables.is_blank(v) for v in cells):
            continue
        texts = []
        for key in _RATING_KEYS:
            t = tables.as_text(cells[pos[key]], strip=True)
            if t is None:
                problems.append(RowProblem(number, key, f"expected a {key}, got "
                                           f"{tables.shown(cells[pos[key]])}", where))
            texts.append(t)
        values = []
        for j, driver in drivers:
            x = tables.as_number(cells[j])
            if x is None:
                problems.append(RowProblem(number, driver, "expected a rating, got "
                                           f"{tables.shown(cells[j])}", where))
            elif x < lo or (hi is not None and x > hi):
                allowed = f"{lo:g} to {hi:g}" if hi is not None else f"{lo:g} or more"
                problems.append(RowProblem(number, driver, f"{x:g} is outside the rating "
                                           f"scale ({allowed})", where))
            values.append(x)
        if not any(p.row == number for p in problems):
            if sum(values) == 0:
                problems.append(RowProblem(number, drivers[0][1], "every rating is 0; at "
                                           "least one must be above 0", where))
            rows.append((*texts, tuple(values)))
    if problems:
        raise RatingsError(problems, source)
    if not rows:
        raise RatingsError([RowProblem(first, "respondent", "no ratings", where)], source)
    return Ratings(tuple(d for _, d in drivers), *(tuple(r[i] for r in rows) for i in range(4)))


def positioning_attributes(ratings: Ratings, segment: str | None = None) -> list[dict]:
    """The ``value_map`` attributes of a positioning spec (:mod:`cvp_xl.workbooks.positioning`)
    from importance ratings: each driver with its weight, for one segment (case and surrounding
    spaces ignored) or for every respondent.

    >>> r = Ratings(("Uptime", "Energy"), ("R1", "R2"), ("A", "B"), ("Food", "Drinks"),
    ...             ((1.0, 1.0), (3.0, 1.0)))
    >>> positioning_attributes(r, "food"), positioning_attributes(r)
    ([{'name': 'Uptime', 'weight': 50.0}, {'name': 'Energy', 'weight': 50.0}], \
[{'name': 'Uptime', 'weight': 62.5}, {'name': 'Energy', 'weight': 37.5}])
    """
    groups = rs.segment_weights([list(r) for r in ratings.ratings], list(ratings.segments))
    key = "All" if segment is None else " ".join(segment.split()).casefold()
    for g in groups:
        if (g.segment == "All" if segment is None else g.segment.casefold() == key):
            return [{"name": d, "weight": w} for d, w in zip(ratings.drivers, g.weights)]
    raise CvpValueError(f"segment: no respondents in {segment!r} (segments: "
                        f"{', '.join(g.segment for g in groups[:-1])})")


# -- the research spec ---------------------------------------------------------------------------


def load_research_spec(spec=None) -> dict:
    """Read a research spec (a dict or a YAML path; default ``workbooks/research/linecare.yaml``).

    Keys: ``title``; ``calculator`` (the calculator spec, relative to the research spec);
    ``findings`` (the research table); ``percentiles`` (default ``P25/P50/P75``);
    ``min_n`` (observations needed before an input's low, base and high are set; default 3);
    ``drivers``: ``ratings`` (the importance ratings), ``scale`` ([low, high]), and
    ``value_map``: ``scores`` (name: one score per driver) for two offerings, ours first and
    the reference second.  File names are relative to the spec's folder (to
    ``workbooks/research/`` for a spec given as a dict).
    """
    from cvp_xl.workbooks.calculator.spec import load_spec

    data, where = read_mapping(spec, EXAMPLES / "linecare.yaml")
    base = Path(spec).parent if isinstance(spec, (str, os.PathLike)) else EXAMPLES

    def path_of(key, mapping=data, at=where):
        return base / text_field(mapping, key, at)

    out = {
        "title": text_field(data, "title", where, "Customer value research"),
        "calculator": load_spec(path_of("calculator")),
        "findings": path_of("findings"),
        "rule": rs.parse_rule(text_field(data, "percentiles", where, "P25/P50/P75")),
        "min_n": int(_get(data, "min_n", where, 3)),
    }
    drivers = _get(data, "drivers", where, None)
    out["drivers"] = None
    if drivers is not None:
        dwhere = f"{where}: drivers"
        if not isinstance(drivers, dict):
            raise CvpValueError(f"{dwhere}: expected ratings, scale and value_map")
        scale = _get(drivers, "scale", dwhere, None)
        if scale is not None and (not isinstance(scale, list) or len(scale) != 2):
            raise CvpValueError(f"{dwhere}: scale: expected [lowest, highest], got {scale!r}")
        ratings = read_ratings(path_of("ratings", drivers, dwhere),
                               tuple(float(s) for s in scale) if scale else None)
        vm = _get(drivers, "value_map", dwhere, None)
        scores = None
        if vm is not None:
            vwhere = f"{dwhere}: value_map"
            raw = _get(vm, "scores", vwhere)
            if not isinstance(raw, dict) or len(raw) != 2:
                raise CvpValueError(f"{vwhere}: scores: expected two offerings (ours first), "
                                    "each with one score per driver")
            scores = []
            for name, values in raw.items():
                if not isinstance(values, list) or len(values) != len(ratings.drivers):
                    raise CvpValueError(f"{vwhere}: scores: {name}: expected "
                                        f"{len(ratings.drivers)} scores, one per driver")
                scores.append((str(name), [float(v) for v in values]))
            try:
                positioning.value_map([1] * len(ratings.drivers), scores[0][1], scores[1][1])
            except CvpError as exc:
                raise type(exc)(f"{vwhere}: {exc.message}") from None
        out["drivers"] = {"ratings": ratings, "scores": scores}
    return out
