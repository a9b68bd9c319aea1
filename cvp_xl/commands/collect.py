"""``cvp-xl collect DIR -o results.xlsx``: the calculators that came back, in one table.

Every workbook in the folder (as customers return them: saved by Excel or LibreOffice,
renamed, with notes) is

- checked with the checks of ``cvp-xl check``
  (:func:`~cvp_xl.workbooks.calculator.check.check_calculator`: inputs, and any edit of the
  template: a formula typed over or changed, a protected cell changed);
- read by name (:mod:`cvp_xl.commands.entered`) and recomputed from its own entries with the
  Python model (:func:`~cvp_xl.commands.carry.file_results`): its spec is the one printed on
  its About sheet, so files of several specs may be collected together;
- compared with the version that was sent: each input, price, source, the name and the
  scenario that differ from what the file was built with.

The table has one row per file: the file (relative to the table), the customer, the
verdict, every input, every result, and what changed.  Money columns name their currency
(files in different currencies get different columns: amounts are never mixed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from cvp_xl.args import describe
from cvp_xl.errors import CvpXlError, WorkbookError

__all__ = ["collect", "CollectReport", "VERDICTS", "TAMPERING"]

#: The verdicts, best first: ``edited`` is a file with notes, rows or sheets added, or the
#: customer's name changed, the model untouched; ``cannot be checked`` a file the checks of
#: ``cvp-xl check`` refuse though its entries could be read (its results are recomputed).
VERDICTS = ("ok", "edited", "input problems", "cannot be recomputed", "cannot be checked",
            "tampered", "not a calculator")
#: Kinds of check problem that are edits of the template (see ``cvp-xl check``).
TAMPERING = {"formula-replaced", "formula-edited", "cell-changed", "format-changed",
             "cell-unlocked", "row-removed", "sheet-removed", "digests-edited"}
#: Kinds that are additions a person may make (notes, rows, sheets), not edits of the model.
ADDITIONS = {"cell-added", "row-added", "sheet-added", "sheet-unprotected", "digests-missing"}
_OTHER_SPREADSHEETS = (".xls", ".ods", ".numbers", ".xlsb")


@dataclass
class CollectReport:
    """One entry per file (path, verdict, why), and the table written."""

    files: list[tuple[Path, str, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # not read, and why
    output: Path | None = None

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(v in ("ok", "edited") for _, v, _ in self.files)


def _verdict(result, entries: set[str]) -> tuple[str, list[str]]:
    """The verdict of ``check_calculator``'s answer (a report with ``problems``, or a list).

    ``entries`` are cells a customer is meant to fill though the template protects them
    (the customer's name): a change there is an edit, not tampering.
    """
    problems = list(getattr(result, "problems", result) or [])
    kinds = {getattr(p, "kind", "input") for p in problems
             if f"{getattr(p, 'sheet', '')}!{getattr(p, 'ref', '')}" not in entries}
    texts = [str(p) for p in problems]
    if kinds & TAMPERING:
        return "tampered", texts
    if kinds - ADDITIONS:
        return "input problems", texts
    return ("edited" if problems else "ok"), texts


def _sent(calc) -> dict:
    """What the file held when it was built: the builder's record, else the table's, else
    the spec's (``{"inputs": {name: [base, low, high]}, "customer": ...}``)."""
    try:
        from cvp_xl.workbooks.calculator.digests import read_record

        record = read_record(calc.wb)
        build = record.build if record is not None else {}
    except Exception:  # noqa: BLE001 - no record we can read: fall back below
        build = {}
    inputs = build.get("inputs") if isinstance(build.get("inputs"), dict) else {}
    table = calc.table or {}
    out = {}
    for name in calc.inputs:
        values = inputs.get(name)
        spec_input = None
        if calc.spec is not None:
            try:
                spec_input = calc.spec.input(name)
            except KeyError:
                spec_input = None
        if isinstance(values, list) and len(values) == 3:
            out[name] = list(values)
        elif spec_input is not None:
            base = table.get("inputs", {}).get(name, spec_input.base)
            out[name] = [base, spec_input.low, spec_input.high]
    customer = build.get("customer") if "customer" in build else table.get("name")
    return {"inputs": out, "customer": customer}


def _changes(calc, p) -> list[str]:
    """What differs from the version sent, one phrase each."""
    from .carry import number_text
    from .entered import same_value

    sent = _sent(calc)
    out = []
    for name, e in calc.inputs.items():
        was = sent["inputs"].get(name)
        if was is None:
            continue
        for k, what in enumerate(("base", "low", "high")):
            now = getattr(e, what).value
            if not same_value(now, was[k]):
                label = name if what == "base" else f"{name} ({what})"
                out.append(f"{label}: {_shown(was[k], number_text)} -> {_shown(now, number_text)}")
        if calc.spec is not None:
            try:
                source = calc.spec.input(name).source
            except KeyError:
                source = None
            if source is not None and not same_value(e.source.value or "", source):
                out.append(f"{name} (source): {source!r} -> {describe(e.source.value)}")
    if calc.spec is not None:
        parties = {p_.name.casefold(): p_ for p_ in (calc.spec.offering,)
                   + calc.spec.alternatives}
        for name, e in calc.prices.items():
            party = parties.get(name.casefold())
            for what, label in (("one_time", "one-time"), ("recurring", "recurring"),
                                ("value_per_year", "value per year")):
                f = getattr(e, what)
                if party is None or f is None:
                    continue
                if not same_value(f.value, getattr(party, what)):
                    out.append(f"{name} ({label}): {number_text(getattr(party, what))} -> "
                               f"{_shown(f.value, number_text)}")
    if sent["customer"] is not None and not same_value(calc.customer.value or "",
                                                       sent["customer"] or ""):
        out.append(f"customer name: {sent['customer']!r} -> {describe(calc.customer.value)}")
    if calc.scenario.value != "Base":
        out.append(f"scenario: 'Base' -> {describe(calc.scenario.value)}")
    return out


def _shown(v, number_text) -> str:
    return number_text(v) if isinstance(v, (int, float)) and not isinstance(v, bool) \
        else describe(v)


def _collect_one(path: Path, base: Path) -> dict:
    """One file's row (runs in a worker)."""
    from cvp_xl.workbooks.calculator.check import check_calculator

    from .carry import file_results
    from .entered import read_calculator

    row = {"File": os.path.relpath(path, base), "_inputs": [], "_results": []}
    try:
        calc = read_calculator(path)
    except CvpXlError as exc:
        row.update({"Verdict": "not a calculator", "Problems": 1, "Check": str(exc)})
        return row
    try:
        verdict, texts = _verdict(check_calculator(path), {calc.customer.cell})
    except CvpXlError as exc:  # read by name here, but the check refuses it (a renamed sheet)
        verdict, texts = "cannot be checked", [str(exc)]
    row.update({"Customer id": calc.customer_id, "Customer name": calc.customer.value,
                "Calculator": calc.name, "Spec version": calc.spec.version if calc.spec
                else None, "Scenario": calc.scenario.value})
    for name, e in calc.inputs.items():
        row["_inputs"].append((name, e.unit, e.base.value))
    try:
        results, p = file_results(calc)
    except ValueError as exc:
        if verdict in ("ok", "edited"):
            verdict = "cannot be recomputed"
        texts.append(f"not recomputed: {exc}")
        results = p = None
    if results is not None:
        cur = p.spec.currency
        for el, v in results.elements.items():
            row["_results"].append((f"{el} per year ({cur})", "money", v))
        nb = p.spec.alternatives[int(results.next_best)].name
        row["_results"] += [
            (f"Total value per year ({cur})", "money", results.total_per_year),
            ("Next best alternative", "text", nb),
            (f"Incentive to buy ours ({cur})", "money", results.incentive_s),
            (f"Incentive to buy the next best ({cur})", "money", results.incentive_nb),
            (f"Differential ({cur})", "money", results.differential),
            (f"Break-even price ({cur})", "money", results.breakeven_price),
            ("ROI", "percent", results.roi),
            ("ROI note", "text", getattr(results, "roi_note", "") or None),
            ("Payback (years)", "years", results.payback),
            ("Payback note", "text", getattr(results, "payback_note", "") or None),
            (f"NPV ({cur})", "money", results.npv),
        ]
    changes = _changes(calc, p) if calc.spec is not None else []
    row.update({"Verdict": verdict, "Problems": len(texts), "Check": "; ".join(texts[:20])
                + (f"; ... and {len(texts) - 20} more" if len(texts) > 20 else ""),
                "Changes": len(changes), "Changed since sent": "; ".join(changes)})
    return row


def _files(folder: Path, output: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    from .upgrade import calculator_files

    target = output.resolve()
    files = [p for p in calculator_files(folder) if p.resolve() != target]
    skipped = [(p, f"a {p.suffix} file is not read; save it as .xlsx (Excel Workbook)")
               for p in sorted(folder.iterdir())
               if p.is_file() and p.suffix.lower() in _OTHER_SPREADSHEETS]
    return files, skipped


def collect(folder: str | os.PathLike, output: str | os.PathLike, *,
            executor: Executor | None = None,
            progress: Callable[[int], None] | None = None) -> CollectReport:
    """Check and recompute every calculator in ``folder``; write the table to ``output``.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        No such folder, ``output`` is not an .xlsx path, or it cannot be written (a full
        disk, a read-only folder: the message names it and the error; it is as it was).
    """
    folder, output = Path(folder), Path(output)
    if not folder.is_dir():
        raise WorkbookError(f"{folder}: no such folder")
    if output.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{output}: the table is written as .xlsx; give a name ending in "
                            f".xlsx")
    files, skipped = _files(folder, output)
    report = CollectReport(skipped=skipped)
    base = output.resolve().parent
    if executor is None:
        rows = []
        for path in files:
            rows.append(_collect_one(path, base))
            if progress:
                progress(1)
    else:
        rows = []
        for row in executor.map(_collect_one, files, [base] * len(files)):
            rows.append(row)
            if progress:
                progress(1)
    report.files = [(path, row["Verdict"], row.get("Check", "")) for path, row in
                    zip(files, rows)]
    if files:
        _write(rows, output)
        report.output = output
    return report


_FORMATS = {"money": "#,##0", "percent": "0.0%", "years": "0.0", "count": "0"}


def _write(rows: list[dict], output: Path) -> None:
    """The table: fixed columns, every input, every result, the changes; formatted."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from cvp_xl.xlsx.atomic import clean_temporaries, not_written
    from cvp_xl.xlsx.cached import atomic_save_workbook
    from cvp_xl.xlsx.write import set_value

    head = [("File", "text"), ("Customer id", "text"), ("Customer name", "text"),
            ("Verdict", "text"), ("Problems", "count"), ("Calculator", "text"),
            ("Spec version", "text"), ("Scenario", "text")]
    inputs, results = {}, {}
    for row in rows:
        for name, unit, _ in row["_inputs"]:
            key = f"{name} ({unit})" if unit else name
            inputs.setdefault(key, "percent" if str(unit).strip() in ("%", "percent")
                              else "number")
        for name, kind, _ in row["_results"]:
            results.setdefault(name, kind)
    tail = [("Changes", "count"), ("Changed since sent", "text"), ("Check", "text")]
    columns = head + list(inputs.items()) + list(results.items()) + tail
    wb = Workbook()
    ws = wb.active
    ws.title = "Results"
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, (name, _) in enumerate(columns, start=1):
        cell = ws.cell(1, c, name)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = [min(max(len(name) // 2, 10), 30) for name, _ in columns]
    for r, row in enumerate(rows, start=2):
        values = dict(row)
        for name, unit, v in row["_inputs"]:
            values[f"{name} ({unit})" if unit else name] = v
        for name, _, v in row["_results"]:
            values[name] = v
        for c, (name, kind) in enumerate(columns, start=1):
            v = values.get(name)
            if isinstance(v, float) and v != v:
                v = None  # no number (see the note column beside it)
            if v is not None and not isinstance(v, (str, int, float, bool)):
                v = describe(v)
            cell = ws.cell(r, c)
            set_value(cell, v)
            if kind in _FORMATS and isinstance(v, (int, float)):
                cell.number_format = _FORMATS[kind]
            elif kind == "number" and isinstance(v, (int, float)) and float(v).is_integer():
                cell.number_format = "#,##0"  # (Excel's #,##0.## would show 2400000 as
                # "2,400,000."); other numbers keep General: every digit they have
            if isinstance(v, str):
                widths[c - 1] = max(widths[c - 1], min(len(v), 60))
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w + 2
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 2)}"
    existed = output.exists()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        clean_temporaries(output.parent, [output.name])  # what a killed run left
        atomic_save_workbook(wb, output)
    except OSError as exc:
        raise not_written(output, exc, existed) from None
