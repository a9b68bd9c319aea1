"""Recalc time per workbook on the Excel corpus, next to LibreOffice's on the same files.

    python benchmarks/recalc.py

Every workbook in ``tests/corpus`` (saved by Excel, see its NOTICE) is stripped of its cached
values, then recomputed by ``cvp_xl.commands.recalc.recalc`` one file at a time, and by
LibreOffice (one headless ``soffice`` run converting all the files, its start-up included), in
the same run.  Prints the total and per-workbook time of each, and recalc's agreement with
Excel's stored values (cells agreeing, reported as not recomputed, wrong and unreported).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corpus.excel_corpus import WORKBOOKS, compare, strip  # noqa: E402

from cvp_xl.hosts.libreoffice import find_soffice, recalc_with_libreoffice  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        import cvp_xl.commands.recalc  # noqa: F401  (import cost outside the timing)

        started = time.perf_counter()
        outcomes = [compare(path, work) for path in WORKBOOKS]
        total = time.perf_counter() - started
        ours = sum(o.seconds for o in outcomes)
        agree = sum(len(o.agree) for o in outcomes)
        reported = sum(len(o.reported) for o in outcomes)
        wrong = sum(len(o.wrong) for o in outcomes)
        n = len(WORKBOOKS)
        print(f"corpus: {n} workbooks saved by Excel, {agree + reported + wrong:,} formula cells")
        print(f"recalc (formulas engine): {ours:.2f} s in all, {ours / n * 1000:.0f} ms per "
              f"workbook (strip + compare included: {total:.2f} s)")
        print(f"  agree with Excel {agree:,}, reported not recomputed {reported:,}, "
              f"wrong and unreported {wrong:,}")
        slowest = sorted(outcomes, key=lambda o: -o.seconds)[:3]
        print("  slowest: " + ", ".join(f"{o.path.name} {o.seconds:.2f} s" for o in slowest))
        if find_soffice() is None:
            print("LibreOffice: not installed, no baseline")
            return
        stripped = work / "lo-in"
        stripped.mkdir()
        inputs = []
        for path in WORKBOOKS:
            target = stripped / path.name.replace(".xlsm", "-m.xlsx")
            strip(path, target)
            inputs.append(target)
        started = time.perf_counter()
        recalc_with_libreoffice(inputs, work / "lo-out", timeout=900)
        lo = time.perf_counter() - started
        print(f"LibreOffice (one soffice run): {lo:.2f} s in all, {lo / n * 1000:.0f} ms per "
              "workbook")


if __name__ == "__main__":
    main()
