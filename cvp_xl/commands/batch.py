"""Batch regeneration: one calculator per customer, fast, with nothing a customer typed lost.

The numbers of all customers are computed at once with the vectorised model
(:mod:`cvp_xl.workbooks.calculator.model`); each file is then written once, with formulas
and cached values, atomically (a temporary file renamed into place).

- **A row is the unit of failure.** A bad value, a division by zero, an overflow, a
  character a workbook cannot hold: the row is reported with its line and customer id and
  skipped; every other customer is written, and the summary always lists every row.
- **A rerun rewrites nothing that is up to date**: each file carries a digest of the spec,
  the template and its row.  A file whose row changed is rebuilt, and what the customer
  entered in it is carried over by the rules of :mod:`cvp_xl.commands.carry` (the file
  records the values the table gave it, so the customer's entries are told from the
  table's); a file that cannot be rebuilt without losing an entry is left as it is and
  reported.  ``force`` rebuilds every file from the table, keeping each file a customer
  edited in ``previous-<timestamp>/`` first.
- **File names are safe on every file system** (:func:`assign_files`): never the name of
  the summary, of a file the user keeps in the folder, of another customer's file (case
  ignored) or of a Windows device name.

:func:`build_many` takes any :class:`concurrent.futures.Executor`, so a job that outgrows one
machine can hand it a Dask client's executor (``client.get_executor()``) unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cvp_xl.errors import CvpXlError, RowProblem, WorkbookError
from cvp_xl.workbooks.calculator import model
from cvp_xl.workbooks.calculator.builder import TEMPLATE_VERSION, build
from cvp_xl.workbooks.calculator.spec import Spec
from cvp_xl.xlsx import tables
from cvp_xl.xlsx.atomic import (
    DISK_ERRORS,
    clean_temporaries,
    copy_atomic,
    locked,
    not_written,
)
from cvp_xl.xlsx.tables import LineProblem

from .carry import backup_folder
from .entered import DIGEST_PROPERTY, ID_PROPERTY, read_properties, table_properties
from .file_names import assign_files, file_name, illegal_character, printable
from .pdf import PdfReport
from .summary import SummaryLines, summary_frame, summary_row, write_summary

__all__ = ["customer_table", "read_table", "open_table", "validate", "Rows", "Customers",
           "build_many", "BatchReport", "RowProblem",
           "ID", "NAME", "DIGEST_PROPERTY", "file_name", "assign_files", "stored_digest",
           "write_summary", "Paths"]

ID, NAME = "customer_id", "customer_name"
_MAX_TEXT = 32_767


class Paths(Sequence):
    """Paths of files, one per customer, kept in a temporary file rather than in memory.

    A sequence of :class:`~pathlib.Path` like a list (``len``, iteration, indexing,
    ``append``), equal to a list of the same paths; it holds 8 bytes a path in memory, so
    that a batch of 10,000 customers takes no more memory than one of 1,000.  The file is
    anonymous (removed when the object is collected) and made at the first ``append``.
    """

    def __init__(self, paths: Iterable[os.PathLike | str] = ()) -> None:
        self._file = None
        self._ends = array("q")
        for path in paths:
            self.append(path)

    def append(self, path: os.PathLike | str) -> None:
        """Add a path at the end."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix=".cvp-xl-paths-")
            weakref.finalize(self, self._file.close)  # closed (removed) with this object
        self._file.seek(0, os.SEEK_END)
        self._file.write(os.fsencode(path))
        self._ends.append(self._file.tell())

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        k = range(len(self))[k]  # IndexError as a list raises it
        start = self._ends[k - 1] if k else 0
        self._file.seek(start)
        return Path(os.fsdecode(self._file.read(self._ends[k] - start)))

    def __iter__(self) -> Iterator[Path]:
        for k in range(len(self)):
            yield self[k]

    def __eq__(self, other) -> bool:
        if isinstance(other, (Paths, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __reduce__(self):
        return Paths, (list(self),)

    def __repr__(self) -> str:
        return f"Paths({list(self)!r})"


@dataclass
class BatchReport:
    """What :func:`build_many` did, file by file and row by row.

    ``written`` and ``up_to_date`` list every such file (:class:`Paths`: kept on disk, read
    back on use); ``summary`` is the summary's table, read back from the lines the batch
    wrote when it is first asked for (None when it could not be written).  ``carried``
    lists the files rebuilt with the customer's entries kept (path and one line per entry);
    ``kept`` the files left as they are (path and why); ``conflicts`` the table changes not
    applied because the customer had changed the same value; ``names`` the customers whose
    file got another name than their id; ``notes`` how the table was read.
    """

    written: Paths = field(default_factory=Paths)
    up_to_date: Paths = field(default_factory=Paths)
    carried: list[tuple[Path, list[str]]] = field(default_factory=list)
    kept: list[tuple[Path, str]] = field(default_factory=list)
    conflicts: list[tuple[Path, str]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (customer id, message)
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backup: Path | None = None
    stopped: str | None = None          # the disk error that stopped the run
    not_written: list[str] = field(default_factory=list)  # summary files, with the reason
    pdfs: PdfReport | None = None       # pdf=True: the PDFs next to the calculators
    _summary: object = field(default=None, repr=False)  # a frame, or what makes it

    @property
    def summary(self) -> pd.DataFrame | None:
        """The summary as written (the files' headers, one line per row of the table)."""
        if callable(self._summary):
            self._summary = self._summary()
        return self._summary

    @summary.setter
    def summary(self, frame: pd.DataFrame | None) -> None:
        self._summary = frame

    @property
    def ok(self) -> bool:
        """No row skipped, no file failed or left as it was, no table change left unapplied."""
        return not (self.problems or self.failed or self.kept or self.conflicts
                    or self.stopped or self.not_written or (self.pdfs and self.pdfs.failed))


def customer_table(spec: Spec, path: str | os.PathLike) -> Path:
    """Write the customer table a batch needs: id, name, one column per input, one example row."""
    path = Path(path)
    columns = [ID, NAME] + spec.input_names
    row = ["C-0001", "Example customer"] + [i.base for i in spec.inputs]
    frame = pd.DataFrame([row], columns=columns)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        from cvp_xl.xlsx.cached import atomic_save_workbook
        from cvp_xl.xlsx.write import set_value

        wb = Workbook()
        ws = wb.active
        ws.title = "Customers"
        for c, name in enumerate(columns, start=1):
            set_value(ws.cell(1, c), name)
            set_value(ws.cell(2, c), row[c - 1])
        atomic_save_workbook(wb, path)
    else:
        from cvp_xl.xlsx.atomic import atomic_path

        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
    return path


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a customer table (CSV or .xlsx) with every cell as it was typed (no coercion).

    Read with :func:`cvp_xl.xlsx.tables.read_table` (encodings, separators, blank and total
    rows, lines of the wrong length: see there); headers lose surrounding spaces.  The index
    holds each row's line (CSV) or row (workbook) number.
    """
    frame = tables.read_table(path, csv_error="not a readable CSV file")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def open_table(path: str | os.PathLike) -> tables.TableStream:
    """A customer table to read row by row (:func:`cvp_xl.xlsx.tables.open_table`): what
    :func:`read_table` reads, without holding its rows (``cvp-xl batch`` reads it so)."""
    stream = tables.open_table(path, csv_error="not a readable CSV file")
    stream.columns = [str(c).strip() for c in stream.columns]
    return stream


# -- rows ---------------------------------------------------------------------------------------


class Customers(Sequence):
    """The customers of a table, held compactly: each read back as a dict with the keys
    ``row``, ``where``, ``customer_id`` and ``customer_name`` (a slice as a list of them)."""

    def __init__(self, where: str = "row") -> None:
        self.where = where
        self._rows = array("q")
        self._ids: list[str] = []
        self._names: list[str] = []

    def append(self, row: int, customer_id: str, customer_name: str) -> None:
        self._rows.append(row)
        self._ids.append(customer_id)
        self._names.append(customer_name)

    @property
    def ids(self) -> list[str]:
        """The customer ids, in the table's order."""
        return self._ids

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        return {"row": self._rows[k], "where": self.where, ID: self._ids[k],
                NAME: self._names[k]}


@dataclass
class Rows:
    """The rows of a customer table that can be built, and what was wrong with the others."""

    customers: Customers                  # row, where, customer_id, customer_name
    values: dict[str, np.ndarray]         # input name -> one value per customer
    problems: list[RowProblem]
    skipped: list[dict]                   # row, where, customer_id, customer_name, problem
    notes: list[str]


def validate(spec: Spec, frame: pd.DataFrame | tables.TableStream, source: str = "table"
             ) -> Rows:
    """Check every row of a customer table (a frame, or a table read row by row:
    :func:`open_table`; then no more than a few thousand cells are held at a time).

    Columns are matched ignoring case, spaces and underscores, by an input's name or an
    earlier name it lists under ``was:``.  Numbers are read by the rule of
    :func:`cvp_xl.xlsx.tables.parse_number` (percentages, thousands separators), with the
    decimal mark the table's number fields show (:func:`~cvp_xl.xlsx.tables.decimal_mark`).
    Rows are numbered as the file counts them (:func:`~cvp_xl.xlsx.tables.row_numbers`).

    Raises
    ------
    cvp_xl.errors.WorkbookError
        A column is missing (the table cannot be used at all).
    """
    if isinstance(frame, tables.TableStream):
        columns, read, where = frame.columns, frame.read, frame.read.where
        numbered = frame.rows
    else:
        columns, read = list(frame.columns), frame.attrs.get("read")
        numbers, where = tables.row_numbers(frame)

        def numbered():
            return zip(numbers, frame.itertuples(index=False, name=None))
    wanted = [ID, NAME] + spec.input_names
    aliases = {i.name: i.was for i in spec.inputs}
    positions, notes, missing = {}, [], []
    for name in wanted:
        keys = [name, *aliases.get(name, ())]
        found = [(k, j) for k in keys for j, c in enumerate(columns)
                 if tables.header_key(c) == tables.header_key(k)]
        if not found:
            missing.append(name)
            continue
        key, j = found[0]
        positions[name] = j
        if key != name:
            notes.append(f"column {columns[j]!r} read as the input {name!r} (its earlier "
                         f"name)")
        repeats = [c for k, c in found[1:] if c != j]
        if repeats:
            notes.append(f"column {columns[j]!r} is given {len(repeats) + 1} times; the "
                         f"first is used")
    if missing:
        raise WorkbookError(f"{source}: missing column{'s' * (len(missing) > 1)} "
                            f"{', '.join(repr(m) for m in missing)} (one per input of the spec; "
                            f"`cvp-xl customers SPEC` writes a template)")
    default = read.decimal if read is not None else "."
    if isinstance(frame, tables.TableStream):
        decimal = _decimal_mark(numbered, [positions[n] for n in spec.input_names], default)
    else:
        decimal = tables.decimal_mark([v for n in spec.input_names
                                       for v in frame.iloc[:, positions[n]]], default)
    if decimal == ",":
        notes.append("numbers are read with a decimal comma (1.234,5 is 1234.5)")
    elif decimal == "mixed":
        notes.append("numbers use both . and , as decimal marks; a number either could "
                     "read (1,234) is refused")
    problems = list(read.problems) if read is not None else []
    customers, skipped, seen = Customers(where), [], {}
    values = {i.name: array("d") for i in spec.inputs}  # 8 bytes a value
    for r, row in numbered():
        cid = tables.as_text(row[positions[ID]], strip=True)
        name = tables.as_text(row[positions[NAME]], strip=True) or ""
        bad = []

        def problem(column, message, cid=cid, r=r, bad=bad):
            bad.append(LineProblem(r, column, message, where, printable(cid or "")))

        if not cid:
            problem(columns[positions[ID]], "missing customer id")
        elif cid in seen:
            problem(columns[positions[ID]], f"duplicate customer id (first on {where} "
                                                  f"{seen[cid]})")
        for col, text in ((positions[ID], cid), (positions[NAME], name)):
            bad_char = illegal_character(text) if text else None
            if bad_char:
                problem(columns[col], f"holds the control character {bad_char}, which a "
                                            f"workbook cannot hold")
            elif text and len(text) > _MAX_TEXT:
                problem(columns[col], f"{len(text):,} characters; a cell holds at most "
                                            f"{_MAX_TEXT:,}")
        row_values = {}
        for i in spec.inputs:
            col = columns[positions[i.name]]
            value, why = tables.parse_number(row[positions[i.name]], decimal)
            if why == "blank":
                problem(col, f"blank; expected a number in {i.unit}")
            elif why:
                problem(col, f"expected a number in {i.unit}, got {why}")
            elif (i.min is not None and value < i.min) or (i.max is not None and value > i.max):
                problem(col, f"{value:g} is outside the allowed range {_allowed(i)}")
            row_values[i.name] = value
        if cid and cid not in seen:
            seen[cid] = r
        if bad:
            problems.extend(bad)
            skipped.append({"row": r, "where": where, ID: cid or "", NAME: name,
                            "problem": "; ".join(p.message for p in bad)})
            continue
        customers.append(r, cid, name)
        for n, v in row_values.items():
            values[n].append(v)
    for p in (read.problems if read is not None else []):  # lines of the wrong length
        fields = read.skipped.get(p.row, [])
        cid, name = ((fields[positions[k]].strip() if positions[k] < len(fields) else "")
                     for k in (ID, NAME))
        skipped.append({"row": p.row, "where": p.where, ID: cid, NAME: name,
                        "problem": p.message})
    problems.sort(key=lambda p: p.row)
    skipped.sort(key=lambda s: s["row"])
    arrays = {n: np.asarray(v, dtype=float) for n, v in values.items()}
    return Rows(customers, arrays, problems, skipped, notes + (read.notes if read else []))


def _decimal_mark(numbered, positions: list[int], default: str, chunk: int = 4096) -> str:
    """:func:`~cvp_xl.xlsx.tables.decimal_mark` of the fields in ``positions`` of every row,
    found a few thousand fields at a time (the marks each part shows, put together)."""
    marks: set[str] = set()
    fields: list = []

    def part():
        mark = tables.decimal_mark(fields, "")
        if mark:
            marks.add(str(mark))
        fields.clear()

    for _, row in numbered():
        fields.extend(row[c] for c in positions)
        if len(fields) >= chunk:
            part()
    part()
    if "mixed" in marks or {".", ","} <= marks:
        return "mixed"
    return marks.pop() if marks else default


def _allowed(i) -> str:
    if i.min is not None and i.max is not None:
        return f"{i.min:g} to {i.max:g}"
    return f"at least {i.min:g}" if i.min is not None else f"at most {i.max:g}"


# -- evaluation: one bad row does not stop the block --------------------------------------------


_FINITE = ("total_per_year", "value_s", "differential", "breakeven_price", "incentive_s", "npv")


def _finite(results: model.Results, sens: list[dict], n: int) -> np.ndarray:
    ok = np.ones(n, dtype=bool)
    arrays = [getattr(results, k) for k in _FINITE] + list(results.elements.values())
    arrays += list(results.cash_flows)
    arrays += [row[k] for row in sens for k in ("at_low", "at_high", "swing")]
    for a in arrays:
        a = np.asarray(a, dtype=float)
        ok &= np.isfinite(a) if a.ndim else np.full(n, np.isfinite(a))
    return ok


def _evaluate(spec: Spec, values: dict[str, np.ndarray]):
    with np.errstate(all="ignore"):
        return model.evaluate(spec, values, "Base"), model.sensitivity(spec, values)


def _evaluate_block(spec: Spec, values: dict[str, np.ndarray], n: int):
    """Results for a block of customers, and ``{index: why}`` for the customers that have none.

    The block is evaluated at once; when that fails (a division by zero, a number too large),
    each customer is evaluated alone to find the ones that fail, and the block again without
    them.
    """
    bad: dict[int, str] = {}
    try:
        results, sens = _evaluate(spec, values)
    except (CvpXlError, ArithmeticError, ValueError):
        for k in range(n):
            try:
                _evaluate(spec, {name: float(a[k]) for name, a in values.items()})
            except (CvpXlError, ArithmeticError, ValueError) as exc:
                bad[k] = str(exc)
        good = np.array([k not in bad for k in range(n)])
        if not good.any():
            return None, None, bad
        try:  # the failing rows take a good row's values; their results are dropped
            results, sens = _evaluate(spec, {name: np.where(good, a, a[good][0])
                                             for name, a in values.items()})
        except (CvpXlError, ArithmeticError, ValueError) as exc:
            return None, None, {k: bad.get(k, str(exc)) for k in range(n)}
    finite = _finite(results, sens, n)
    for k in np.flatnonzero(~finite):
        bad.setdefault(int(k), "#NUM! a result is too large for a number (overflow)")
    return results, sens, bad


def stored_digest(path: Path) -> str | None:
    """The digest a calculator was built with, or None (absent, unreadable, not ours)."""
    digest = read_properties(path).get(DIGEST_PROPERTY)
    return digest if digest and re.fullmatch(r"[0-9a-f]{64}", digest) else None


# -- building ------------------------------------------------------------------------------------


def _digest(spec: Spec, customer: dict, inputs: dict, template: str = TEMPLATE_VERSION) -> str:
    """The digest of what a file is built from: spec, template, the customer's row."""
    payload = json.dumps({"spec": spec.text, "template": template, "id": customer[ID],
                          "name": customer[NAME], "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _properties(job: dict) -> dict[str, str]:
    return {DIGEST_PROPERTY: job["digest"], ID_PROPERTY: job["id"],
            **table_properties({"name": job["name"], "inputs": job["inputs"]})}


def _build_chunk(spec: Spec, jobs: list[dict]) -> list[dict]:
    """Build new calculators (runs in a worker); one outcome per job.

    Each file is the one ``build`` writes: the customer's values patched into the parts of
    the first file of its shape, the builder run once per shape
    (:mod:`cvp_xl.workbooks.calculator.stamp`; the worker keeps its templates from one chunk
    to the next).
    """
    from cvp_xl.workbooks.calculator.stamp import stamper

    writer = stamper(spec)
    out = []
    for job in jobs:
        try:
            writer.build(job["path"], given=job["inputs"], customer=job["name"] or None,
                         results=job["results"], sens=job["sens"], properties=_properties(job))
            out.append({"id": job["id"], "status": "written"})
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
            out.append(_failure(job, exc, ""))
    return out


def _rebuild_chunk(spec: Spec, jobs: list[dict]) -> list[dict]:
    """Rebuild existing calculators, carrying the customers' entries (runs in a worker)."""
    out = []
    for job in jobs:
        try:
            out.append(_rebuild(spec, job))
        except Exception as exc:  # noqa: BLE001 - the old file stays as it was
            out.append(_failure(job, exc, "; the file is as it was"))
    return out


def _failure(job: dict, exc: Exception, kept: str) -> dict:
    """The outcome of a job that raised: an OS error names the file and the error (and its
    errno, so that a full disk or a read-only folder stops the run)."""
    if isinstance(exc, OSError):
        existed = bool(kept)
        return {"id": job["id"], "status": "failed", "errno": exc.errno,
                "message": str(not_written(job["path"].name, exc, existed))}
    return {"id": job["id"], "status": "failed", "message": f"{type(exc).__name__}: {exc}{kept}"}


def _backup(path: Path, backup: Path) -> Path:
    backup.mkdir(parents=True, exist_ok=True)
    return copy_atomic(path, backup / path.name)  # whole or not at all


def _rebuild(spec: Spec, job: dict) -> dict:
    """One file that is there but out of date: carried, left as it is, or (force) rebuilt."""
    from .carry import plan, write
    from .entered import read_calculator

    path, force = job["path"], job["force"]
    table = {"name": job["name"], "inputs": job["inputs"]}
    outcome = {"id": job["id"]}
    fresh = None
    try:
        calc = read_calculator(path)
    except CvpXlError as exc:
        calc, fresh = None, f"it cannot be read as a calculator ({exc})"
    if calc is not None and tables.header_key(calc.offering) != tables.header_key(
            spec.offering.name):
        fresh = f"it was built for another offering, {calc.offering!r}"
    if calc is not None and fresh is None:
        record = calc.table
        entered = {"name": calc.customer.value or "",
                   "inputs": {n: e.base.value for n, e in calc.inputs.items()}}
        if record is None and calc.spec is not None and calc.template_version and _digest(
                calc.spec, {ID: job["id"], NAME: entered["name"]}, entered["inputs"],
                calc.template_version) == calc.properties.get(DIGEST_PROPERTY):
            # built by an earlier version, untouched since (a value of 17 significant digits
            # comes back with 16 and does not match: such a file is kept, never overwritten)
            record = entered
        p = plan(calc, spec, table=table, record=record)
        if p.blockers:
            fresh = "; ".join(p.blockers)
        elif not force or not p.edited:
            backup = _backup(path, job["backup"]) if p.edited else None
            results = write(p, path, _properties(job))
            outcome.update(status="carried" if p.edited else "written", results=results,
                           scenario=p.scenario, customer=p.customer,
                           lines=p.kept + p.not_carried + p.lines, conflicts=p.conflicts,
                           backup=backup)
            return outcome
        else:
            fresh = "--force: rebuilt from the table"
    if not force:
        outcome.update(status="kept", message=f"left as it is: {fresh}; --force rebuilds it "
                                              f"from the table, keeping it in a backup first")
        return outcome
    backup = _backup(path, job["backup"])
    results = model.evaluate(spec, job["inputs"], "Base")
    build(spec, path, given=job["inputs"], customer=job["name"] or None, results=results,
          properties=_properties(job))
    outcome.update(status="rebuilt", results=results, scenario="Base", customer=job["name"],
                   lines=[f"rebuilt from the table ({fresh}); the old file is in {backup}"],
                   backup=backup)
    return outcome


def _clean_temporaries(out_dir: Path) -> None:
    """Remove what a killed run left behind, with the folder's lock held: temporary files
    whose process is gone (:func:`~cvp_xl.xlsx.atomic.clean_temporaries`; a command writing
    now keeps its own) and carry folders (only a batch holding the lock makes them here)."""
    clean_temporaries(out_dir)
    for tmp in out_dir.glob(".cvp-xl-carry-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def _run(spec, work, executor, chunk_size, progress) -> dict[str, dict]:
    """Run ``[(function, jobs)]`` here or on the executor; ``{customer id: outcome}``.

    A file that cannot be written for a reason of the disk (full, read-only: the next file
    would fail the same way) stops the run: the chunks not started are not run and their
    customers are reported as not written.
    """
    chunks = [(fn, jobs[i:i + chunk_size]) for fn, jobs in work
              for i in range(0, len(jobs), chunk_size)]
    outcomes: dict[str, dict] = {}
    stop: str | None = None

    def record(chunk, done):
        nonlocal stop
        outcomes.update((o["id"], o) for o in done)
        stop = stop or next((o["message"] for o in done if o.get("errno") in DISK_ERRORS),
                            None)
        if progress:
            progress(len(chunk))

    if executor is None:
        for fn, chunk in chunks:
            record(chunk, _not_run(chunk, stop) if stop else fn(spec, chunk))
        return outcomes
    futures = {executor.submit(fn, spec, chunk): chunk for fn, chunk in chunks}
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            try:
                done = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker died: its chunk failed
                done = [{"id": job["id"], "status": "failed",
                         "message": f"{type(exc).__name__}: {exc}"} for job in futures[future]]
            record(futures[future], done)
        if stop:
            for future in [f for f in pending if f.cancel()]:
                pending.discard(future)
                record(futures[future], _not_run(futures[future], stop))
    return outcomes


def _not_run(chunk: list[dict], why: str) -> list[dict]:
    return [{"id": job["id"], "status": "failed", "stopped": True,
             "message": f"not written: the run stopped ({why})"} for job in chunk]


def build_many(spec: Spec, table: pd.DataFrame | Rows, out_dir: str | os.PathLike, *,
               executor: Executor | None = None, force: bool = False, chunk_size: int = 20,
               block_size: int = 500, progress: Callable[[int], None] | None = None,
               source: str = "table", pdf: bool = False, pdf_workers: int = 1,
               pdf_progress: Callable[[int], None] | None = None) -> BatchReport:
    """Build one calculator per valid row of ``table`` into ``out_dir``.

    Parameters
    ----------
    spec : Spec
        The calculator spec.
    table : pandas.DataFrame or Rows
        ``customer_id``, ``customer_name`` and one column per input (see :func:`read_table`),
        or its rows as :func:`validate` checked them (the table itself need not then be kept
        in memory while the calculators are built: ``cvp-xl batch`` does this).
    out_dir : path
        Created if needed.  Files are named from the customer id (:func:`assign_files`).
    executor : concurrent.futures.Executor, optional
        Where to build the files (a ``ProcessPoolExecutor``, a Dask client's
        ``get_executor()``, ...); None builds them in this process.
    force : bool
        Rebuild every file from the table, also the ones up to date and the ones a customer
        edited (those are copied to ``out_dir/previous-<timestamp>/`` first).
    chunk_size, block_size : int
        Files per task handed to the executor; customers evaluated (and held) at once.
    progress : callable, optional
        Called with the number of rows finished (built, up to date, skipped or failed).
    source : str
        How to name the table in messages.
    pdf : bool
        Also print each calculator of the table to a PDF next to it (same name, ``.pdf``;
        :func:`~cvp_xl.commands.pdf.pdfs_beside`): the files written, up to date and left as
        they were, so that every calculator has a PDF that shows exactly its bytes.  A PDF
        that already does is not made again; one that cannot be made is in
        ``report.pdfs.failed`` (its calculator stays).  Not done when the run stopped.
    pdf_workers : int
        LibreOffice runs at once for the PDFs.
    pdf_progress : callable, optional
        Called with the number of calculators whose PDF is done.

    The summary (``summary.xlsx``, ``summary.csv``) is written in every case once the rows
    are known: one line per row of the table, skipped rows included.

    One batch at a time fills a folder: the whole run holds the folder's lock
    (:func:`~cvp_xl.xlsx.atomic.locked`), and a second run waits for it a little, then is
    refused.  A file that cannot be written because of the disk (full, read-only) stops the
    run: ``report.stopped`` says why, and the customers not written are in ``report.failed``.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        ``out_dir`` cannot be made or locked (a read-only folder, another batch writing in it
        for longer than :data:`~cvp_xl.xlsx.atomic.LOCK_WAIT`), or the table misses a column.
    cvp_xl.commands.pdf.PdfError
        ``pdf`` and LibreOffice is missing (before any work; the message says how to install
        it).
    """
    if pdf:
        from .pdf import require_soffice

        require_soffice()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise not_written(out_dir, exc, existed=False) from None
    with locked(out_dir, folder=True):
        _clean_temporaries(out_dir)
        rows = table if isinstance(table, Rows) else validate(spec, table, source)
        report = BatchReport(problems=rows.problems, notes=rows.notes)
        backup = backup_folder(out_dir)
        summary = SummaryLines()  # in a temporary file: memory does not grow with the rows
        try:
            if progress and rows.skipped:
                progress(len(rows.skipped))
            names, why = assign_files(rows.customers.ids, out_dir)
            report.names = [f"{c['where']} {c['row']}, customer {c[ID]!r}: {why[c[ID]]}"
                            for c in rows.customers if c[ID] in why]
            for first in range(0, len(rows.customers), block_size):
                block = rows.customers[first:first + block_size]
                if report.stopped:
                    _not_reached(spec, block, report, summary, progress)
                    continue
                values = {n: a[first:first + block_size] for n, a in rows.values.items()}
                _block(spec, block, values, names, why, out_dir, backup, force, report,
                       summary, executor, chunk_size, progress)
        finally:
            report.problems.sort(key=lambda p: p.row)
            for s in rows.skipped:
                summary.append(summary_row(spec, s, status="skipped", note=s["problem"]))
            written_first = out_dir / "summary.csv"  # then summary.xlsx
            before = _identity(written_first)
            try:
                write_summary(spec, summary, out_dir, frame=False)
                report.summary = lambda: summary_frame(spec, summary)
            except OSError as exc:
                failed = written_first if _identity(written_first) == before else \
                    out_dir / "summary.xlsx"
                report.not_written.append(str(not_written(failed, exc, failed.exists())))
            if backup.is_dir():
                report.backup = backup
        if pdf:
            _pdfs(report, pdf_workers, pdf_progress)
    return report


def _pdfs(report: BatchReport, workers: int, progress) -> None:
    """The PDF next to every calculator of the run (see :func:`build_many`)."""
    from .pdf import drop_stale, pdfs_beside

    if report.stopped:  # the disk is full: no PDF is made, and none is left that would not
        for path in report.written:  # show the calculator next to it
            drop_stale(path)
        return
    books = sorted({*report.written, *report.up_to_date, *(p for p, _ in report.kept)})
    report.pdfs = pdfs_beside(books, workers=workers, progress=progress)


def _identity(path: Path) -> tuple | None:
    """What tells a file from the one that replaces it (None: no file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _not_reached(spec, block, report, summary, progress) -> None:
    """The customers of a block the run did not reach after it stopped: not written."""
    message = f"not written: the run stopped ({report.stopped})"
    for customer in block:
        report.failed.append((customer[ID], message))
        summary.append(summary_row(spec, customer, status="failed", note=message))
    if progress:
        progress(len(block))


def _block(spec, block, values, names, why, out_dir, backup, force, report, summary,
           executor, chunk_size, progress) -> None:
    """Evaluate, build and report one block of customers."""
    results, sens, bad = _evaluate_block(spec, values, len(block))
    new_jobs, old_jobs, entries = [], [], {}
    for k, customer in enumerate(block):
        cid = customer[ID]
        if k in bad:
            problem = LineProblem(customer["row"], "", bad[k], customer["where"], cid)
            report.problems.append(problem)
            summary.append(summary_row(spec, customer, status="skipped", note=bad[k]))
            if progress:
                progress(1)
            continue
        inputs = {n: float(a[k]) for n, a in values.items()}
        path = out_dir / names[cid]
        one = model.pick(results, k)
        entry = {"customer": customer, "results": one, "path": path, "note": why.get(cid, "")}
        entries[cid] = entry
        job = {"id": cid, "name": customer[NAME], "path": path, "inputs": inputs,
               "digest": _digest(spec, customer, inputs), "force": force, "backup": backup}
        if path.exists():
            if not force and stored_digest(path) == job["digest"]:
                report.up_to_date.append(path)
                entry["status"] = "up to date"
                if progress:
                    progress(1)
                continue
            old_jobs.append(job)
        else:
            new_jobs.append({**job, "results": one, "sens": model.pick_sensitivity(sens, k)})
    outcomes = _run(spec, [(_build_chunk, new_jobs), (_rebuild_chunk, old_jobs)], executor,
                    chunk_size, progress)
    report.stopped = report.stopped or next(
        (o["message"] for o in outcomes.values() if o.get("errno") in DISK_ERRORS), None)
    for cid, entry in entries.items():
        path, note = entry["path"], entry["note"]
        o = outcomes.get(cid, {"status": entry.get("status")})
        status = o["status"]
        results = o.get("results", entry["results"])
        scenario, name = o.get("scenario", "Base"), o.get("customer", entry["customer"][NAME])
        if status == "written":
            report.written.append(path)
        elif status == "up to date":
            pass
        elif status in ("carried", "rebuilt"):
            report.written.append(path)
            if status == "carried":
                report.carried.append((path, o["lines"]))
                report.conflicts += [(path, c) for c in o.get("conflicts", [])]
            else:
                report.carried.append((path, o["lines"]))
            note = "; ".join(filter(None, [note, *o["lines"]]))
        elif status == "kept":
            report.kept.append((path, o["message"]))
            results, note = None, "; ".join(filter(None, [note, o["message"]]))
        else:
            report.failed.append((cid, o.get("message", "not built")))
            results, note = None, o.get("message", "")
        label = {"carried": "customer's entries kept", "rebuilt": "rebuilt (backup kept)",
                 "kept": "left as it was"}.get(status, status)
        summary.append(summary_row(spec, {**entry["customer"], NAME: name}, status=label,
                                   results=results, scenario=scenario if results else None,
                                   file=path if status != "failed" else None, note=note))
