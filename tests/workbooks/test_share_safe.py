"""Every template cvp-xl ships is checked against the one share-safe list
(``cvp_xl.xlsx.share_safe.SHARE_SAFE_FUNCTIONS``: what Excel 2016 and LibreOffice 7.4 both
compute).  Only the word-equation library calls more: its CVP_* columns stand next to their
native translations on purpose."""

from __future__ import annotations

import importlib

import pytest

from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import build as build_calculator
from cvp_xl.xlsx.share_safe import SHARE_SAFE_FUNCTIONS, functions_in, unsafe_functions

BUILDERS = ("pricing", "positioning", "case_histories", "tracker", "wordeq_library")
#: What each template may call beyond the share-safe list.
ALLOWED = {"wordeq_library": {"CVP_WORDEQ", "CVP_WORDEQ_UNIT"}}


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    out = tmp_path_factory.mktemp("templates")
    books = {}
    for name in BUILDERS:
        module = importlib.import_module(f"cvp_xl.workbooks.{name}")
        books[name] = module.build_example_workbooks(out / name)
    books["calculator"] = []
    for spec in sorted(example("calculators").glob("*.yaml")):
        build_calculator(load_spec(spec), out / f"{spec.stem}.xlsx")
        books["calculator"].append(out / f"{spec.stem}.xlsx")
    return books


@pytest.mark.parametrize("name", [*BUILDERS, "calculator"])
def test_every_template_calls_only_share_safe_functions(templates, name):
    assert templates[name], f"{name}: no example workbook built"
    for path in templates[name]:
        unsafe = {fn for _, _, fn in unsafe_functions(path)}
        assert unsafe <= ALLOWED.get(name, set()), (path.name, sorted(unsafe))


def test_the_list_finds_what_libreoffice_74_lacks():
    # the functions ARCHITECTURE.md names as not share-safe are not on the list
    for name in ("XLOOKUP", "LET", "LAMBDA", "FILTER", "SORT", "UNIQUE", "SEQUENCE"):
        assert name not in SHARE_SAFE_FUNCTIONS
    assert functions_in("=XLOOKUP(A1,B:B,C:C)+SUM(A1:A3)") == ["XLOOKUP", "SUM"]
