"""Recalc against Excel itself: workbooks Excel saved, its values stripped and recomputed.

Every workbook under this folder was saved by Microsoft Excel and carries the values Excel
computed (``docProps/app.xml`` names the application; NOTICE lists the sources and licences).
:func:`compare` takes Excel's stored value of every formula cell as the reference, writes a copy
with every formula cell's cached value removed (so nothing stale can pass for a result),
recomputes the copy with :func:`cvp_xl.commands.recalc.recalc`, and sorts each formula cell
into one of three bins: it agrees with Excel, it was reported as not recomputed, or it is
wrong and was not reported.  Volatile cells (RAND, NOW, ...) are counted apart.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from cvp_xl.commands.recalc import recalc
from cvp_xl.errors import ErrorValue
from cvp_xl.xlsx.cached import write_cached_values
from cvp_xl.xlsx.contents import read_contents

HERE = Path(__file__).resolve().parent


def workbooks(folder: Path) -> list[Path]:
    """The workbooks of one source folder (``*.xlsx``, ``*.xlsm``), sorted by path."""
    return sorted(p for p in folder.rglob("*.xls[xm]") if not p.name.startswith("."))


#: The shipped workbooks of xlcalculator (test_corpus.py); every other source has its own
#: test_corpus_<source>.py over :func:`workbooks` of its folder.
WORKBOOKS = workbooks(HERE / "xlcalculator")

#: Numbers agree when they differ by at most this, relatively (Excel keeps 15 significant
#: digits when it writes a value; the engine computes in doubles).
REL_TOL = 1e-9
ABS_TOL = 1e-12


@dataclass
class Outcome:
    """How one workbook's formula cells compare with Excel's values."""

    path: Path
    agree: list = field(default_factory=list)
    reported: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    volatile: list = field(default_factory=list)
    no_reference: list = field(default_factory=list)
    seconds: float = 0.0


def same(ours, excel) -> bool:
    """True when our value is the value Excel stored (numbers within REL_TOL)."""
    if isinstance(excel, ErrorValue) or isinstance(ours, ErrorValue):
        return ours == excel
    if isinstance(excel, bool) or isinstance(ours, bool):
        return type(ours) is type(excel) and ours == excel
    if isinstance(excel, (int, float)) and isinstance(ours, (int, float)):
        return math.isclose(ours, excel, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if excel is None:
        return ours in ("", None)
    return ours == excel


def strip(src: Path, dst: Path) -> dict:
    """Copy `src` to `dst` without any formula cell's cached value; return Excel's values."""
    contents = read_contents(src)
    excel = {}
    for sheet in contents.sheets:
        for ref, cell in sheet.cells.items():
            if cell.formula is None:
                continue
            excel[(sheet.name, ref)] = cell.value
            if cell.kind == "array" and cell.array:
                from cvp_xl.xlsx.a1 import cells

                for inner in cells(cell.array):
                    inner_cell = sheet.cells.get(inner)
                    excel[(sheet.name, inner)] = inner_cell.value if inner_cell else None
    write_cached_values(src, dst, dict.fromkeys(excel))
    return excel


def compare(src: Path, work: Path) -> Outcome:
    """Strip, recalc and compare one workbook; `work` is a scratch folder."""
    stripped = work / f"stripped-{src.name}"
    excel = strip(src, stripped)
    started = time.perf_counter()
    result = recalc(stripped, work / f"recalc-{src.name}")
    result_seconds = time.perf_counter() - started
    kept = {cell for k in result.kept for cell in k.cells()}
    out = Outcome(src, seconds=result_seconds)
    for key, reference in sorted(excel.items()):
        if key in kept:
            out.reported.append(key)
        elif key in result.volatile:
            out.volatile.append(key)
        elif reference is None and key not in result.values:
            out.no_reference.append(key)
        elif same(result.values.get(key), reference):
            out.agree.append(key)
        else:
            out.wrong.append((key, result.values.get(key), reference))
    return out
