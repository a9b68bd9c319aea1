"""The template record's fingerprint takes each cell's entry from a cache: it must be, for
every cell of every example calculator, the entry :func:`digests.cell_entry` gives (the one
``cvp-xl check`` compares a file with)."""

from __future__ import annotations

import datetime as dt

import pytest

from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import builder, digests, load_spec

SPECS = sorted(example("calculators").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_the_fingerprint_is_every_cells_entry(path):
    spec = load_spec(path)
    given = {i.name: i.low + 0.37 * (i.high - i.low) for i in spec.inputs}
    for customer in ("First Co", "=Second & <Co>"):  # twice: the second from the cache
        book, _ = builder._workbook(spec, given, "Conservative", dt.datetime(2026, 3, 4),
                                    customer, None, None, None)
        fp = digests.fingerprint(book.wb, {"customer": customer})
        expected = {}
        for ws in book.wb.worksheets:
            entries = {c.coordinate: digests.cell_entry(c) for c in digests.cells(ws)}
            expected[ws.title] = {k: e for k, e in entries.items() if e is not None}
        assert {t: sp.cells for t, sp in fp.sheets.items()} == expected
        kinds = {e.kind for sp in fp.sheets.values() for e in sp.cells.values()}
        assert kinds == {"f", "v", "i"}
        assert fp.build == {"customer": customer}
