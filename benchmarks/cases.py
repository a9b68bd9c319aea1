"""Benchmark: read and check a 100,000-row case-history table, against plain pandas.read_excel.

Generates the table (the seven example cases of ``workbooks/cases/cases.csv`` repeated, each
copy with its own customer name and documented value), writes it as the case-history workbook
(:func:`cvp_xl.workbooks.case_histories.build`: the table, its summary and the first 250 case
sheets, each formula with its Python value), then, in the same run and on the same file, times

- :func:`cvp_xl.workbooks.case_table.read_cases`: finds the table, reads its cells and checks
  every row;
- ``pandas.read_excel(path)``: reads the table's sheet (the first), no checks;

and prints both times and their ratio.  Usage::

    python benchmarks/cases.py [--rows 100000] [--repeat 1] [--keep FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cvp_xl.workbooks.case_histories import CASES_CSV, build
from cvp_xl.workbooks.case_table import read_cases, read_cases_csv


def generate(rows: int) -> pd.DataFrame:
    base = read_cases_csv(CASES_CSV)
    reps = -(-rows // len(base))
    big = pd.concat([base] * reps, ignore_index=True).iloc[:rows].copy()
    n = np.arange(rows)
    big["customer"] = pd.Series([f"{c} {i // len(base) + 1}" for c, i in zip(big["customer"], n)],
                                dtype=object)
    big["documented value per year"] = big["documented value per year"] + (n % 997)
    return big


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the generated workbook here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "cases.xlsx"
        df = generate(args.rows)
        start = time.perf_counter()
        build(path, df)
        print(f"generated {args.rows:,} rows x {df.shape[1]} columns "
              f"({path.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s")
        ours, got = best_of(args.repeat, lambda: read_cases(path))
        plain, raw = best_of(args.repeat, lambda: pd.read_excel(path))
        assert len(got) == len(raw) == args.rows
        assert got.equals(df.reset_index(drop=True))
        print(f"cvp_xl.workbooks.case_table.read_cases (read + check every row): {ours:8.2f} s")
        print(f"pandas.read_excel (read only):                   {plain:8.2f} s")
        print(f"ratio read_cases / read_excel:                   {ours / plain:8.2f}")


if __name__ == "__main__":
    main()
