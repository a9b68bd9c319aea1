"""Batch regeneration at disk speed: stamping against openpyxl, the engines, LibreOffice.

For each example spec, in one run, per file:

- stamped batch: ``build_many`` over N customers (default 1,000) in one process: the
  vectorised model, each customer's values *patched* into the template of its shape, the
  builder run once per shape (``cvp_xl.workbooks.calculator.stamp``, the keyed path; the
  counts of files patched, stamped and written by the builder are printed), the summary;
- the writers alone, interleaved in rounds of 20 files so that each sees the same load (the
  machine is shared), on ``--per-file`` customers (default 200), each given its results as
  batch gives them: stamp (``Stamper.build``, batch's writer now: patched); stamp_layout
  (``Stamper(spec, keyed=False)``: each file laid out by the builder and stamped into the
  parts of the first of its shape, batch's writer before); builder (``build``:
  openpyxl, then the cached values, batch's writer before); floor (``build(...,
  cached=False)``, results computed once: the same workbook written by openpyxl with no
  cached values and no template record, what openpyxl alone costs);
- where a stamped file's time goes (``stamp_layout``, ``_record``, ``_render``, ``_write``,
  on up to 40 files), and ``stamp_patch``: the template's sheets with every value patched in
  as text and the zip written, no builder: what a file costs once the builder no longer runs
  per customer (see :func:`stamp_parts`);
- formulas engine: load and compute a stamped file with the formulas engine (on a sample);
- LibreOffice: one ``soffice --convert-to`` per file (on a sample), as a script would;
- recalc of returned calculators (a price changed, the Conservative case chosen; five
  customers of the spec): by their model (``cvp-xl recalc`` on a calculator it recognises)
  against the formulas engine.

Then ``cvp-xl batch --jobs 2`` over 10,000 customers of the first spec (``--big``) and over
1,000, each in a process of its own: the wall time and the peak memory of the largest process
(the command or one of its workers).  ``--nightly N`` (default 200; 0 skips it) times the
nightly loop as before (see :func:`nightly`).

    python benchmarks/batch.py [--customers 1000] [--sample 20] [--big 10000] [--jobs 2]
                               [--skip-libreoffice] [--skip-memory] [--nightly 200]

Targets (issue 14): stamped <= 0.15x the floor; 10,000 customers with --jobs 2 in <= 60 s on
a 2-core machine; peak memory flat from 1,000 to 10,000 customers; recalc by the model
<= 0.05x the engine.  (Issue 5: batch <= 1.5x the floor, >= 20x faster than LibreOffice.)
The machine's load average is printed at the start and the end: on a shared machine the
figures of one run are comparable with each other, not with another run's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
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


def one_spec(spec_path: Path, n: int, sample: int, libreoffice: bool, per_file: int) -> dict:
    """Per-file seconds of each way of writing (and checking) this spec's calculators."""
    from cvp_xl.commands.batch import build_many
    from cvp_xl.hosts.formulas_host import register_all
    from cvp_xl.hosts.libreoffice import find_soffice, recalc_with_libreoffice
    from cvp_xl.workbooks.calculator import load_spec, model
    from cvp_xl.workbooks.calculator.builder import build
    from cvp_xl.workbooks.calculator.stamp import Stamper, stamper

    spec = load_spec(spec_path)
    table = customers(spec, n)
    row = {"spec": spec_path.stem, "customers": n}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        writer = stamper(spec)  # this process's: build_many runs here
        before = writer.stamped, writer.built, writer.patched
        t_stamped, report = timed(lambda: build_many(spec, table, tmp / "stamped"))
        assert len(report.written) == n, report.problems[:3]
        row["stamped_batch_per_file_s"] = t_stamped / n
        row["files_patched"] = writer.patched - before[2]
        row["files_stamped"] = writer.stamped - before[0]
        row["files_by_builder"] = writer.built - before[1]
        assert not writer.notes, writer.notes

        # the three writers per file, interleaved in rounds of 20 files so that each sees
        # the same load (the machine is shared)
        m = min(n, per_file)
        givens = [{i.name: float(table[i.name][k]) for i in spec.inputs} for k in range(m)]
        arrays = {k: np.array([g[k] for g in givens]) for k in givens[0]}
        # each writer is given its customer's results and sensitivity as batch gives them:
        # computed for all customers at once, outside the time of writing
        block, block_sens = model.evaluate(spec, arrays), model.sensitivity(spec, arrays)
        senses = [model.pick_sensitivity(block_sens, k) for k in range(m)]
        results, sens = model.evaluate(spec), model.sensitivity(spec)
        own = Stamper(spec)
        old = Stamper(spec, keyed=False)
        for writer in (own, old):  # their templates
            writer.build(tmp / "writer" / "template.xlsx", customer="Template")
        spent = {"stamp": 0.0, "stamp_layout": 0.0, "builder": 0.0, "floor": 0.0}
        for first in range(0, m, 20):
            ks = range(first, min(first + 20, m))
            spent["stamp"] += timed(lambda ks=ks: [own.build(
                tmp / "writer" / f"s{k}.xlsx", given=givens[k], customer=f"Customer {k}",
                results=model.pick(block, k), sens=senses[k])
                for k in ks])[0]
            spent["stamp_layout"] += timed(lambda ks=ks: [old.build(
                tmp / "writer" / f"l{k}.xlsx", given=givens[k], customer=f"Customer {k}",
                results=model.pick(block, k), sens=senses[k])
                for k in ks])[0]
            spent["builder"] += timed(lambda ks=ks: [build(
                spec, tmp / "writer" / f"b{k}.xlsx", given=givens[k],
                customer=f"Customer {k}", results=model.pick(block, k),
                sens=senses[k]) for k in ks])[0]
            spent["floor"] += timed(lambda ks=ks: [build(
                spec, tmp / "writer" / f"f{k}.xlsx", results=results, sens=sens,
                cached=False) for k in ks])[0]
        for key, seconds in spent.items():
            row[f"{key}_per_file_s"] = seconds / m
        row["writer_files_patched"] = own.patched
        row.update(stamp_parts(spec, old, givens[:min(m, 40)], block, senses, tmp / "parts"))

        import formulas

        register_all()
        paths = sorted((tmp / "stamped").glob("C-*.xlsx"))[:sample]

        def naive():
            for p in paths:
                formulas.ExcelModel().loads(str(p)).finish().calculate()

        row["formulas_engine_per_file_s"] = timed(naive)[0] / len(paths)
        if libreoffice and find_soffice():
            out = tmp / "lo"
            out.mkdir()

            def lo():
                for p in paths:
                    recalc_with_libreoffice([p], out)

            row["libreoffice_per_file_s"] = timed(lo)[0] / len(paths)
        row.update(returned_recalc(spec, tmp / "returned.xlsx"))
    row["stamp_over_floor"] = row["stamp_per_file_s"] / row["floor_per_file_s"]
    row["stamp_layout_over_floor"] = row["stamp_layout_per_file_s"] / row["floor_per_file_s"]
    row["patch_over_floor"] = row["stamp_patch_per_file_s"] / row["floor_per_file_s"]
    row["builder_over_floor"] = row["builder_per_file_s"] / row["floor_per_file_s"]
    row["stamped_batch_over_floor"] = row["stamped_batch_per_file_s"] / row["floor_per_file_s"]
    if "libreoffice_per_file_s" in row:
        row["libreoffice_over_stamped_batch"] = (row["libreoffice_per_file_s"]
                                                 / row["stamped_batch_per_file_s"])
    row["recalc_model_over_engine"] = row["recalc_model_s"] / row["recalc_engine_s"]
    return row


def stamp_parts(spec, own, givens: list[dict], block, senses: list, folder: Path) -> dict:
    """Where a stamped file's time goes, per file: the builder laying out the workbook
    (``builder._workbook``), its template record (``digests.fingerprint``), stamping the
    parts (``Stamper._render``), the atomic write (``atomic_path``: fsync of the file and
    its folder); and what patching the template's parts as text costs (every ``<v>`` and
    text of the sheets replaced, the zip written: what stamping costs once the builder no
    longer runs per customer, the design of issue 14)."""
    import io
    import re
    import zipfile

    from cvp_xl.workbooks.calculator import builder, digests, model
    from cvp_xl.workbooks.calculator.stamp import _book
    from cvp_xl.xlsx.cached import _copy_zip

    folder.mkdir()
    spent = dict.fromkeys(("layout", "record", "render", "write", "patch"), 0.0)
    template = next(iter(own.templates.values()))[0]
    data = template.data
    archive = zipfile.ZipFile(io.BytesIO(data))
    pieces = {n: re.split(rb"(<v>[^<]*</v>|<t>[^<]*</t>)", archive.read(n))
              for n in archive.namelist() if n.startswith("xl/worksheets/sheet")}
    now = datetime.datetime.now(datetime.timezone.utc)

    def patch(k: int) -> None:
        new = {}
        for name, parts in pieces.items():
            out = list(parts)
            for j in range(1, len(out), 2):
                out[j] = b"<v>%r</v>" % (k * 1.25 + j)
            new[name] = b"".join(out)
        buffer = io.BytesIO()
        _copy_zip("template", archive, io.BytesIO(data), buffer,
                  lambda info: new.get(info.filename))
        with open(folder / f"p{k}.xlsx", "wb") as handle:
            handle.write(buffer.getvalue())

    for k, given in enumerate(givens):
        results, sens = model.pick(block, k), senses[k]
        t0 = time.perf_counter()
        book, _ = builder._workbook(spec, given, "Base", now, f"Customer {k}", results, sens,
                                    None)
        t1 = time.perf_counter()
        digests.fingerprint(book.wb)
        t2 = time.perf_counter()
        book, _ = _book(spec, given, "Base", now, f"Customer {k}", results, sens, None, None)
        t3 = time.perf_counter()
        stamped = own._render(template, book)
        t4 = time.perf_counter()
        own._write(folder / f"{k}.xlsx", stamped)
        t5 = time.perf_counter()
        patch(k)
        t6 = time.perf_counter()
        for key, seconds in zip(spent, (t1 - t0, t2 - t1, t4 - t3, t5 - t4, t6 - t5)):
            spent[key] += seconds
    return {f"stamp_{key}_per_file_s": seconds / len(givens) for key, seconds in spent.items()}


def returned_recalc(spec, path: Path, runs: int = 5) -> dict:
    """Calculators as customers return them (a price raised, the Conservative case chosen),
    recomputed by their model and by the formulas engine.  ``runs`` customers, each with
    their own price, each file computed once by the model, as a batch of returned files
    would be (the first parses the spec, the others find it parsed): the best and the mean
    per file; the engine: the best of two runs on the first file."""
    import openpyxl

    from cvp_xl.commands.recalc import compute
    from cvp_xl.workbooks.calculator.builder import build

    paths = [path.with_name(f"{path.stem}-{k}{path.suffix}") for k in range(runs)]
    for k, each in enumerate(paths):
        layout = build(spec, each, customer=f"Returned {k} Ltd")
        wb = openpyxl.load_workbook(each)
        cell = wb["Inputs"][f"E{layout.price_rows[spec.offering.name]}"]
        cell.value = cell.value * (1.05 + k / 100) + 1
        wb["Summary"]["B4"] = "Conservative"
        wb.save(each)
    by_model = [timed(lambda each=each: compute(each)) for each in paths]
    engine = [timed(lambda: compute(paths[0], by_model=False)) for _ in range(2)]
    assert all(r.by_model for _, r in by_model) and not engine[0][1].by_model
    values, other = by_model[0][1].values, engine[0][1].values
    assert values.keys() == other.keys()
    return {"recalc_model_s": min(t for t, _ in by_model),
            "recalc_model_mean_s": sum(t for t, _ in by_model) / runs,
            "recalc_engine_s": min(t for t, _ in engine)}


def big_run(spec_path: Path, n: int, jobs: int) -> dict:
    """``cvp-xl batch --jobs J`` over n customers in a process of its own: wall seconds, CPU
    seconds of all its processes, the peak memory (MiB) of the largest process (the command
    or one of its workers) and of the command itself (the process that reads the table,
    keeps the report and writes the summary: issue 14 wants it flat in n)."""
    from cvp_xl.workbooks.calculator import load_spec

    spec = load_spec(spec_path)
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "customers.csv"
        customers(spec, n).to_csv(table, index=False)
        own = Path(tmp) / "command-peak"
        code = f"""
import resource, subprocess, sys, time
start = time.perf_counter()
cli = ("import atexit, resource; atexit.register(lambda: open({str(own)!r}, 'w').write("
       "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))); "
       "from cvp_xl.commands.cli import main; main()")
done = subprocess.run([sys.executable, "-c", cli, "batch", {str(spec_path)!r},
                       "--customers", {str(table)!r}, "--out", {str(Path(tmp) / 'out')!r},
                       "--jobs", "{jobs}", "--quiet"], capture_output=True, text=True)
took = time.perf_counter() - start
assert done.returncode == 0, done.stdout + done.stderr
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(took, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True)
        took, peak, cpu = map(float, out.stdout.split())
        command = float(own.read_text()) / 1024
        written = len(list((Path(tmp) / "out").glob("C-*.xlsx")))
    assert written == n, written
    return {"customers": n, "seconds": took, "peak_mib": peak, "cpu_seconds": cpu,
            "command_peak_mib": command}


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
    parser.add_argument("--per-file", type=int, default=200,
                        help="files written by the builder and by the floor, per spec")
    parser.add_argument("--big", type=int, default=10_000,
                        help="customers of the --jobs run (0 skips it and the memory runs)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-libreoffice", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--nightly", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"load average at the start {os.getloadavg()[0]:.2f} (shared with other jobs)")
    if args.nightly:
        loop = nightly(SPECS[0], args.nightly, not args.skip_libreoffice)
        print(f"nightly loop ({SPECS[0].stem}, {args.nightly} files): " + ", ".join(
            f"{k} {v:,.4f}" for k, v in loop.items() if k != "files"))
    rows = [one_spec(p, args.customers, args.sample, not args.skip_libreoffice, args.per_file)
            for p in SPECS]
    frame = pd.DataFrame(rows).set_index("spec")
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:,.4f}".format):
        print(frame.T)
    big = {}
    if args.big:
        runs = [big_run(SPECS[0], args.big, args.jobs)]
        if not args.skip_memory:
            runs.append(big_run(SPECS[0], 1000, args.jobs))
        for r in runs:
            each = r["seconds"] / r["customers"] * 1000
            print(f"cvp-xl batch --jobs {args.jobs}, {r['customers']:,} customers of "
                  f"{SPECS[0].stem}: {r['seconds']:,.1f} s ({each:,.1f} ms a file; "
                  f"{r['cpu_seconds'] / r['customers'] * 1000:,.1f} ms of CPU a file, all "
                  f"processes), peak memory of the largest process {r['peak_mib']:,.0f} MiB, "
                  f"of the command itself {r['command_peak_mib']:,.1f} MiB")
        big = {"big_run_s": runs[0]["seconds"]}
        if len(runs) == 2:
            big["peak_mib_big_over_1000"] = runs[0]["peak_mib"] / runs[1]["peak_mib"]
            # flat (issue 14): the command's peak grows by at most 5 MiB from 1,000 customers
            big["command_peak_mib_big_minus_1000"] = (runs[0]["command_peak_mib"]
                                                      - runs[1]["command_peak_mib"])
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print(json.dumps({"stamp_over_floor_max": float(frame["stamp_over_floor"].max()),
                      "stamped_batch_over_floor_max":
                          float(frame["stamped_batch_over_floor"].max()),
                      "recalc_model_over_engine_max":
                          float(frame["recalc_model_over_engine"].max()),
                      "libreoffice_over_stamped_batch_min": float(frame.get(
                          "libreoffice_over_stamped_batch", pd.Series([np.nan])).min()),
                      **big}))


if __name__ == "__main__":
    main()
