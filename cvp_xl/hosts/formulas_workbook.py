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

Formulas are made plain first (:mod:`cvp_xl.xlsx.formula_text`): Table structured references
become ranges, sheet-scoped names become aliases, and in a 1904 workbook the date functions
become their 1904 versions (:mod:`cvp_xl.hosts.excel_functions`).
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from cvp_xl.errors import ERROR_LITERALS, ErrorValue, WorkbookError
from cvp_xl.hosts.excel_functions import (
    DATE_FUNCTIONS_1904,
    UNSUPPORTED_1904,
    UNSUPPORTED_CODE,
    VOLATILE,
    register_excel_functions,
    sheet_facts,
)
from cvp_xl.xlsx.a1 import cells as range_cells
from cvp_xl.xlsx.a1 import parse_cell
from cvp_xl.xlsx.contents import Contents
from cvp_xl.xlsx.formula_text import quote_sheet, rewrite

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
    computed error cells (an unknown function, the message of a CVP_* call).
    """

    values: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)
    volatile: set = field(default_factory=set)
    reasons: dict = field(default_factory=dict)
    formula_cells: list = field(default_factory=list)


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
    names, local_names, external_names, name_problems = _names(contents, renames)
    plans = _plans(contents, table, renames, local_names, external_names, name_problems)
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
    model, solution = _run(contents, sheets, names, plans, by_key)
    _collect(contents, model, solution, plans, by_key, result)
    return result


def _functions():
    import formulas

    return formulas.get_functions()


def _names(contents: Contents, renames):
    """The defined names as the engine gets them, with scoped names under aliases."""
    local_names = {}
    names = []
    external = set()
    problems = {}
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
        if defined.sheet is None:
            names.append(_EngineName(defined.name, rewritten.text[1:]))
        else:
            alias = f"_CVPXL_LOCAL{i}"
            local_names[(defined.sheet.upper(), upper)] = alias
            names.append(_EngineName(alias, rewritten.text[1:]))
    return names, local_names, external, problems


def _plans(contents, table, renames, local_names, external_names, name_problems):
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
            rewritten = rewrite(cell.formula, sheet=sheet.name, row=row, tables=contents.tables,
                                local_names=local_names, renames=renames)
            plan.text = rewritten.text
            plan.kept = _why_kept(rewritten, sheet.name, table, known, external_names,
                                  name_problems, contents.date1904, plan)
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
        if plan.stored is None:
            plan.no_value_error = f"unknown function {shown}"
            return None
        return f"{shown.removeprefix('_XLUDF.')} is not a known function (an add-in?)"
    return None


def _excel_names():
    from openpyxl.utils.formulas import FORMULAE

    return FORMULAE


def _inner(plan):
    return [r for r in range_cells(plan.array) if r != plan.ref]


def _run(contents, sheets, names, plans, by_key):
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
    with sheet_facts(subtotal_cells, hidden, filtered):
        try:
            model.finish()
            solution = model.calculate()
        except Exception as exc:  # the engine's own failure, reported without a traceback
            raise WorkbookError(
                f"{contents.path}: the formulas engine could not compute it: {_message(exc)}"
            ) from None
    return model, solution


def _message(exc) -> str:
    if isinstance(exc.args, tuple) and len(exc.args) == 2 and isinstance(exc.args[0], str) \
            and "%s" in exc.args[0]:
        try:
            return (exc.args[0] % exc.args[1:]).replace("\n", " ").strip()
        except TypeError:
            pass
    return str(exc).replace("\n", " ").strip() or type(exc).__name__


# -- reading the solution ------------------------------------------------------------------


def _node(sheet: str, ref: str) -> str:
    """The engine's name for a cell or range of the book."""
    return f"'[{_BOOK_ID}]{sheet.upper()}'!{ref}"


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
        rng = by_node.get((plan.sheet.upper(), node_ref))
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
                note = "; the workbook allows iterative calculation, which recalc does not do"
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
