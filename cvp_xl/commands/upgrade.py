"""``cvp-xl upgrade``: rebuild calculators from a new spec, keeping everything a person entered.

For each calculator in a folder, what the customer entered (base, low and high of every
input, sources, prices, the customer's name, the scenario) and everything else a person
put in the file (notes, comments, added sheets, renamed sheets) is read back by name
(:mod:`cvp_xl.commands.entered`) and carried into the file built from the new spec by the
rules of :mod:`cvp_xl.commands.carry`.  Whatever cannot be carried is listed in the report
and kept in a block of notes on the sheet "Carried over", never dropped silently.

- A calculator built for another offering is not upgraded (``force`` upgrades it anyway);
  one already at the new spec's digest and template version is left as it is.
- The new files are written to a staging folder first; only when every one is written are
  the old files copied to ``previous-<timestamp>/`` (a folder no other run uses), the
  summary refreshed and the new files moved into place.
- ``summary.xlsx`` and ``summary.csv`` are refreshed with the new files' results (before the
  files are moved, so a run killed in between is finished by the next run, summary
  included).
- One command at a time works in the folder (its lock, shared with ``cvp-xl batch``).  A disk
  that is full or read-only stops the upgrade before any file is replaced: every file is as
  it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from cvp_xl.errors import CvpXlError, WorkbookError
from cvp_xl.workbooks.calculator.builder import TEMPLATE_VERSION
from cvp_xl.workbooks.calculator.spec import Spec
from cvp_xl.xlsx.atomic import (
    DISK_ERRORS,
    copy_atomic,
    destination_name,
    locked,
    new_folder,
    not_written,
)
from cvp_xl.xlsx.tables import header_key

from .carry import backup_folder
from .entered import DIGEST_PROPERTY, ID_PROPERTY, read_calculator, table_properties
from .summary import SUMMARY, read_summary, summary_row, write_summary

__all__ = ["upgrade", "UpgradeReport", "FileOutcome", "calculator_files", "read_calculator"]

STAGING = ".cvp-xl-upgrade"


@dataclass
class FileOutcome:
    """What happened to one file: ``upgraded``, ``current`` (already at the spec), ``other
    offering``, ``not a calculator`` or ``failed``, with the report's lines."""

    path: Path
    status: str
    message: str = ""
    lines: list[str] = field(default_factory=list)         # details (``-v``)
    not_carried: list[str] = field(default_factory=list)   # always reported
    row: dict | None = None                                 # its line of the summary
    offering: str | None = None                             # the offering it was built for
    errno: int | None = None                                # an OS error's, when one failed it


@dataclass
class UpgradeReport:
    """Every file's outcome, the backup folder, and whether the summary was refreshed."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    backup: Path | None = None
    summary: Path | None = None
    stopped: str | None = None   # the disk error that stopped the upgrade (nothing replaced)

    def _with(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def upgraded(self) -> list[Path]:
        return [o.path for o in self._with("upgraded")]

    @property
    def current(self) -> list[Path]:
        return [o.path for o in self._with("current")]

    @property
    def other_offering(self) -> list[tuple[Path, str]]:
        return [(o.path, o.message) for o in self._with("other offering")]

    @property
    def not_calculators(self) -> list[tuple[Path, str]]:
        return [(o.path, o.message) for o in self._with("not a calculator")]

    @property
    def failed(self) -> list[tuple[Path, str]]:
        return [(o.path, o.message) for o in self._with("failed")]

    @property
    def lines(self) -> list[str]:
        """Every detail, one line each, prefixed with the file's name."""
        return [f"{o.path.name}: {line}" for o in self.outcomes for line in o.lines]

    @property
    def not_carried(self) -> list[str]:
        return [f"{o.path.name}: {line}" for o in self.outcomes for line in o.not_carried]


def calculator_files(folder: Path) -> list[Path]:
    """The workbooks of a folder that may be calculators: ``*.xlsx`` and ``*.xlsm`` that are
    not hidden, not Excel's lock files (``~$...``) and not the batch summary."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm")
                  and not p.name.startswith((".", "~$"))
                  and p.name.casefold() != f"{SUMMARY}.xlsx")


def _upgrade_one(path: Path, spec: Spec, staging: Path, force: bool) -> FileOutcome:
    """Read, plan and build one file into ``staging`` (runs in a worker)."""
    from cvp_xl.xlsx.contents import has_macros

    from .batch import ID, NAME, _digest
    from .carry import plan, write

    try:
        calc = read_calculator(path)
    except CvpXlError as exc:
        return FileOutcome(path, "not a calculator", str(exc))
    try:
        if header_key(calc.offering) != header_key(spec.offering.name) and not force:
            return FileOutcome(path, "other offering",
                               f"built for {calc.offering!r}, not {spec.offering.name!r}: not "
                               f"upgraded (--force upgrades it anyway)", offering=calc.offering)
        if calc.spec_digest == spec.digest and calc.template_version == TEMPLATE_VERSION:
            return FileOutcome(path, "current", "already at this spec (digest "
                                                f"{spec.digest}); left as it is")
        if has_macros(path):  # rebuilt from the spec through openpyxl: macros would be lost
            return FileOutcome(path, "failed", "not upgraded: a workbook with macros (.xlsm); "
                                               "rebuilding it from the spec would lose them")
        p = plan(calc, spec)
        if p.blockers and not force:
            return FileOutcome(path, "failed", "not upgraded: " + "; ".join(p.blockers)
                               + " (fix it, or --force upgrades it without that value)")
        properties = {}
        if calc.customer_id:
            properties[ID_PROPERTY] = calc.customer_id
        if p.table is not None and calc.customer_id:
            properties[DIGEST_PROPERTY] = _digest(
                p.spec, {ID: calc.customer_id, NAME: p.table.get("name") or ""},
                {n: float(v) for n, v in p.table["inputs"].items()})
            properties.update(table_properties(p.table))
        results = write(p, staging / path.name, properties)
    except OSError as exc:  # the staging copy: the old file is where it was
        message = str(not_written(path.name, exc)).split(": ", 1)[1]  # the name goes first
        return FileOutcome(path, "failed", message, errno=exc.errno)
    except Exception as exc:  # noqa: BLE001 - report it, leave the old file where it is
        return FileOutcome(path, "failed", f"not upgraded: {type(exc).__name__}: {exc}")
    carried = p.from_file
    kept_n = sum(1 for line in p.lines if "not in the new spec" in line)
    done = (f"upgraded; {carried} input{'s' * (carried != 1)} carried over"
            + (f", {kept_n} kept in 'Carried over'" if kept_n else ""))
    row = summary_row(spec, {"customer_id": calc.customer_id, "customer_name": p.customer},
                      status="upgraded", results=results, scenario=p.scenario,
                      file=path, note="; ".join(p.kept))
    return FileOutcome(path, "upgraded", done, lines=p.lines + p.kept + [done],
                       not_carried=p.not_carried + (p.blockers if force else []), row=row,
                       offering=calc.offering)


def upgrade(folder: str | os.PathLike, spec: Spec, *, force: bool = False,
            executor: Executor | None = None,
            progress: Callable[[int], None] | None = None) -> UpgradeReport:
    """Rebuild every calculator in ``folder`` from ``spec``, carrying what people entered.

    Parameters
    ----------
    folder : path
        The folder of calculators (``*.xlsx``; the batch summary is not one).
    spec : Spec
        The new spec.
    force : bool
        Also upgrade calculators built for another offering, and files holding a value that
        cannot be carried (that value is listed and dropped; the old file is in the backup).
    executor : concurrent.futures.Executor, optional
        Where to rebuild the files; None rebuilds them here.
    progress : callable, optional
        Called with 1 as each file is done.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        No such folder; every calculator in it was built for another offering; another
        command holds the folder's lock for longer than :data:`~cvp_xl.xlsx.atomic.LOCK_WAIT`
        or the folder cannot be written (nothing is changed in any of these).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WorkbookError(f"{folder}: no such folder")
    with locked(folder, folder=True):
        return _upgrade_locked(folder, spec, force, executor, progress)


def _upgrade_locked(folder: Path, spec: Spec, force: bool, executor, progress) -> UpgradeReport:
    """:func:`upgrade`, with the folder's lock held."""
    report = UpgradeReport()
    staging = folder / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a killed run left (we hold the lock)
    try:
        staging.mkdir()
    except OSError as exc:
        raise not_written(folder, exc, existed=False) from None
    try:
        files = calculator_files(folder)
        if executor is None:
            for path in files:
                report.outcomes.append(_upgrade_one(path, spec, staging, force))
                if progress:
                    progress(1)
        else:
            futures = {executor.submit(_upgrade_one, path, spec, staging, force): path
                       for path in files}
            for future in as_completed(futures):
                try:
                    report.outcomes.append(future.result())
                except Exception as exc:  # noqa: BLE001 - a worker died
                    report.outcomes.append(FileOutcome(futures[future], "failed",
                                                       f"not upgraded: {exc}"))
                if progress:
                    progress(1)
            report.outcomes.sort(key=lambda o: o.path.name)
        others = report.other_offering
        calculators = [o for o in report.outcomes if o.status != "not a calculator"]
        if others and len(others) == len(calculators):
            offering = {o.offering for o in report._with("other offering")}
            raise WorkbookError(
                f"{folder}: the spec is for {spec.offering.name!r}, but the calculators here "
                f"are for {', '.join(repr(o) for o in sorted(offering))} ({len(others)} "
                f"file{'s' * (len(others) != 1)}); nothing was changed (--force upgrades "
                f"them anyway)")
        disk = next((f"{o.path.name}: {o.message}" for o in report.outcomes
                     if o.errno in DISK_ERRORS), None)
        staged = [o for o in report.outcomes if o.status == "upgraded"]
        if disk is not None:
            _stop(report, staged, disk)
        elif staged:
            _commit(folder, spec, staging, staged, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _stop(report: UpgradeReport, staged: list[FileOutcome], why: str) -> None:
    """A full or read-only disk: the files ``staged`` (not replaced yet) are not upgraded."""
    report.stopped = why
    for o in staged:
        o.status, o.lines = "failed", []
        o.message = "not upgraded: the upgrade stopped; the file is as it was"


def _commit(folder: Path, spec: Spec, staging: Path, staged: list[FileOutcome],
            report: UpgradeReport) -> None:
    """Keep the old files, refresh the summary, then move the new files into place.

    A full disk while keeping the old files or writing the summary stops here with nothing
    replaced (the backup made so far is removed).  The summary goes before the files: a run
    killed after it is finished by the next run, which refreshes it again.
    """
    backup = None
    try:
        backup = new_folder(backup_folder(folder))  # created now: no other run has this one
        for o in staged:
            copy_atomic(o.path, backup / o.path.name)  # the old file, kept whole
        report.summary = _refresh_summary(folder, spec, staged)
    except OSError as exc:
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        failed = (Path(exc.filename).parent / destination_name(Path(exc.filename).name)
                  if exc.filename else folder / f"{SUMMARY}.xlsx")
        _stop(report, staged, str(not_written(failed, exc)))
        return
    report.backup = backup
    for k, o in enumerate(staged):
        try:
            os.replace(staging / o.path.name, o.path)
        except OSError as exc:  # a rename in one folder: the disk went read-only, say
            _stop(report, staged[k:], str(not_written(o.path, exc)))
            return


def _refresh_summary(folder: Path, spec: Spec, staged: list[FileOutcome]) -> Path:
    """Update the summary's lines of the upgraded files (or write one that lists them)."""
    rows = read_summary(folder)
    by_file = {str(r.get("File")).casefold(): r for r in rows if r.get("File")}
    for o in staged:
        old = by_file.get(o.path.name.casefold())
        new = dict(o.row)
        if old is not None:
            new["Table row"], new["_row"] = old.get("Table row"), old.get("_row", 0)
            new["Customer id"] = new["Customer id"] or old.get("Customer id")
            old.clear()
            old.update(new)
        else:
            new["_row"] = 10 ** 9
            rows.append(new)
    write_summary(spec, rows, folder)
    return folder / f"{SUMMARY}.xlsx"
