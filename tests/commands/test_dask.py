"""build_many on a Dask cluster: the same workbooks and the same summary as in one process.

A ``dask.distributed.LocalCluster`` with two worker processes builds a small customer table
through ``client.get_executor()``, as a cluster beyond one machine would (each worker writes
its files into the shared output folder).  Every workbook must be the one the same table gives
in one process, part by part, uncompressed, apart from the times of the build (the document's
times, "Built (UTC)" on the About sheet and in the template record, and so the digest of that
record); the summary must be the same table.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cvp_xl.commands.batch import build_many
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import digests, load_spec

distributed = pytest.importorskip(
    "distributed", reason="Dask's distributed is not installed (pip install 'cvp-xl[distributed]')")

#: A time of the build as the builder writes it, and the template record's digest (64 hex
#: digits, a digest of a record that holds that time).
_TIME = re.compile(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}Z?")
_DIGEST = re.compile(rb'(name="' + digests.DIGEST_PROPERTY.encode() + rb'"[^>]*><vt:lpwstr'
                     rb'[^>]*>)[0-9a-f]{64}')


def _table(spec, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    data = {"customer_id": [f"C-{k:03d}" for k in range(n)],
            "customer_name": [f"Customer {k} & Sons" for k in range(n)]}
    for i in spec.inputs:
        data[i.name] = rng.uniform(i.low, i.high, n)
    return pd.DataFrame(data)


def _parts(path) -> tuple[dict[str, bytes], dict]:
    """The file's parts with the times masked, and its template record without them."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    record = digests.read_record(wb)
    stored = {p.name: p.value for p in wb.custom_doc_props.props}[digests.DIGEST_PROPERTY]
    assert digests.record_digest(record) == stored  # each file's digest is its record's
    # the record holds the time (build) and the digest of the cell that shows it (About)
    shown = [c.coordinate for row in wb["About"].iter_rows() for c in row
             if isinstance(c.value, str) and _TIME.fullmatch(c.value.encode())]
    assert len(shown) == 1
    record.sheets["About"].cells.pop(shown[0])
    record.build.pop("built_at")
    sheet = next(n for n, data in parts.items()  # the record sheet: A2 names its version
                 if f"<t>{digests.RECORD_VERSION}</t>".encode() in data)
    del parts[sheet]
    masked = {n: _DIGEST.sub(rb"\1<digest>", _TIME.sub(b"<time>", data))
              for n, data in parts.items()}
    return masked, record.canonical()


def test_build_many_on_a_local_dask_cluster_gives_the_same_files(tmp_path):
    spec = load_spec(example("calculators", "fleet-routing.yaml"))
    table = _table(spec, 24)
    here = build_many(spec, table, tmp_path / "here")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        there = build_many(spec, table, tmp_path / "dask", executor=client.get_executor(),
                           chunk_size=5)
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2
    assert len(here.written) == len(there.written) == 24
    assert (here.ok, there.ok) == (True, True)
    pd.testing.assert_frame_equal(here.summary, there.summary)
    assert (tmp_path / "here" / "summary.csv").read_bytes() == \
        (tmp_path / "dask" / "summary.csv").read_bytes()
    for path in sorted((tmp_path / "here").glob("C-*.xlsx")):
        (mine, my_record), (theirs, their_record) = (
            _parts(path), _parts(tmp_path / "dask" / path.name))
        assert list(mine) == list(theirs)
        assert [n for n in mine if mine[n] != theirs[n]] == [], path.name
        assert my_record == their_record, path.name
