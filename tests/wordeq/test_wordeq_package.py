"""The package cvp_xl.wordeq: its API, and a light core that loads numpy and nothing heavier.

Reading and evaluating an equation must not load Pint, the xlsx layer or any engine; only a
unit question loads Pint.
"""

from __future__ import annotations

import json
import subprocess
import sys

import cvp_xl.wordeq as wordeq

HEAVY = ("pint", "openpyxl", "lxml", "defusedxml", "formulas", "xlwings", "pandas", "yaml",
         "schedula")

SCRIPT = """
import json, sys
import cvp_xl.wordeq as wordeq
assert wordeq.evaluate("(a - b) x c", ["a", "b", "c"], [12, 4, 1.5]) == 12.0
wordeq.parse("a / b", ["a", "b"]).to_formula({"a": "B3", "b": "Inputs!$C$4"})
before = sorted({m.split(".")[0] for m in sys.modules})
wordeq.unit("a / b", ["a", "b"], ["USD", "year"])
after = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps([before, after]))
"""


def test_reading_and_evaluating_load_only_numpy_and_the_standard_library():
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)
    before, after = json.loads(run.stdout)
    assert [m for m in HEAVY if m in before] == []
    third_party = set(before) - set(sys.stdlib_module_names) - {"cvp_xl", "__main__"}
    assert {m for m in third_party if not m.startswith("_")} == {"numpy"}
    assert "pint" in after  # units load Pint, on first use


def test_the_api():
    assert sorted(wordeq.__all__) == [
        "FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "WordEquation", "currency_and_period",
        "evaluate", "is_money_per_period", "parse", "to_formula", "unit",
    ]
    for name in wordeq.__all__:
        assert getattr(wordeq, name) is not None
    assert (wordeq.MAX_LENGTH, wordeq.MAX_DEPTH) == (2000, 50)
    assert wordeq.FUNCTIONS == ("ABS", "MAX", "MIN", "ROUND")
