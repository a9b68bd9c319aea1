"""Batch regeneration: one calculator per customer, fast, with nothing lost.

The numbers of all customers are computed at once with the vectorised model
(:mod:`cvp_xl.workbooks.calculator.model`); each file is then written once, with
formulas and cached values, atomically (a temporary file renamed into place).
A bad row is reported by row number and column and skipped; the others are
written.  A rerun rewrites nothing that is already up to date: each file
carries a digest of the spec, the template and the customer's row as a custom
document property.

:func:`build_many` takes any :class:`concurrent.futures.Executor`, so a job
that outgrows one machine can hand it a Dask client's executor
(``client.get_executor()``) unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cvp_xl.args import describe
from cvp_xl.errors import RowProblem, WorkbookError
from cvp_xl.workbooks.calculator import model
from cvp_xl.workbooks.calculator.builder import TEMPLATE_VERSION, build
from cvp_xl.workbooks.calculator.spec import Spec
from cvp_xl.xlsx import tables
from cvp_xl.xlsx.write import FORMULA_PREFIXES

__all__ = ["customer_table", "read_table", "validate", "build_many", "BatchReport", "RowProblem",
           "ID", "NAME", "DIGEST_PROPERTY", "file_name"]

ID, NAME = "customer_id", "customer_name"
DIGEST_PROPERTY = "cvp-xl-digest"
SUMMARY = "summary"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class BatchReport:
    """What :func:`build_many` did: files written or up to date, rows skipped, the summary."""

    written: list[Path] = field(default_factory=list)
    up_to_date: list[Path] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (customer id, message)
    summary: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failed


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

    Read with :func:`cvp_xl.xlsx.tables.read_table`; headers lose surrounding spaces.
    """
    frame = tables.read_table(path, csv_error="not a readable CSV file")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _number(v):
    """A number from a table cell, or None with the reason."""
    if tables.is_blank(v):
        return None, "blank"
    value = tables.as_number(v)
    return (value, None) if value is not None else (None, describe(v))


def file_name(customer_id: str) -> str:
    """The calculator's file name for a customer id: safe on every file system."""
    stem = _UNSAFE.sub("_", customer_id).strip("._") or "customer"
    return f"{stem[:120]}.xlsx"


def validate(spec: Spec, frame: pd.DataFrame, source: str = "table"):
    """Check every row; return (valid rows, {input: float array}, problems).

    Row numbers are as a spreadsheet or text editor counts them: the header
    is row 1, the first customer row 2.  A missing input column is refused
    as a whole (``WorkbookError``).
    """
    found = tables.match_headers(frame.columns, [ID, NAME] + spec.input_names)
    missing = found.missing
    if missing:
        raise WorkbookError(f"{source}: missing column{'s' * (len(missing) > 1)} "
                            f"{', '.join(repr(m) for m in missing)} (one per input of the spec; "
                            f"`cvp-xl customers SPEC` writes a template)")
    problems: list[RowProblem] = []
    keep, seen, files = [], {}, {}
    values = {i.name: [] for i in spec.inputs}
    for k, row in enumerate(frame.itertuples(index=False, name=None)):
        r = k + 2
        bad = []
        cid = tables.as_text(row[found.positions[ID]], strip=True)
        if not cid:
            bad.append(RowProblem(r, ID, "missing customer id"))
        elif cid in seen:
            bad.append(RowProblem(r, ID, f"duplicate customer id '{cid}' (first on row "
                                         f"{seen[cid]})"))
        elif file_name(cid) in files:
            bad.append(RowProblem(r, ID, f"customer id '{cid}' gives the same file name as "
                                         f"row {files[file_name(cid)]}"))
        row_values = {}
        for i in spec.inputs:
            col = frame.columns[found.positions[i.name]]
            value, why = _number(row[found.positions[i.name]])
            if why == "blank":
                bad.append(RowProblem(r, col, f"blank; expected a number in {i.unit}"))
            elif why:
                bad.append(RowProblem(r, col, f"expected a number in {i.unit}, got {why}"))
            elif (i.min is not None and value < i.min) or (i.max is not None and value > i.max):
                bad.append(RowProblem(r, col, f"{value:g} is outside the allowed range "
                                              f"{_allowed(i)}"))
            row_values[i.name] = value
        if cid and cid not in seen:
            seen[cid] = r
            files.setdefault(file_name(cid), r)
        if bad:
            problems.extend(bad)
            continue
        name = tables.as_text(row[found.positions[NAME]], strip=True) or ""
        keep.append({"row": r, ID: cid, NAME: name})
        for n, v in row_values.items():
            values[n].append(v)
    arrays = {n: np.asarray(v, dtype=float) for n, v in values.items()}
    return keep, arrays, problems


def _allowed(i) -> str:
    if i.min is not None and i.max is not None:
        return f"{i.min:g} to {i.max:g}"
    return f"at least {i.min:g}" if i.min is not None else f"at most {i.max:g}"


def _digest(spec: Spec, customer: dict, inputs: dict) -> str:
    payload = json.dumps({"spec": spec.text, "template": TEMPLATE_VERSION, "id": customer[ID],
                          "name": customer[NAME], "inputs": inputs}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_PROPERTY = re.compile(
    r'name="' + re.escape(DIGEST_PROPERTY) + r'"[^>]*>\s*<vt:lpwstr[^>]*>([0-9a-f]{64})'
)


def stored_digest(path: Path) -> str | None:
    """The digest a calculator was built with, or None (absent, unreadable, not ours)."""
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("docProps/custom.xml")[:65536].decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    m = _PROPERTY.search(text)
    return m.group(1) if m else None


def _build_chunk(spec: Spec, jobs: list[dict]) -> list[tuple[str, str | None]]:
    """Build several calculators (runs in a worker); return (id, error or None) for each."""
    out = []
    for job in jobs:
        try:
            build(spec, job["path"], given=job["inputs"], customer=job["name"],
                  results=job["results"], sens=job["sens"],
                  properties={DIGEST_PROPERTY: job["digest"], "cvp-xl-customer-id": job["id"]})
            out.append((job["id"], None))
        except Exception as exc:  # one bad file must not stop the others
            out.append((job["id"], f"{type(exc).__name__}: {exc}"))
    return out


def _clean_temporaries(out_dir: Path) -> None:
    """Remove temporary files a killed run left behind (hidden, ``.*.xlsx``)."""
    for tmp in out_dir.glob(".*.xlsx"):
        tmp.unlink(missing_ok=True)


def _run(spec, jobs, executor, chunk_size, progress) -> dict[str, str | None]:
    """Build the jobs (here, or on the executor); return {customer id: error or None}."""
    chunks = [jobs[i:i + chunk_size] for i in range(0, len(jobs), chunk_size)]
    errors = {}
    if executor is None:
        for c in chunks:
            errors.update(_build_chunk(spec, c))
            if progress:
                progress(len(c))
        return errors
    futures = {executor.submit(_build_chunk, spec, c): c for c in chunks}
    for future in as_completed(futures):
        try:
            done = future.result()
        except Exception as exc:  # a worker died: every file of its chunk failed
            done = [(job["id"], f"{type(exc).__name__}: {exc}") for job in futures[future]]
        errors.update(done)
        if progress:
            progress(len(futures[future]))
    return errors


def build_many(spec: Spec, table: pd.DataFrame, out_dir: str | os.PathLike, *,
               executor: Executor | None = None, force: bool = False, chunk_size: int = 20,
               block_size: int = 500, progress: Callable[[int], None] | None = None,
               source: str = "table") -> BatchReport:
    """Build one calculator per valid row of ``table`` into ``out_dir``.

    Parameters
    ----------
    spec : Spec
        The calculator spec.
    table : pandas.DataFrame
        ``customer_id``, ``customer_name`` and one column per input (see :func:`read_table`).
    out_dir : path
        Created if needed.  Files are named from the customer id (:func:`file_name`).
    executor : concurrent.futures.Executor, optional
        Where to build the files (a ``ProcessPoolExecutor``, a Dask client's
        ``get_executor()``, ...); None builds them in this process.
    force : bool
        Rewrite files that are up to date.
    chunk_size, block_size : int
        Files per task handed to the executor; customers evaluated (and held) at once.
    progress : callable, optional
        Called with the number of files finished (built, up to date or failed) as they finish.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean_temporaries(out_dir)
    customers, arrays, problems = validate(spec, table, source)
    report = BatchReport(problems=problems)
    if progress and len(table) > len(customers):
        progress(len(table) - len(customers))  # the rows skipped count as done
    rows = []
    errors: dict[str, str | None] = {}
    # Customers are taken in blocks: each block is evaluated at once (vectorised), its files
    # written, and its per-customer results dropped, so memory does not grow with the table.
    for first in range(0, len(customers), block_size):
        block = customers[first:first + block_size]
        values = {n: a[first:first + block_size] for n, a in arrays.items()}
        results = model.evaluate(spec, values, "Base")
        sens = model.sensitivity(spec, values)
        jobs = []
        for k, customer in enumerate(block):
            inputs = {n: float(a[k]) for n, a in values.items()}
            path = out_dir / file_name(customer[ID])
            digest = _digest(spec, customer, inputs)
            one = model.pick(results, k)
            rows.append(_summary_row(spec, customer, one, path))
            if not force and path.exists() and stored_digest(path) == digest:
                report.up_to_date.append(path)
                if progress:
                    progress(1)
                continue
            jobs.append({"id": customer[ID], "name": customer[NAME], "path": path,
                         "inputs": inputs, "results": one,
                         "sens": model.pick_sensitivity(sens, k), "digest": digest})
        errors.update(_run(spec, jobs, executor, chunk_size, progress))
        for job in jobs:
            if errors.get(job["id"]):
                report.failed.append((job["id"], errors[job["id"]]))
            else:
                report.written.append(job["path"])
    failed, current = dict(report.failed), {str(p) for p in report.up_to_date}
    for row in rows:
        if row[ID] in failed:
            row.update(status="failed", problem=failed[row[ID]], file="")
        else:
            row["status"] = "up to date" if row["file"] in current else "written"
    for p in problems:
        rows.append({ID: "", NAME: "", "status": "skipped", "problem": str(p)})
    report.summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    write_summary(report.summary, out_dir)
    return report


SUMMARY_COLUMNS = [ID, NAME, "status", "total_value_per_year", "differential", "roi", "payback",
                   "npv", "next_best", "file", "problem"]


def _summary_row(spec, customer, r: model.Results, path: Path) -> dict:
    return {ID: customer[ID], NAME: customer[NAME], "total_value_per_year": r.total_per_year,
            "differential": r.differential, "roi": r.roi, "payback": r.payback, "npv": r.npv,
            "next_best": spec.alternatives[r.next_best].name, "file": str(path), "problem": ""}


def write_summary(frame: pd.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """``summary.csv`` and ``summary.xlsx`` in ``out_dir``, both written atomically.

    Text that a spreadsheet would read as a formula is written as text in the
    workbook, and prefixed with ``'`` in the CSV (the usual CSV-injection guard).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from cvp_xl.xlsx.atomic import atomic_path
    from cvp_xl.xlsx.cached import atomic_save_workbook
    from cvp_xl.xlsx.write import set_value

    csv_path, xlsx_path = out_dir / f"{SUMMARY}.csv", out_dir / f"{SUMMARY}.xlsx"
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False, name=None):
            writer.writerow(["'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES)
                             else v for v in row])
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    for c, name in enumerate(frame.columns, start=1):
        ws.cell(1, c, name).font = Font(bold=True)
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for c, v in enumerate(row, start=1):
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and np.isnan(v):
                v = None
            set_value(ws.cell(r, c), v)
    atomic_save_workbook(wb, xlsx_path)
    return csv_path, xlsx_path
