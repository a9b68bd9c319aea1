"""The xlwings Lite module (``udfs/xlwings_lite``): generated from the registry, and working
under the decorators xlwings Lite runs it with.

xlwings Lite imports ``main.py`` with the ``func``/``arg``/``ret`` of the xlwings server
(``xlwings.pro.udfs_officejs``), registers its functions from ``custom_functions_meta`` and
calls them through ``custom_functions_call`` with the arguments as Office.js hands them over
(every argument a list of rows, an empty cell ``None``, an error cell an Error object).  A
fresh interpreter does exactly that here (``XLWINGS_ON_SERVER=true`` makes ``from xlwings
import func, arg, ret`` the server's), and reports what it saw.

The server decorators live in xlwings' PRO package, which asks for a license key:
``XLWINGS_LICENSE_KEY`` from the environment when set, else ``noncommercial`` (the PolyForm
Noncommercial terms xlwings PRO offers; a commercial user of this repository sets their key).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import close

from cvp_xl.errors import ErrorValue
from cvp_xl.hosts.xlwings_lite import (
    COMMAND,
    lite_functions,
    module_source,
    requirements_source,
)

ROOT = Path(__file__).resolve().parents[2]
LITE = ROOT / "udfs" / "xlwings_lite"
CASES = [(entry, k) for entry in lite_functions() for k in range(len(entry.examples))]
IDS = [f"{entry.name}-{k}" for entry, k in CASES]
FORBIDDEN = ("openpyxl", "lxml", "formulas", "pandas", "cvp_xl.hosts", "cvp_xl.workbooks",
             "cvp_xl.commands", "cvp_xl.xlsx.cached", "cvp_xl.xlsx.safety")

RUNNER = r'''
import asyncio, importlib.util, json, sys

import xlwings
from xlwings import arg, func, ret
from xlwings.pro.udfs_officejs import custom_functions_call, custom_functions_meta

cases = json.loads(sys.stdin.read())
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
direct = [getattr(main, c["name"])(*c["direct"]) for c in cases]
imported = sorted(set(sys.modules) - before)
calls = []
for c in cases:
    data = {"func_name": c["name"], "args": c["officejs"], "version": xlwings.__version__,
            "client": "Office.js", "runtime": "1.4"}
    calls.append(asyncio.run(custom_functions_call(data, main)))
print(json.dumps({
    "decorators": [f.__module__ for f in (func, arg, ret)],
    "meta": custom_functions_meta(main),
    "direct": direct,
    "calls": calls,
    "imported": imported,
}))
'''


def test_the_committed_files_are_what_the_generator_writes():
    message = f"udfs/xlwings_lite is out of date: run `{COMMAND}`"
    assert (LITE / "main.py").read_text(encoding="utf-8") == module_source(), message
    assert (LITE / "requirements.txt").read_text(encoding="utf-8") == requirements_source(), \
        message


def test_the_functions_are_those_that_need_python():
    from cvp_xl.hosts.lambdas import library

    in_library = {m.name for m in library()}
    assert {e.name for e in lite_functions()}.isdisjoint(in_library)
    assert {"CVP_WORDEQ", "CVP_NEXT_BEST", "CVP_PAYBACK"} <= {e.name for e in lite_functions()}


def _cell_js(v):
    """One cell as Office.js passes it: an error cell is an Error object."""
    return {"type": "Error", "basicValue": v.code} if isinstance(v, ErrorValue) else v


def _rows(value) -> list[list]:
    if isinstance(value, list):
        return value if value and isinstance(value[0], list) else [value]
    return [[value]]


def _officejs(value, argument):
    if value is None and argument.optional:
        return None  # left out: Office.js passes null
    return [[_cell_js(v) for v in row] for row in _rows(value)]


def _direct(value, argument):
    """As the decorators' converters hand it to the function (ndim=2, err_to_str)."""
    if value is None and argument.optional:
        return None
    rows = [[v.code if isinstance(v, ErrorValue) else v for v in row] for row in _rows(value)]
    if argument.kind in ("range", "number"):
        return rows
    return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows


@pytest.fixture(scope="module")
def lite():
    cases = [{"name": entry.name,
              "officejs": [_officejs(v, a) for v, a in zip(entry.examples[k].args, entry.args)],
              "direct": [_direct(v, a) for v, a in zip(entry.examples[k].args, entry.args)]}
             for entry, k in CASES]
    env = {**os.environ, "XLWINGS_ON_SERVER": "true",
           "XLWINGS_LICENSE_KEY": os.environ.get("XLWINGS_LICENSE_KEY", "noncommercial")}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(LITE / "main.py")],
                         input=json.dumps(cases), capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_the_server_decorators_were_active(lite):
    assert lite["decorators"] == ["xlwings.pro.udfs_officejs"] * 3


def test_every_function_carries_its_metadata(lite):
    meta = {f["name"]: f for f in lite["meta"]["functions"]}
    assert sorted(meta) == sorted(e.name for e in lite_functions())
    for entry in lite_functions():
        f = meta[entry.name]
        assert f["description"] == entry.description
        assert [p["name"] for p in f["parameters"]] == [a.name for a in entry.args]
        assert [p["description"] for p in f["parameters"]] == [a.help for a in entry.args]
        assert [p.get("optional", False) for p in f["parameters"]] == \
            [a.optional for a in entry.args]


def test_the_module_imports_only_the_light_core(lite):
    loaded = [m for m in lite["imported"]
              if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert loaded == []
    assert "cvp_xl.registry" in lite["imported"]


def _check(got, entry, k, where):
    ex = entry.examples[k]
    if ex.is_error:
        assert got == [[f"{ex.expected} {ex.message}"[:255]]], where
        return
    expected = ex.expected if isinstance(ex.expected, list) else [[ex.expected]]
    assert np.shape(got) == np.shape(expected), f"{where}: {got!r}"
    for g_row, e_row in zip(got, expected):
        for g, e in zip(g_row, e_row):
            assert close(g, e), f"{where}: {g!r} != {e!r}"


@pytest.mark.parametrize("entry,k", CASES, ids=IDS)
def test_every_example_through_custom_functions_call(entry, k, lite):
    _check(lite["calls"][CASES.index((entry, k))], entry, k, "custom_functions_call")


@pytest.mark.parametrize("entry,k", CASES, ids=IDS)
def test_every_example_called_directly(entry, k, lite):
    got = lite["direct"][CASES.index((entry, k))]
    _check(got if isinstance(got, list) else [[got]], entry, k, "direct call")
