"""The shape of the package: a light core, every package installed, README examples that run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("openpyxl", "lxml", "defusedxml", "formulas", "xlwings", "pandas", "pint", "yaml",
         "schedula", "click")

LIGHT = """
import sys
import cvp_xl
from cvp_xl import registry, wordeq
from cvp_xl.domain import documentation, pricing, value
assert value.differential(10, 3, 5, 1) == 3.0
assert len(registry.functions()) >= 20
assert wordeq.evaluate("a x b", ["a", "b"], [2, 3]) == 6.0
assert wordeq.to_formula("a x b", {"a": "B1", "b": "B2"}) == "=B1*B2"
print(",".join(m for m in HEAVY if m in sys.modules))
"""


def test_the_core_imports_numpy_and_the_standard_library_only():
    code = f"HEAVY = {HEAVY!r}\n{LIGHT}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"the core loaded: {out.stdout.strip()}"


def test_recalc_and_share_load_on_first_use():
    import cvp_xl

    assert callable(cvp_xl.recalc) and callable(cvp_xl.share)
    with pytest.raises(AttributeError):
        cvp_xl.no_such_name  # noqa: B018


def test_every_package_is_listed_for_installation():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "cvp_xl").rglob("__init__.py")}
    assert listed == found | {"cvp_xl.examples"}


def test_example_files_are_found_through_the_package():
    from cvp_xl.workbooks import example

    assert example("calculators", "fleet-routing.yaml").is_file()
    assert example("examples", "deals.csv").is_file()


def _readme_python_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_readme_python_examples_run_and_show_their_results(tmp_path):
    """Each README block runs; a line ``expr  # result`` must give that result's repr."""
    blocks = _readme_python_blocks()
    assert blocks
    os.symlink(ROOT / "workbooks", tmp_path / "workbooks")
    here = os.getcwd()
    os.chdir(tmp_path)  # the README's paths are relative to a checkout; output goes here
    try:
        for block in blocks:
            env: dict = {}
            for node in ast.parse(block).body:
                line = block.splitlines()[node.end_lineno - 1]
                code = ast.get_source_segment(block, node)
                if isinstance(node, ast.Expr) and "#" in line:
                    shown = line.rsplit("#", 1)[1].strip()
                    assert repr(eval(code, env)) == shown, code  # noqa: S307 (our README)
                else:
                    exec(code, env)  # noqa: S102 (our README)
    finally:
        os.chdir(here)
