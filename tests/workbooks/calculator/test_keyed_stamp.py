"""The keyed path of the stamper: each customer's values patched into the template of its
shape, the builder not run.  Every patched file must be the builder's file for that customer.

The proof that the shape key is complete (whatever changes a workbook's layout rather than
its values: input number formats, which end Low takes, the next best alternative, a name that
is empty or looks like a formula) is that, for many customers drawn at random with a fixed
seed, including extreme ones, every file the stamper writes is the same, part by part (the
times of ``docProps/core.xml`` left out), as the file ``build`` writes for the same customer
and time; and that no shape had to fall back to the builder (``notes`` is empty).  The
expected file in each comparison is the builder's own, written by openpyxl.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec, model, stamp
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.calculator.spec import SCENARIOS
from cvp_xl.workbooks.calculator.stamp import Stamper
from cvp_xl.xlsx.stamp import differences

SPECS = sorted(example("calculators").glob("*.yaml"))
BUILT_AT = dt.datetime(2026, 11, 30, 9, 58, 1)
#: Names as customer tables hold them: long, outside ASCII, formula-like, XML's specials,
#: spaces at the ends, a line break, none at all.
NAMES = [
    "Ørsted & Søn <Nordic> \"A/S\" " * 15,
    "=SUM(A1:A9)", "+31 Logistics", "-minus GmbH", "@handle Ltd",
    "  spaced  ", "two\nlines", "Tab\there", None, "Plain Co",
]


def _extremes(spec, rng) -> list[dict]:
    """Figures at the edges: each input below its low and above its high (within its allowed
    min and max), every input at the end that lowers the value (and at its allowed minimum
    where it has one: zero or negative differentials, no payback), and at the end that
    raises it."""
    sens = model.sensitivity(spec)
    lowers = model.lowers_value(sens)
    below, above, worst, floor, best = {}, {}, {}, {}, {}
    for i in spec.inputs:
        span = (i.high - i.low) or abs(i.base) or 1.0
        lo = i.low - span * rng.uniform(0.2, 1.0)
        hi = i.high + span * rng.uniform(0.2, 1.0)
        below[i.name] = max(lo, i.min) if i.min is not None else lo
        above[i.name] = min(hi, i.max) if i.max is not None else hi
        worst[i.name] = i.low if lowers[i.name] else i.high
        best[i.name] = i.high if lowers[i.name] else i.low
        floor[i.name] = (i.min if i.min is not None and lowers[i.name] else worst[i.name])
    return [below, above, worst, floor, best]


def _customers(spec, seed: int = 14) -> list[dict]:
    """Ordinary customers (figures uniform between low and high, as a table would hold them)
    and extreme ones; each extreme figure set comes twice, with other names and scenarios,
    so that the second is patched into the first's template."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(14):
        given = {i.name: float(rng.uniform(i.low, i.high)) for i in spec.inputs}
        out.append({"given": given, "customer": NAMES[k % len(NAMES)],
                    "scenario": SCENARIOS[k % len(SCENARIOS)]})
    for j, given in enumerate(_extremes(spec, rng)):
        for k in range(2):
            out.append({"given": given, "customer": NAMES[(2 * j + k) % len(NAMES)],
                        "scenario": str(rng.choice(SCENARIOS))})
    # the formula-like and the empty names again, now that their shapes have templates
    for name in ("=SUM(A1:A9)", "@handle Ltd", None):
        out.append({"given": out[0]["given"], "customer": name, "scenario": "Base"})
    return out


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_patched_calculator_is_the_builders_part_by_part(path, tmp_path):
    spec = load_spec(path)
    stamper = Stamper(spec, verify=1)  # only each template is proved: the rest are patched
    people = _customers(spec)
    unlike = []
    for k, person in enumerate(people):
        kwargs = {**person, "built_at": BUILT_AT,
                  "properties": {"cvp-xl-customer-id": f"C-{k:03d}"}}
        stamper.build(tmp_path / f"{k}.xlsx", **kwargs)
        build(spec, tmp_path / f"{k}-built.xlsx", **kwargs)
        found = differences((tmp_path / f"{k}.xlsx").read_bytes(),
                            (tmp_path / f"{k}-built.xlsx").read_bytes())
        if found:
            unlike.append((k, person["customer"], person["scenario"], found))
    assert unlike == []
    assert stamper.notes == []  # no shape fell back to the builder
    assert stamper.built + stamper.patched == len(people)
    assert stamper.patched >= len(people) // 2


def _three(spec, tmp_path, stamper):
    for k, scenario in enumerate(("Base", "Low", "Conservative")):
        stamper.build(tmp_path / f"{k}.xlsx", customer=f"Customer {k}", scenario=scenario,
                      built_at=BUILT_AT)
        build(spec, tmp_path / f"{k}-built.xlsx", customer=f"Customer {k}", scenario=scenario,
              built_at=BUILT_AT)


def test_the_first_files_of_a_shape_are_proved_then_patched(tmp_path):
    spec = load_spec(SPECS[0])
    stamper = Stamper(spec)  # verify=2: the template, and the next file written both ways
    _three(spec, tmp_path, stamper)
    assert (stamper.built, stamper.patched, stamper.stamped, stamper.notes) == (2, 1, 0, [])
    assert differences((tmp_path / "2.xlsx").read_bytes(),
                       (tmp_path / "2-built.xlsx").read_bytes()) == []


def test_a_value_the_keys_get_wrong_sends_the_shape_to_the_builder(tmp_path, monkeypatch):
    """A fault put in on purpose: the customer's name computed wrongly for the keyed cells.
    The proof of the template finds the difference; every file of that shape is then laid
    out by the builder (saved by openpyxl, or stamped into the parts of the first, as with
    ``keyed=False``), and ``notes`` says why."""
    spec = load_spec(SPECS[0])
    monkeypatch.setitem(stamp._SOURCES, "customer", lambda c: (c.customer or "") + "!")
    stamper = Stamper(spec)
    _three(spec, tmp_path, stamper)
    assert (stamper.built, stamper.patched, stamper.stamped) == (2, 0, 1)
    for k in range(3):
        assert differences((tmp_path / f"{k}.xlsx").read_bytes(),
                           (tmp_path / f"{k}-built.xlsx").read_bytes()) == []
    # the name is on the Summary (sheet1) and About (sheet5), its digest in the template
    # record (sheet6), the record's digest in the document properties
    assert stamper.notes == [
        f"{spec.path}: written by the builder, not patched: the patched template differs "
        f"from the builder's in docProps/custom.xml, xl/worksheets/sheet1.xml, "
        f"xl/worksheets/sheet5.xml, xl/worksheets/sheet6.xml"]


def test_keyed_off_writes_as_before(tmp_path):
    spec = load_spec(SPECS[0])
    stamper = Stamper(spec, keyed=False)
    _three(spec, tmp_path, stamper)
    assert (stamper.built, stamper.patched, stamper.stamped) == (1, 0, 2)


def test_the_folders_of_a_new_file_are_made_as_the_builder_makes_them(tmp_path):
    spec = load_spec(SPECS[0])
    stamper = Stamper(spec, verify=1)
    for k in range(2):  # the template (proved), then a patched file
        stamper.build(tmp_path / f"new{k}" / "deeper" / "c.xlsx", customer="C", built_at=BUILT_AT)
    build(spec, tmp_path / "built" / "c.xlsx", customer="C", built_at=BUILT_AT)
    assert (stamper.built, stamper.patched) == (1, 1)
    for k in range(2):
        assert sorted(p.name for p in (tmp_path / f"new{k}" / "deeper").iterdir()) == ["c.xlsx"]
        assert differences((tmp_path / f"new{k}" / "deeper" / "c.xlsx").read_bytes(),
                           (tmp_path / "built" / "c.xlsx").read_bytes()) == []
