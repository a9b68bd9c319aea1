"""How much the safety check adds to opening a workbook.

Builds a ~1 MB workbook (8,000 rows of numbers, a formula and text), then
times ``check_xlsx`` against the baseline it guards, ``openpyxl.load_workbook``
of the same file, in the same run.  Prints best-of-5 times and the ratio.

    python benchmarks/xlsx_safety.py
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import openpyxl

from cvp_xl.xlsx.safety import check_xlsx


def best_of(n, fn, *args) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mb.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        rng = random.Random(1)
        for r in range(1, 8001):
            ws.append([rng.random() * 1000 for _ in range(8)] + [f"=SUM(A{r}:H{r})", f"row {r}"])
        wb.save(path)
        check = best_of(5, check_xlsx, path)
        load = best_of(5, openpyxl.load_workbook, path)
        print(f"file size:                 {path.stat().st_size:,} bytes")
        print(f"check_xlsx (best of 5):    {check * 1000:8.1f} ms")
        print(f"openpyxl.load_workbook:    {load * 1000:8.1f} ms")
        print(f"check / load:              {check / load:8.2f}")


if __name__ == "__main__":
    main()
