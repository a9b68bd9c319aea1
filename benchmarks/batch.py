"""Batch regeneration: how close to the cost of writing the files, how far ahead of LibreOffice.

For each example spec, in one run:

- ours: ``build_many`` over N customers (default 1,000) in one process:
  vectorised model, each file written once with formulas and cached values;
- the floor: the same workbooks written with openpyxl with no computation and
  no cached values (``build(..., cached=False)`` with results computed once);
- the naive engine path: build the workbook, then load and compute it with
  the formulas engine, per customer (on a sample);
- LibreOffice: one ``soffice --convert-to`` per file to recompute it (on a
  sample of 20), as a script around LibreOffice would.

Then peak memory of ours at 1,000 and 5,000 customers (separate processes).

``--nightly N`` (default 200; 0 skips it) times the nightly loop on N customers of the
first spec, each figure per file against the first run's cost per file, in the same run:
a rerun with nothing changed; a rerun after 10% of the rows changed, half of those files
edited by their customer (carried); ``upgrade`` to a spec with one input renamed; and
``collect`` of the N files against LibreOffice recomputing one file.

    python benchmarks/batch.py [--customers 1000] [--sample 20] [--skip-libreoffice]
                               [--nightly 200]

Targets (issue 5): total <= 1.5x the floor; >= 20x faster per file than
LibreOffice; peak memory that does not grow with the number of customers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "workbooks" / "calculators").glob("*.yaml"))


def customers(spec, n: int, seed: int = 7) -> pd.DataFrame:
    """n customers with inputs drawn uniformly between each input's low and high."""
    rng = np.random.default_rng(seed)
    data = {"customer_id": [f"C-{k:05d}" for k in range(n)],
            "customer_name": [f"Customer {k}" for k in range(n)]}
    for i in spec.inputs:
        data[i.name] = rng.uniform(i.low, i.high, n) if i.high > i.low else np.full(n, i.base)
    return pd.DataFrame(data)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def one_spec(spec_path: Path, n: int, sample: int, libreoffice: bool) -> dict:
    from cvp_xl.commands.batch import build_many
    from cvp_xl.hosts.formulas_host import register_all
    from cvp_xl.hosts.libreoffice import find_soffice, recalc_with_libreoffice
    from cvp_xl.workbooks.calculator import load_spec, model
    from cvp_xl.workbooks.calculator.builder import build

    spec = load_spec(spec_path)
    table = customers(spec, n)
    row = {"spec": spec_path.stem, "customers": n}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_ours, report = timed(lambda: build_many(spec, table, tmp / "ours"))
        assert len(report.written) == n, report.problems[:3]
        row["ours_s"] = t_ours

        results, sens = model.evaluate(spec), model.sensitivity(spec)
        floor_dir = tmp / "floor"

        def floor():
            for k in range(n):
                build(spec, floor_dir / f"{k}.xlsx", results=results, sens=sens, cached=False)

        row["floor_s"], _ = timed(floor)

        import formulas

        register_all()
        paths = sorted((tmp / "ours").glob("C-*.xlsx"))[:sample]

        def naive():
            for p in paths:
                formulas.ExcelModel().loads(str(p)).finish().calculate()

        t_naive, _ = timed(naive)
        row["naive_engine_per_file_s"] = t_naive / len(paths)

        if libreoffice and find_soffice():
            out = tmp / "lo"
            out.mkdir()

            def lo():
                for p in paths:
                    recalc_with_libreoffice([p], out)

            t_lo, _ = timed(lo)
            row["libreoffice_per_file_s"] = t_lo / len(paths)
    row["ours_per_file_s"] = row["ours_s"] / n
    row["ours_over_floor"] = row["ours_s"] / row["floor_s"]
    if "libreoffice_per_file_s" in row:
        row["libreoffice_over_ours"] = row["libreoffice_per_file_s"] / row["ours_per_file_s"]
    row["naive_over_ours"] = row["naive_engine_per_file_s"] / row["ours_per_file_s"]
    return row


def peak_memory(spec_path: Path, n: int) -> float:
    """Peak RSS in MiB of a separate process that runs build_many over n customers."""
    code = f"""
import resource, sys, tempfile
sys.path.insert(0, {str(ROOT / 'benchmarks')!r})
from batch import customers
from cvp_xl.commands.batch import build_many
from cvp_xl.workbooks.calculator import load_spec
spec = load_spec({str(spec_path)!r})
table = customers(spec, {n})
with tempfile.TemporaryDirectory() as tmp:
    build_many(spec, table, tmp)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def nightly(spec_path: Path, n: int, libreoffice: bool) -> dict:
    """The nightly loop on n customers, per file (see the module's description)."""
    import openpyxl

    from cvp_xl.commands.batch import build_many
    from cvp_xl.commands.collect import collect
    from cvp_xl.commands.upgrade import upgrade
    from cvp_xl.hosts.libreoffice import find_soffice, recalc_with_libreoffice
    from cvp_xl.workbooks.calculator import load_spec, parse_spec

    spec = load_spec(spec_path)
    table = customers(spec, n)
    row = {"files": n}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        first, _ = timed(lambda: build_many(spec, table, out))
        row["first_run_per_file_s"] = first / n
        again, report = timed(lambda: build_many(spec, table, out))
        assert len(report.up_to_date) == n
        row["rerun_unchanged_per_file_s"] = again / n
        changed = table.copy()
        k = max(n // 10, 2)
        name = spec.inputs[0].name
        changed.loc[: k - 1, name] = changed.loc[: k - 1, name] * 1.01
        for j in range(k // 2):  # half of the changed rows: their customer edited the file
            path = out / f"C-{j:05d}.xlsx"
            wb = openpyxl.load_workbook(path)
            wb["Inputs"]["D6"] = float(wb["Inputs"]["D6"].value) * 1.01
            wb["Summary"]["B4"] = "Conservative"
            wb.save(path)
        t, report = timed(lambda: build_many(spec, changed, out))
        assert len(report.written) == k and len(report.carried) == k // 2, report.kept
        row["rerun_10pct_changed_per_rebuilt_file_s"] = t / k
        first_input = spec.inputs[-1].name
        text = spec.text.replace(f"  - name: {first_input}\n",
                                 f"  - name: {first_input} (v2)\n    was: {first_input}\n")
        text = text.replace(f"× {first_input}", f"× {first_input} (v2)")
        new = parse_spec(text, "v2.yaml")
        t, report = timed(lambda: upgrade(out, new))
        assert len(report.upgraded) == n, report.failed[:3]
        row["upgrade_per_file_s"] = t / n
        t, report = timed(lambda: collect(out, Path(tmp) / "results.xlsx"))
        assert len(report.files) == n
        row["collect_per_file_s"] = t / n
        if libreoffice and find_soffice():
            lo_out = Path(tmp) / "lo"
            lo_out.mkdir()
            t, _ = timed(lambda: recalc_with_libreoffice([out / "C-00001.xlsx"], lo_out))
            row["libreoffice_one_file_s"] = t
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--skip-libreoffice", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--nightly", type=int, default=200)
    args = parser.parse_args()
    if args.nightly:
        loop = nightly(SPECS[0], args.nightly, not args.skip_libreoffice)
        print(f"nightly loop ({SPECS[0].stem}, {args.nightly} files): " + ", ".join(
            f"{k} {v:,.4f}" for k, v in loop.items() if k != "files"))
    rows = [one_spec(p, args.customers, args.sample, not args.skip_libreoffice) for p in SPECS]
    frame = pd.DataFrame(rows).set_index("spec")
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:,.4f}".format):
        print(frame.T)
    if not args.skip_memory:
        mem = {n: peak_memory(SPECS[0], n) for n in (1000, 5000)}
        print(f"peak memory ({SPECS[0].stem}): " +
              ", ".join(f"{n:,} customers {m:,.0f} MiB" for n, m in mem.items()))
    print(json.dumps({"ours_over_floor_max": float(frame["ours_over_floor"].max()),
                      "libreoffice_over_ours_min": float(frame.get(
                          "libreoffice_over_ours", pd.Series([np.nan])).min())}))


if __name__ == "__main__":
    main()
