"""``cvp-xl upgrade``: regenerate calculators from a new spec, carrying every customer value.

For each calculator in a folder, the values the customer entered (base, low
and high of every input, the customer's name, the scenario) are read back
and the calculator is built again from the new spec.  Inputs are matched by
name (case and spacing ignored) or by an earlier name the new spec lists
under ``was:``.  An input the new spec no longer has is kept, as entered, in
the sheet "Carried over" of the new file and listed in the report: nothing
is dropped.

The new files are written to a staging folder first; only when every one is
written are the old files moved to ``previous-<timestamp>/`` and the new ones
moved into place.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks.calculator.builder import (
    CARRIED_COLUMNS,
    CARRIED_SHEET,
    INPUT_FIRST_ROW,
    build,
)
from cvp_xl.workbooks.calculator.check import open_calculator
from cvp_xl.workbooks.calculator.spec import SCENARIOS, Spec
from cvp_xl.xlsx.tables import header_key, is_number

__all__ = ["upgrade", "UpgradeReport", "read_calculator"]

STAGING = ".cvp-xl-upgrade"


@dataclass
class UpgradeReport:
    upgraded: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    backup: Path | None = None


def read_calculator(path: str | os.PathLike) -> dict:
    """What the customer entered in a calculator: name, scenario, inputs, carried-over inputs."""
    wb = open_calculator(path)
    ws = wb["Inputs"]
    inputs = {}
    r = INPUT_FIRST_ROW
    while ws.cell(r, 1).value not in (None, ""):
        inputs[str(ws.cell(r, 1).value)] = {
            "unit": ws.cell(r, 2).value, "base": ws.cell(r, 4).value,
            "low": ws.cell(r, 5).value, "high": ws.cell(r, 6).value,
            "source": ws.cell(r, 9).value}
        r += 1
    carried = []
    if CARRIED_SHEET in wb.sheetnames:
        old = wb[CARRIED_SHEET]
        for row in old.iter_rows(min_row=4, values_only=True):
            if row and row[0] not in (None, ""):
                carried.append({k.lower(): v for k, v in zip(CARRIED_COLUMNS, row)})
    summary = wb["Summary"] if "Summary" in wb.sheetnames else None
    customer = summary["B2"].value if summary is not None else None
    scenario = summary["B4"].value if summary is not None else None
    return {"customer": customer if isinstance(customer, str) else None,
            "scenario": scenario if scenario in SCENARIOS else "Base",
            "inputs": inputs, "carried": carried}


def _plan(spec: Spec, old: dict, name: str):
    """The new spec for this customer (their low/high), their base values, the carried inputs."""
    by_key = {header_key(n): n for n in old["inputs"]}
    used, given, inputs, lines = set(), {}, [], []
    for i in spec.inputs:
        match = by_key.get(header_key(i.name))
        renamed = None
        if match is None:
            for earlier in i.was:
                if header_key(earlier) in by_key:
                    match = renamed = by_key[header_key(earlier)]
                    break
        if match is None:
            lines.append(f"{name}: '{i.name}' is new; the spec's base {i.base:g} is used")
            inputs.append(i)
            continue
        used.add(match)
        entered = old["inputs"][match]
        if renamed:
            lines.append(f"{name}: '{i.name}' <- '{renamed}' (renamed)")
        if is_number(entered["base"]):
            given[i.name] = float(entered["base"])
        else:
            lines.append(f"{name}: '{i.name}' held {entered['base']!r}, not a number; the "
                         f"spec's base {i.base:g} is used")
        low = float(entered["low"]) if is_number(entered["low"]) else i.low
        high = float(entered["high"]) if is_number(entered["high"]) else i.high
        inputs.append(replace(i, low=low, high=high))
    carried = list(old["carried"])
    for n, entered in old["inputs"].items():
        if n not in used:
            carried.append({"input": n, **entered})
            lines.append(f"{name}: '{n}' is not in the new spec; kept in sheet '{CARRIED_SHEET}'")
    return replace(spec, inputs=tuple(inputs)), given, carried, lines


def _calculators(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.xlsx")
                  if not p.name.startswith(".") and p.stem != "summary")


def upgrade(folder: str | os.PathLike, spec: Spec) -> UpgradeReport:
    """Rebuild every calculator in ``folder`` from ``spec``, carrying over customer values."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WorkbookError(f"{folder}: no such folder")
    report = UpgradeReport()
    staging = folder / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    staged = []
    try:
        for path in _calculators(folder):
            try:
                old = read_calculator(path)
                new_spec, given, carried, lines = _plan(spec, old, path.name)
                build(new_spec, staging / path.name, given=given, customer=old["customer"],
                      scenario=old["scenario"], carried=carried)
            except Exception as exc:  # report it, leave the old file where it is
                report.failed.append((path, str(exc)))
                continue
            staged.append(path)
            report.lines.extend(lines)
            carried_n = sum(1 for line in lines if "not in the new spec" in line)
            report.lines.append(f"{path.name}: upgraded; {len(given)} input"
                                f"{'s' * (len(given) != 1)} carried over"
                                + (f", {carried_n} kept in '{CARRIED_SHEET}'" if carried_n else ""))
        if staged:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            report.backup = folder / f"previous-{stamp}"
            report.backup.mkdir()
            for path in staged:
                shutil.copy2(path, report.backup / path.name)  # the old file, kept
            for path in staged:
                os.replace(staging / path.name, path)
                report.upgraded.append(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report
