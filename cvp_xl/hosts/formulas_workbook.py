"""A whole workbook through the ``formulas`` engine, with every cell accounted for.

``formulas.ExcelModel().loads(path)`` opens the file with openpyxl (whose ``iter_rows`` walks
the declared rectangle), follows external links into other files on disk, and leaves a cell it
cannot compute out of its solution without a word.  :func:`compute_contents` instead hands the
engine the cells :func:`~cvp_xl.xlsx.contents.read_contents` read, through a small book object
that holds only those cells, and a model that refuses to open any other book.  Each formula
cell then ends in exactly one of two states:

- **computed**: the engine's value (possibly an Excel error, which Excel would show too);
- **kept**: not recomputed, with the reason: an Excel function the engine lacks, a reference to
  another workbook, a circular reference (the cycle named), a What-If data table, a formula the
  engine cannot read, or a dependency on a cell that was not recomputed and has no stored value.
  Such a cell keeps the value the file stored, and the caller names it.

When the workbook enables iterative calculation, the cells of a circular reference are
iterated as Excel does (:func:`_iterate`) and computed; a cycle that does not converge keeps
its last pass, as Excel does, and is named in ``problems``.

Formulas are made plain first (:mod:`cvp_xl.xlsx.formula_text`): Table structured references
become ranges, sheet-scoped names become aliases, and in a 1904 workbook the date functions
become their 1904 versions (:mod:`cvp_xl.hosts.excel_functions`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from cvp_xl.errors import ERROR_LITERALS, ErrorValue, WorkbookError
from cvp_xl.hosts.excel_functions import (
    DATE_FUNCTIONS_1904,
    INTERSECT_CODE,
    UNSUPPORTED_1904,
    UNSUPPORTED_CODE,
    VOLATILE,
    book_cells,
    register_excel_functions,
    sheet_facts,
)
from cvp_xl.xlsx.a1 import cells as range_cells
from cvp_xl.xlsx.a1 import parse_cell
from cvp_xl.xlsx.contents import Contents
from cvp_xl.xlsx.formula_text import as_excel_reads, is_area, quote_sheet, rewrite

__all__ = ["EngineResult", "compute_contents", "unusable"]

_BOOK_ID = "BOOK.XLSX"
#: Calls the engine's parser handles itself rather than through its function table.
_SPECIAL = frozenset({"LAMBDA", "LET", "_XLFN.LAMBDA", "_XLFN.LET"})


@dataclass
class EngineResult:
    """What the engine made of each formula cell, keyed by ``(sheet, "A1")``.

    ``values`` holds the computed values; ``kept`` the reason each other formula cell was not
    recomputed; ``volatile`` the computed cells whose value changes on every recalculation
    (RAND, NOW, OFFSET, ... or a cell that depends on one); ``reasons`` a reason for some
    computed error cells (an unknown function, the message of a CVP_* call); ``problems``
    what else a user must know (a circular reference that did not converge).
    """

    values: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)
    volatile: set = field(default_factory=set)
    reasons: dict = field(default_factory=dict)
    formula_cells: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def unusable(value) -> bool:
    """True for a value no cell can hold (an array, a function object, NaN, a complex)."""
    if isinstance(value, ErrorValue):
        return value.code not in ERROR_LITERALS
    if isinstance(value, (bool, str)) or value is None:
        return False
    if isinstance(value, (int, float)):
        return not np.isfinite(value)
    return True


# -- the book the engine sees --------------------------------------------------------------


class _EngineCell:
    __slots__ = ("coordinate", "value", "data_type")

    def __init__(self, coordinate, value, data_type):
        self.coordinate = coordinate
        self.value = value
        self.data_type = data_type


class _EngineSheet:
    """The cells of one sheet, as ``ExcelModel`` reads them, without any empty cell.

    ``iter_rows()`` without bounds yields the formula cells only (the model pushes those;
    constants are pulled in by reference); with bounds it yields every existing cell inside.
    """

    def __init__(self, title, cells, arrays):
        self.title = title
        self.formulas = [c for c in cells.values() if c.data_type == "f"]
        self.rows: dict[int, list] = {}
        for ref, cell in cells.items():
            row, col = parse_cell(ref)
            self.rows.setdefault(row, []).append((col, cell))
        for row in self.rows.values():
            row.sort(key=lambda item: item[0])
        self.row_numbers = sorted(self.rows)
        self.max_row = self.row_numbers[-1] if self.row_numbers else 1
        self.max_column = max((r[-1][0] for r in self.rows.values()), default=1)
        self.array_formulae = dict(arrays)

    def iter_rows(self, min_row=None, max_row=None, min_col=None, max_col=None):
        if min_row is None and max_row is None and min_col is None and max_col is None:
            for cell in self.formulas:
                yield (cell,)
            return
        import bisect

        lo = bisect.bisect_left(self.row_numbers, min_row or 1)
        hi = bisect.bisect_right(self.row_numbers, max_row or self.max_row)
        c1, c2 = min_col or 1, max_col or self.max_column
        for number in self.row_numbers[lo:hi]:
            yield tuple(cell for col, cell in self.rows[number] if c1 <= col <= c2)


class _EngineName:
    __slots__ = ("name", "value", "hidden", "localSheetId")

    def __init__(self, name, value):
        self.name, self.value, self.hidden, self.localSheetId = name, value, False, None


class _EngineBook:
    def __init__(self, sheets, names):
        self.worksheets = sheets
        self.sheetnames = [s.title for s in sheets]
        self._by_name = {s.title: s for s in sheets}
        self.defined_names = {n.name: n for n in names}
        self._external_links = []

    def __getitem__(self, name):
        return self._by_name[name]


def _model_class():
    import formulas

    class Model(formulas.ExcelModel):
        """An ExcelModel that never opens a file: only the book it was given exists."""

        own = None

        def add_book(self, book=None, context=None, data_only=False):
            if not isinstance(book, str) or book.upper() != _BOOK_ID:
                raise WorkbookError(f"another workbook is not opened: {book}")
            # ExcelModel.complete() drops a book from self.books when a reference into it
            # fails (a missing sheet); put ours back so the engine never turns to the disk
            self.books[_BOOK_ID] = self.own
            return super().add_book(book, context, data_only)

    return Model


# -- building ------------------------------------------------------------------------------


@dataclass
class _Plan:
    """One formula cell: what the engine gets and why a cell is kept."""

    sheet: str
    ref: str
    formula: str
    stored: object
    kind: str
    array: str | None
    text: str = ""
    kept: str | None = None
    no_value_error: str | None = None
    volatile: bool = False
    subtotal: bool = False


def _error(code: str):
    from formulas.tokens.operand import Error

    return Error.errors[code]


def _constant(value):
    """A stored value as an engine cell value and data type."""
    if isinstance(value, ErrorValue):
        code = value.code if value.code in ERROR_LITERALS else "#N/A"
        return _error(code), "e"
    if isinstance(value, bool):
        return value, "b"
    if isinstance(value, str):
        return value, "s"
    return value, "n"


def compute_contents(contents: Contents) -> EngineResult:
    """Compute every formula cell of `contents` with the engine; see the module docstring."""
    from cvp_xl.hosts.formulas_host import register_all

    register_all()
    register_excel_functions()
    table = _functions()
    renames = {}
    if contents.date1904:
        renames = {name: f"_CVPXL1904.{name}" for name in DATE_FUNCTIONS_1904}
    used = _used(contents)
    names, local_names, external_names, name_problems, name_ranges = _names(contents, renames,
                                                                            used)
    plans = _plans(contents, table, renames, local_names, external_names, name_problems,
                   name_ranges, used)
    result = EngineResult(formula_cells=[(p.sheet, p.ref) for p in plans])
    sheets = []
    by_key = {}
    for sheet in contents.sheets:
        cells = {}
        arrays = {}
        for ref, cell in sheet.cells.items():
            if cell.formula is None:
                cells[ref] = _EngineCell(ref, *_constant(cell.value))
        for plan in (p for p in plans if p.sheet == sheet.name):
            by_key[(sheet.name.upper(), plan.ref)] = plan
            if plan.kept is None:
                cells[plan.ref] = _EngineCell(plan.ref, plan.text, "f")
                if plan.kind == "array":
                    arrays[plan.ref] = plan.array
                    for inner in _inner(plan):
                        cells.pop(inner, None)
            else:
                stored = plan.stored if plan.stored is not None else ErrorValue("#N/A")
                cells[plan.ref] = _EngineCell(plan.ref, *_constant(stored))
        sheets.append(_EngineSheet(sheet.name, cells, arrays))
    for plan in plans:
        if plan.kept is not None:
            result.kept[(plan.sheet, plan.ref)] = plan.kept
    if all(p.kept is not None for p in plans):
        return result
    with _engine_output(result):
        model, solution = _run(contents, sheets, names, plans, by_key, result)
        _collect(contents, model, solution, plans, by_key, result)
    return result


_ENGINE_LOGGERS = ("formulas", "schedula")


@contextlib.contextmanager
def _engine_output(result: EngineResult):
    """Keep what the engine prints or logs out of the command's output.

    formulas logs ``Missing Reference `X`!`` and ``Error in loading `X```; with no handler
    Python prints such warnings on stderr, in the middle of the summary.  They are caught
    here; one that says a reference could not be resolved (its cells then hold #REF!) goes
    to ``problems``, with the reference as the workbook writes it.  Anything printed on
    stdout is dropped.
    """
    import io
    import logging

    records = []

    class _Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = _Keep(logging.WARNING)
    saved = []
    for name in _ENGINE_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
    seen = set()
    for record in records:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted says nothing useful
            continue
        found = re.search(r"(?:Missing Reference|Error in loading) `([^`]*)`", text)
        if found is None or found[1] in seen:
            continue
        seen.add(found[1])
        reference = found[1].replace(f"[{_BOOK_ID}]", "")
        result.problems.append(
            f"{reference}: the formulas engine could not resolve this reference; the cells "
            "that read it hold #REF!")


def _functions():
    import formulas

    return formulas.get_functions()


def _names(contents: Contents, renames, used):
    """The defined names as the engine gets them, with scoped names under aliases."""
    local_names = {}
    names = []
    external = set()
    problems = {}
    ranges = {}
    first = contents.all_sheet_names[0] if contents.all_sheet_names else ""
    for i, defined in enumerate(contents.names):
        upper = defined.name.upper()
        if upper.startswith("_XLNM.") or not defined.text:
            continue
        rewritten = rewrite(defined.text, sheet=defined.sheet or first, row=0,
                            tables=contents.tables, renames=renames)
        key = upper if defined.sheet is None else (defined.sheet.upper(), upper)
        if rewritten.external:
            external.add(key)
            continue
        if rewritten.problem:
            problems[key] = f"the name {defined.name} cannot be read: {rewritten.problem}"
            continue
        read = as_excel_reads(rewritten.text, sheet=defined.sheet or first, cell=(0, 0),
                              array=True, used=used)
        if is_area(rewritten.text[1:]):  # a name for one range: read as one where Excel does
            engine_name = upper if defined.sheet is None else f"_CVPXL_LOCAL{i}"
            ranges[engine_name] = rewritten.text[1:]
        if read.problem:
            problems[key] = f"the name {defined.name} cannot be read: {read.problem}"
            continue
        if defined.sheet is None:
            names.append(_EngineName(defined.name, read.text[1:]))
        else:
            alias = f"_CVPXL_LOCAL{i}"
            local_names[(defined.sheet.upper(), upper)] = alias
            names.append(_EngineName(alias, read.text[1:]))
    return names, local_names, external, problems, ranges


def _used(contents) -> dict:
    """``{SHEET: (last row, last column)}`` of the cells each sheet holds."""
    used = {}
    for sheet in contents.sheets:
        last_row = last_col = 0
        for ref in sheet.cells:
            r, c = parse_cell(ref)
            last_row, last_col = max(last_row, r), max(last_col, c)
        used[sheet.name.upper()] = (last_row, last_col)
    return used


def _plans(contents, table, renames, local_names, external_names, name_problems,
           name_ranges, used):
    known = {n.name.upper() for n in contents.names}
    plans = []
    for sheet in contents.sheets:
        for ref, cell in sheet.cells.items():
            if cell.formula is None:
                continue
            plan = _Plan(sheet.name, ref, cell.formula, cell.value, cell.kind, cell.array)
            plans.append(plan)
            if cell.kind == "datatable":
                plan.kept = "a What-If data table is not recomputed"
                continue
            if not cell.formula.strip():
                plan.kept = "the formula is empty (a shared formula without its master cell)"
                continue
            row = parse_cell(ref)[0]
            rewritten = rewrite(cell.formula, sheet=sheet.name, row=row,
                                tables=contents.tables, local_names=local_names,
                                renames=renames, sheets=contents.all_sheet_names,
                                defined=known)
            if rewritten.problem is None:
                last = parse_cell(cell.array.partition(":")[2] or cell.array) if \
                    cell.kind == "array" and cell.array else (row, parse_cell(ref)[1])
                read = as_excel_reads(rewritten.text, sheet=sheet.name, cell=last,
                                      array=cell.kind == "array", used=used,
                                      name_ranges=name_ranges)
                rewritten.text, rewritten.problem = read.text, read.problem
                rewritten.names -= read.names  # read as their cells, no longer used as names
            plan.text = rewritten.text
            plan.kept = _why_kept(rewritten, sheet.name, table, known, external_names,
                                  name_problems, contents.date1904, plan)
            if plan.kept is None and rewritten.undefined:
                plan.no_value_error = "; ".join(rewritten.undefined)
            plan.volatile = bool(rewritten.functions & VOLATILE)
            plan.subtotal = bool(rewritten.functions & {"SUBTOTAL", "AGGREGATE",
                                                        "_XLFN.AGGREGATE"})
    return plans


def _why_kept(rewritten, sheet, table, known, external_names, name_problems, date1904, plan):
    if rewritten.external or any(
            n in external_names or (sheet.upper(), n) in external_names
            for n in rewritten.names):
        return "refers to another workbook (an external link), which is never opened"
    if rewritten.problem:
        return rewritten.problem
    for n in rewritten.names:
        problem = name_problems.get((sheet.upper(), n)) or name_problems.get(n)
        if problem:
            return problem
    for name in sorted(rewritten.functions):
        if date1904 and name.removeprefix("_XLFN.") in UNSUPPORTED_1904:
            return f"{name.removeprefix('_XLFN.')} in the 1904 date system is not supported"
        if name in table or name in known or name in _SPECIAL:
            continue
        shown = name.removeprefix("_XLFN.").removeprefix("_XLWS.")
        if name.startswith(("_XLFN.", "_XLWS.")) or name in _excel_names():
            return f"{shown} is not supported"
        shown = shown.removeprefix("_XLUDF.")
        if shown.startswith("CVP_"):  # not a function of cvp-xl: Excel with the add-in shows
            if plan.stored is None:   # #NAME? too
                plan.no_value_error = f"unknown function {shown}"
                return None
            return f"{shown} is not a function of this version of cvp-xl"
        # a macro (VBA) or add-in function: only the workbook's own code can compute it
        return (f"{_as_written(plan.formula, shown)} is not an Excel function: a macro or "
                "add-in function")
    return None


def _as_written(formula: str, name: str) -> str:
    """A function's name as the formula spells it (``myFunc``), for a message."""
    found = re.search(r"(?<![\w.])(?:_xludf\.)?(" + re.escape(name) + r")\s*\(", formula,
                      re.IGNORECASE)
    return found[1] if found else name


def _excel_names():
    from openpyxl.utils.formulas import FORMULAE

    return FORMULAE


def _inner(plan):
    return [r for r in range_cells(plan.array) if r != plan.ref]


def _run(contents, sheets, names, plans, by_key, result):
    from formulas.excel import BOOK

    from cvp_xl.hosts.formulas_host import quiet_engine

    quiet_engine()
    model = _model_class()()
    model.basedir = os.path.dirname(os.path.abspath(contents.path)) or "."
    book = _EngineBook(sheets, names)
    model.own = {BOOK: book, "external_links": {}}
    model.books = {_BOOK_ID: model.own}
    try:
        _, context = model.add_book(_BOOK_ID)
    except Exception as exc:  # a defined name the engine cannot read
        raise WorkbookError(
            f"{contents.path}: the formulas engine cannot read the defined names: "
            f"{_message(exc)}") from None
    for sheet in sheets:
        ws, ctx = model.add_sheet(sheet, context)
        references = model.references
        formula_references = model.formula_references(ctx)
        formula_ranges = model.formula_ranges(ctx)
        ctx = {"external_links": {}, **ctx}
        for (cell,) in ws.iter_rows():
            plan = by_key.get((ws.title.upper(), cell.coordinate))
            try:
                compiled = model.compile_cell(cell, ctx, references, formula_references)
                model.add_cell(compiled, ctx, formula_ranges)
            except Exception as exc:  # the engine's parser: the cell is named, not the run
                if plan is not None:
                    plan.kept = f"the formulas engine cannot read this formula ({_message(exc)})"
    subtotal_cells = set()
    for p in plans:
        if p.subtotal:
            row, col = parse_cell(p.ref)
            subtotal_cells.add((p.sheet.upper(), row, col))
    hidden = {s.name.upper(): s.hidden_rows for s in contents.sheets}
    filtered = {s.name.upper(): s.filtered for s in contents.sheets}
    constants, formula_cells = _book_cells(sheets, plans)
    anchors = {(p.sheet.upper(), *parse_cell(p.ref)) for p in plans if p.kind == "array"}
    with sheet_facts(subtotal_cells, hidden, filtered), \
            book_cells(constants, formula_cells, anchors):
        try:
            model.finish()
            solution = model.calculate()
            if contents.iterate:  # in the same context: SUBTOTAL, OFFSET read it
                solution = _iterate(contents, model, solution, plans, result)
        except Exception as exc:  # the engine's own failure, reported without a traceback
            raise WorkbookError(
                f"{contents.path}: the formulas engine could not compute it: {_message(exc)}"
            ) from None
    return model, solution


def _book_cells(sheets, plans):
    """The constants of each sheet and the cells formulas compute, for OFFSET."""
    constants = {}
    for sheet in sheets:
        constants[sheet.title.upper()] = {
            (row, col): cell.value for row, cells in sheet.rows.items()
            for col, cell in cells if cell.data_type != "f"}
    formula_cells = {}
    for plan in plans:
        where = formula_cells.setdefault(plan.sheet.upper(), set())
        for ref in (range_cells(plan.array) if plan.kind == "array" and plan.array else
                    [plan.ref]):
            where.add(parse_cell(ref))
    return constants, formula_cells


def _message(exc) -> str:
    if isinstance(exc.args, tuple) and len(exc.args) == 2 and isinstance(exc.args[0], str) \
            and "%s" in exc.args[0]:
        try:
            return (exc.args[0] % exc.args[1:]).replace("\n", " ").strip()
        except TypeError:
            pass
    return str(exc).replace("\n", " ").strip() or type(exc).__name__


# -- iterative calculation -------------------------------------------------------------------


def _iterate(contents, model, solution, plans, result: EngineResult):
    """Iterate the circular references as Excel does when the workbook enables it.

    Excel's rule (File > Options > Formulas > Enable iterative calculation; ``<calcPr
    iterate="1" iterateCount="100" iterateDelta="0.001"/>`` in the file): each pass
    recomputes the cells of the cycle in sheet order, each from the latest values of the
    others, starting from the values the cells hold (the stored values; 0 for a cell without
    one); it stops when no value changed by more than ``iterateDelta`` in a pass, or after
    ``iterateCount`` passes.  A cycle still moving after the last pass keeps the last pass'
    values, without an error, as in Excel; it is named in ``result.problems`` (so ``recalc
    --strict`` fails).  The cells computed from the cycle are then computed by the engine
    from the cycle's values.  A cycle that reads a cell the engine could not compute is left
    alone (its cells are named as a circular reference).
    """
    from formulas.cell import InvRangesAssembler

    functions = model.dsp.function_nodes
    inverse = {k for k, node in functions.items()
               if isinstance(node.get("function"), InvRangesAssembler)}
    succ = _Pruned(model.dsp.dmap.succ, inverse)
    node_of = {_node(p.sheet, p.array if p.kind == "array" else p.ref): p
               for p in plans if p.kept is None}
    missing = [n for n in node_of if n not in solution]
    components = _cyclic_components(succ, missing) if missing else {}
    if not components:
        return solution
    producer = {}
    for key, node in functions.items():
        if key not in inverse:
            for out in node.get("outputs", ()):
                producer[out] = key
    order = {name.upper(): i for i, name in enumerate(contents.all_sheet_names)}
    values = {}
    groups = []
    for component in {id(c): c for c in components.values()}.values():
        cells = sorted((n for n in component if n in node_of),
                       key=lambda n: (order.get(node_of[n].sheet.upper(), 0),
                                      *parse_cell(node_of[n].ref)))
        ranges = {n for n in component if n not in node_of and n not in functions}
        state = {n: _start_value(n, node_of[n]) for n in cells}
        try:
            passes, change = _passes(contents, functions, producer, solution, cells, ranges,
                                     state)
        except _CannotIterate:
            continue
        values.update(state)
        groups.append((cells, passes, change))
    if not values:
        return solution
    for cells, passes, change in groups:
        if change >= contents.iterate_delta:
            first = node_of[cells[0]]
            cycle = _cycle_path(succ, cells[0], components[cells[0]], node_of)
            path = " → ".join(_short(first.sheet, p) for p in cycle)
            result.problems.append(
                f"{first.sheet}!{first.ref}: circular reference ({path}) did not converge in "
                f"{passes} iterations (the last one changed a value by {change:.6g}, more "
                f"than {contents.iterate_delta:.6g}); kept the last iteration's values, as "
                "Excel does")
    try:
        return model.calculate(inputs=values)
    except Exception:  # the engine's own failure: the cycle's cells stay named
        return solution


class _CannotIterate(Exception):
    pass


def _start_value(node, plan):
    from formulas.ranges import Ranges

    value = plan.stored if plan.stored is not None else 0
    engine_value, _ = _constant(value)
    return Ranges().push(node, engine_value)


def _passes(contents, functions, producer, solution, cells, ranges, state):
    """Run Excel's passes over one cycle, updating `state`; (passes, last largest change)."""
    change, passes = math.inf, 0
    while passes < max(contents.iterate_count, 1) and change >= contents.iterate_delta:
        passes += 1
        change = 0.0
        for node in cells:
            new = _as_range(node, _evaluate(node, functions, producer, solution, ranges, state))
            change = max(change, _change(state[node], new))
            state[node] = new
    return passes, change


def _evaluate(name, functions, producer, solution, ranges, state):
    """The value the function producing `name` gives from the latest values."""
    key = producer.get(name)
    if key is None:
        raise _CannotIterate
    spec = functions[key]
    args = [_input(i, functions, producer, solution, ranges, state)
            for i in spec.get("inputs", ())]
    try:
        return spec["function"](*args)
    except Exception:  # the engine's own defect: no iteration for this cycle
        raise _CannotIterate from None


def _input(name, functions, producer, solution, ranges, state):
    if name in state:
        return state[name]
    if name in ranges:  # a range over cells of the cycle: assembled from the latest values
        return _evaluate(name, functions, producer, solution, ranges, state)
    if name in solution:
        return solution[name]
    raise _CannotIterate


def _as_range(node, out):
    from formulas.ranges import Ranges

    if isinstance(out, Ranges):
        out = out.value
    arr = np.asarray(out, dtype=object)
    arr = arr.reshape(1, 1) if arr.ndim == 0 else arr
    flat = arr.ravel()
    for i, v in enumerate(flat):  # a function's result may hold 0-d arrays (SUM)
        if isinstance(v, np.ndarray) and v.size == 1:
            flat[i] = v.ravel()[0]
    return Ranges().push(node, flat.reshape(arr.shape))


def _change(old, new) -> float:
    """The largest change between two values of a cell (infinite for a change of type)."""
    a = np.asarray(old.value, dtype=object).ravel()
    b = np.asarray(new.value, dtype=object).ravel()
    if a.shape != b.shape:
        return math.inf
    largest = 0.0
    for x, y in zip(a, b, strict=True):
        if _is_num(x) and _is_num(y):
            largest = max(largest, abs(float(x) - float(y)))
        elif not (type(x) is type(y) and x == y):
            largest = math.inf
    return largest


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


# -- reading the solution ------------------------------------------------------------------


def _node(sheet: str, ref: str) -> str:
    """The engine's name for a cell or range of the book (``A1:XFD1`` is ``A1:1`` to it)."""
    name = f"'[{_BOOK_ID}]{sheet.upper()}'!{ref}"
    if ":" in ref:
        from formulas.ranges import Ranges

        name = Ranges.get_range(name)["name"]
    return name


def _collect(contents, model, solution, plans, by_key, result: EngineResult):
    import schedula as sh
    from formulas.tokens.operand import XlError

    from cvp_xl.hosts.formulas_host import from_engine

    by_node = {}
    for key, rng in solution.items():
        if isinstance(key, sh.Token) or not isinstance(key, str):
            continue
        sheet, _, ref = key.rpartition("!")
        if not sheet.startswith("'[") or "]" not in sheet:
            continue
        by_node[(sheet.split("]", 1)[1].rstrip("'"), ref)] = rng
    missing = []
    for plan in plans:
        if plan.kept is not None:
            result.kept[(plan.sheet, plan.ref)] = plan.kept
            continue
        node_ref = plan.array if plan.kind == "array" else plan.ref
        rng = by_node.get((plan.sheet.upper(), _node(plan.sheet, node_ref).rpartition("!")[2]))
        if rng is None:
            missing.append(plan)
            continue
        arr = np.asarray(getattr(rng, "value", rng), dtype=object)
        arr = arr.reshape(1, 1) if arr.ndim == 0 else arr
        targets = list(range_cells(plan.array)) if plan.kind == "array" else [plan.ref]
        r0, c0 = parse_cell(targets[0]) if plan.kind == "array" else parse_cell(plan.ref)
        ok = True
        cell_values = {}
        for ref in targets:
            r, c = parse_cell(ref)
            i, j = r - r0, c - c0
            v = arr[i, j] if i < arr.shape[0] and j < arr.shape[1] else _error("#N/A")
            if isinstance(v, XlError) and str(v) == UNSUPPORTED_CODE:
                ok = None
                break
            if isinstance(v, XlError) and str(v) == INTERSECT_CODE:
                ok = "intersect"
                break
            if isinstance(v, XlError) and str(v) not in ERROR_LITERALS:
                v = _error("#VALUE!")
            value = _cell_value(v, from_engine)
            if unusable(value):
                ok = False
                break
            cell_values[ref] = value
        if plan.kind != "array" and arr.size > 1:
            shape = "×".join(map(str, arr.shape))
            result.kept[(plan.sheet, plan.ref)] = (
                f"the result is an array of {shape} values in a cell that is not an array "
                "formula")
            continue
        if ok == "intersect":
            result.kept[(plan.sheet, plan.ref)] = (
                "it computes several values where Excel shows one (a range or array used as one "
                "value: Excel's implicit intersection), here or in a cell it depends on")
            continue
        if ok is None:
            result.kept[(plan.sheet, plan.ref)] = (
                "a function in it (or in a cell it depends on) was called in a way that cannot "
                "be computed as Excel does")
            continue
        if not ok:
            result.kept[(plan.sheet, plan.ref)] = "the engine returned a value no cell can hold"
            continue
        for ref, value in cell_values.items():
            result.values[(plan.sheet, ref)] = value
        if plan.no_value_error:
            result.reasons[(plan.sheet, plan.ref)] = plan.no_value_error
        elif isinstance(cell_values.get(plan.ref), ErrorValue) and "CVP_" in plan.text.upper():
            reason = _cvp_reason(model, solution, _node(plan.sheet, node_ref))
            if reason:
                result.reasons[(plan.sheet, plan.ref)] = reason
    _account_for_graph(model, plans, missing, result, contents)


def _cvp_reason(model, solution, node) -> str:
    """The message of the CVP_* call that made this cell an error, found by computing it again.

    Empty when the error came from another cell (the message belongs to that cell).
    """
    from cvp_xl.hosts import formulas_host

    cell = model.cells.get(node)
    if cell is None or getattr(cell, "inputs", None) is None:
        return ""
    with formulas_host.capture_messages() as messages:
        try:
            cell.func(*[solution[i] for i in cell.inputs])
        except Exception:  # the engine's own trouble: no reason to give
            return ""
    if not messages:
        return ""
    name, message = messages[0]
    return f"{name}: {message}"


def _cell_value(v, from_engine):
    from formulas.ranges import Ranges

    if isinstance(v, Ranges):
        inner = np.asarray(v.value, dtype=object)
        if inner.size != 1:
            return object()
        v = inner.ravel()[0]
    return from_engine(v, empty=0)


def _account_for_graph(model, plans, missing, result, contents):
    """Name the cells the engine left out (cycles, dependents) and find volatile cells."""
    from formulas.cell import InvRangesAssembler

    # the engine also links each range back to its cells (to spread an array result); those
    # links are not dependencies
    inverse = {k for k, node in model.dsp.function_nodes.items()
               if isinstance(node.get("function"), InvRangesAssembler)}
    graph = model.dsp.dmap.succ
    succ = _Pruned(graph, inverse)
    node_of = {}
    for plan in plans:
        node_of[_node(plan.sheet, plan.array if plan.kind == "array" else plan.ref)] = plan
    cycle_nodes = _cyclic_components(succ, {_node(p.sheet, p.ref) for p in missing}) if \
        missing else {}
    for plan in missing:
        node = _node(plan.sheet, plan.ref)
        component = cycle_nodes.get(node)
        if component is not None:
            path = _cycle_path(succ, node, component, node_of)
            shown = " → ".join(_short(plan.sheet, p) for p in path)
            note = ""
            if contents.iterate:
                note = ("; the workbook allows iterative calculation, but the cycle reads a "
                        "cell that was not recomputed")
            result.kept[(plan.sheet, plan.ref)] = f"circular reference: {shown}{note}"
    # cells downstream of a cell that was not recomputed and has no stored value
    sources = [
        _node(p.sheet, p.ref) for p in plans
        if (p.sheet, p.ref) in result.kept and p.stored is None
    ]
    for node, origin in _descendants(succ, sources, node_of).items():
        plan = node_of[node]
        key = (plan.sheet, plan.ref)
        if key in result.kept:
            continue
        origin_plan = node_of[origin]
        result.kept[key] = (
            f"depends on {_short(plan.sheet, origin_plan)}, which was not recomputed")
        if plan.kind == "array":
            for ref in range_cells(plan.array):
                result.values.pop((plan.sheet, ref), None)
        result.values.pop(key, None)
    for plan in missing:
        key = (plan.sheet, plan.ref)
        if key not in result.kept:
            result.kept[key] = "the formulas engine computed no value for it"
    volatile = [_node(p.sheet, p.ref) for p in plans if p.volatile]
    for node in volatile + list(_descendants(succ, volatile, node_of)):
        plan = node_of.get(node)
        if plan is not None and (plan.sheet, plan.ref) in result.values:
            result.volatile.add((plan.sheet, plan.ref))


class _Pruned:
    """The successors of a graph without some nodes."""

    def __init__(self, succ, removed):
        self.succ, self.removed = succ, removed

    def get(self, node, default=()):
        nxt = self.succ.get(node)
        if nxt is None:
            return default
        return [n for n in nxt if n not in self.removed]


def _short(sheet: str, plan) -> str:
    return plan.ref if plan.sheet == sheet else f"{quote_sheet(plan.sheet)}!{plan.ref}" \
        if not plan.sheet.replace("_", "").isalnum() else f"{plan.sheet}!{plan.ref}"


def _descendants(succ, sources, node_of) -> dict:
    """Every formula node reachable from `sources`, with the source it was reached from."""
    seen = {}
    queue = deque((s, s) for s in sources)
    visited = set(sources)
    while queue:
        node, origin = queue.popleft()
        for nxt in succ.get(node, ()):
            if nxt in visited:
                continue
            visited.add(nxt)
            if nxt in node_of:
                seen[nxt] = origin
            queue.append((nxt, origin))
    return seen


def _cyclic_components(succ, wanted) -> dict:
    """``{node: component}`` for the wanted nodes that lie on a cycle (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], {}
    counter = 0
    for start in wanted:
        if start in index:
            continue
        work = [(start, iter(succ.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in succ.get(node, ()):
                    for member in component:
                        out[member] = component
    return out


def _cycle_path(succ, start, component, node_of) -> list:
    """The formula cells of one cycle through `start`, starting and ending with it."""
    parents = {start: None}
    queue = deque([start])
    end = None
    while queue and end is None:
        node = queue.popleft()
        for nxt in succ.get(node, ()):
            if nxt == start:
                end = node
                break
            if nxt in component and nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    path = []
    node = end
    while node is not None:
        path.append(node)
        node = parents[node]
    path.reverse()
    cells = [node_of[n] for n in path if n in node_of]
    return cells + [node_of[start]]
