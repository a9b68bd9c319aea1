"""Spec and build cost against the spec's size: N inputs x N value elements.

For each size, in one run:

- spec: ``parse_spec`` of the YAML text (read with limits, every equation parsed and its unit
  checked);
- model: ``model.evaluate`` (Base) and ``model.sensitivity``, what every build computes;
- sensitivity by definition (at the smallest size only): every element evaluated again with
  each input moved, one at a time, as the Sensitivity sheet reads (what ``sensitivity`` did
  before it parsed each equation once and evaluated only the elements an input moves);
- build: ``builder.build`` to a file, in a process of its own, stopped after
  ``--max-build-seconds`` (default 300) so that a slow size does not hold the run;
- baseline: openpyxl writing a workbook with as many cells (numbers and short text, no
  formulas) as the calculator holds: the cost of the file itself.  The cell count is the
  built workbook's where the build finished, else scaled from the last finished size (the
  layout holds a fixed number of cells per input and per element).

Also printed: the longest formula the build wrote, against Excel's limit of 8,192 characters
(the Sensitivity sheet writes one formula per use of an input in an equation, each as long as
its element's own, and sums them by input: it grows with the spec, not with inputs x elements).

    python benchmarks/spec_scale.py [--sizes 100 300 600] [--max-build-seconds 300]

Target (issue 18): cost linear in the spec's size, 600 x 600 in seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def spec_text(n_inputs: int, n_elements: int) -> str:
    """A valid spec: one shared cost per hour and N - 1 hours saved; element k is
    ``Hours saved j x Cost per hour`` (the shared input is moved in every element)."""
    lines = ["name: Scale test", "currency: USD", "offering:", "  name: Ours",
             "  one_time: 1000", "  recurring: 100", "alternatives:", "  - name: Theirs",
             "    recurring: 50", "horizon_years: 3", "discount_rate: 8%", "inputs:",
             "  - name: Cost per hour", "    unit: USD/hour", "    base: 50", "    low: 40",
             "    high: 60"]
    for k in range(1, n_inputs):
        lines += [f"  - name: Hours saved {k}", "    unit: hours/year", f"    base: {k % 7 + 2}",
                  f"    low: {k % 7 + 1}", f"    high: {k % 7 + 3}", "    min: 0"]
    lines.append("value_elements:")
    for k in range(1, n_elements + 1):
        j = (k - 1) % (n_inputs - 1) + 1
        lines += [f"  - name: Element {k}", "    category: economic",
                  f"    equation: Hours saved {j} × Cost per hour"]
    return "\n".join(lines) + "\n"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def sensitivity_by_definition(spec):
    from cvp_xl import wordeq
    from cvp_xl.workbooks.calculator import model

    base = model.input_values(spec, "Base")
    names = spec.input_names

    def total(values):
        return sum(wordeq.evaluate(el.equation, names, [values[n] for n in names])
                   * model.annual_factor(el.unit) for el in spec.elements)

    return [(total({**base, i.name: i.low}), total({**base, i.name: i.high}))
            for i in spec.inputs]


def build_worker(n: int, out: str) -> None:
    """In a child process: build the N x N calculator, print what it took and wrote."""
    import openpyxl

    from cvp_xl.workbooks.calculator import parse_spec
    from cvp_xl.workbooks.calculator.builder import build

    spec = parse_spec(spec_text(n, n), f"scale-{n}.yaml")
    seconds, _ = timed(lambda: build(spec, out))
    wb = openpyxl.load_workbook(out)
    cells = longest = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    cells += 1
                    if c.data_type == "f":
                        longest = max(longest, len(str(c.value)))
    print(json.dumps({"seconds": seconds, "cells": cells, "longest": longest}))


def build_in_child(n: int, limit: float) -> dict | None:
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / f"scale-{n}.xlsx")
        try:
            done = subprocess.run([sys.executable, __file__, "--build-worker", str(n), out],
                                  capture_output=True, text=True, timeout=limit, check=True)
        except subprocess.TimeoutExpired:
            return None
        return json.loads(done.stdout.strip().splitlines()[-1])


def baseline(cells: int) -> float:
    """openpyxl writing ``cells`` cells (numbers and short text) in 20 columns."""
    import openpyxl

    with tempfile.TemporaryDirectory() as folder:
        def write():
            wb = openpyxl.Workbook()
            ws = wb.active
            for k in range(cells):
                ws.cell(k // 20 + 1, k % 20 + 1, k * 1.5 if k % 3 else f"text {k}")
            wb.save(Path(folder) / "baseline.xlsx")

        return timed(write)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 600])
    parser.add_argument("--max-build-seconds", type=float, default=300.0)
    parser.add_argument("--build-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_worker:
        build_worker(int(args.build_worker[0]), args.build_worker[1])
        return

    from cvp_xl.workbooks.calculator import model, parse_spec

    print(f"{'N x N':>9} {'spec s':>8} {'model s':>8} {'build s':>9} {'cells':>8} "
          f"{'baseline s':>10} {'build/base':>10} {'longest formula':>16}")
    per_cell = None
    for n in args.sizes:
        text = spec_text(n, n)
        spec_s, spec = timed(lambda text=text, n=n: parse_spec(text, f"scale-{n}.yaml"))
        model_s, _ = timed(lambda spec=spec: (model.evaluate(spec), model.sensitivity(spec)))
        if n == min(args.sizes):
            old_s, _ = timed(lambda spec=spec: sensitivity_by_definition(spec))
            new_s, _ = timed(lambda spec=spec: model.sensitivity(spec))
            print(f"  sensitivity at {n} x {n}: by definition {old_s:.2f} s, model "
                  f"{new_s:.3f} s ({old_s / new_s:.0f}x)")
        built = build_in_child(n, args.max_build_seconds)
        if built is not None:
            cells, per_cell = built["cells"], built["cells"] / (2 * n)
            build_s = f"{built['seconds']:9.2f}"
            longest = f"{built['longest']:,}" + (" > 8,192" if built["longest"] > 8192 else "")
        else:
            cells = round(per_cell * 2 * n) if per_cell else 0
            build_s = f"> {args.max_build_seconds:.0f}".rjust(9)
            longest = "(stopped)"
        base_s = baseline(cells) if cells else float("nan")
        if built is not None:
            ratio = f"{built['seconds'] / base_s:10.1f}"
        else:
            ratio = f"> {args.max_build_seconds / base_s:.0f}".rjust(10)
        print(f"{n:>4} x {n:<4}{spec_s:8.2f} {model_s:8.3f} {build_s} {cells:8,} "
              f"{base_s:10.2f} {ratio} {longest:>16}")


if __name__ == "__main__":
    main()
