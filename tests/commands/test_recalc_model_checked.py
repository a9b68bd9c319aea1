"""A file computed by its model is checked once, before anything reads it.

``compute`` checks the file (:func:`~cvp_xl.xlsx.safety.check_xlsx`) and hands the by-model
path ``checked=True``, so the streaming read of the calculator does not check it again; the
general path after a refusal does not either.  ``calculator_values`` called on its own
checks the file itself, before the document properties or any cell is read, and a file the
check refuses is not computed by the model (its reason is the check's message).  The calls
are counted by wrapping the real functions: each still runs.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cvp_xl.commands import entered, recalc
from cvp_xl.commands.by_model import calculator_values
from cvp_xl.commands.recalc import compute
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.xlsx import contents, safety

SPEC = sorted(example("calculators").glob("*.yaml"))[0]


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> tuple[Path, Path]:
    """A calculator as a customer returns it (a price raised, the Conservative case), and a
    copy whose first formula of the Value sheet was replaced by another."""
    spec = load_spec(SPEC)
    out = tmp_path_factory.mktemp("returned")
    back = out / "back.xlsx"
    layout = build(spec, back, customer="Acme Ltd")
    wb = openpyxl.load_workbook(back)
    cell = wb["Inputs"][f"E{layout.price_rows[spec.offering.name]}"]
    cell.value = cell.value * 1.25 + 1
    wb["Summary"]["B4"] = "Conservative"
    wb.save(back)
    tampered = out / "tampered.xlsx"
    wb = openpyxl.load_workbook(back)
    first = next(c for row in wb["Value"].iter_rows() for c in row if c.data_type == "f")
    first.value = "=1+1"
    wb.save(tampered)
    return back, tampered


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """What ran, in order: ``check`` for each check of the file, ``read`` for each reader."""
    seen: list[str] = []

    def wrap(module, name, what):
        real = getattr(module, name)

        def counted(*args, **kwargs):
            seen.append(what)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    for module in (safety, recalc, entered):
        wrap(module, "check_xlsx", "check")
    for module in (contents, recalc):
        wrap(module, "read_contents", "read")
    wrap(entered, "read_properties", "read")
    return seen


def test_a_returned_calculator_is_checked_once_before_it_is_read(returned, calls):
    result = compute(returned[0])
    assert result.by_model
    assert calls.count("check") == 1
    assert calls[0] == "check"
    assert "read" in calls  # the properties and the cells were read, after the check


def test_a_tampered_calculator_is_checked_once_on_its_way_to_the_engine(returned, calls):
    result = compute(returned[1])
    assert not result.by_model
    assert calls.count("check") == 1
    assert calls[0] == "check"


def test_calculator_values_alone_checks_the_file_first(returned, calls):
    found = calculator_values(returned[0])
    assert found.values is not None
    assert calls.count("check") == 1
    assert calls[0] == "check"


def test_calculator_values_told_the_file_was_checked_does_not_check_it_again(returned, calls):
    found = calculator_values(returned[0], checked=True)
    assert found.values is not None
    assert "check" not in calls


def test_a_file_the_check_refuses_is_not_read_by_the_model(tmp_path, calls):
    path = tmp_path / "notes.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    found = calculator_values(path)
    assert found.values is None
    assert found.why == (f"not a cvp-xl calculator ({path}: not an .xlsx file (not a zip "
                         "archive))")
    assert calls == ["check"]



def test_a_protected_value_changed_is_named_and_the_file_goes_to_the_engine(returned, tmp_path):
    wb = openpyxl.load_workbook(returned[0])
    ws = wb["Value"]
    cell = next(c for row in ws.iter_rows(min_row=2) for c in row
                if isinstance(c.value, str) and c.data_type == "s" and c.protection.locked)
    cell.value = cell.value + " (edited)"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    found = calculator_values(edited)
    assert found.values is None
    assert found.why == (f"it is not its template rebuilt with its entries (Value!"
                         f"{cell.coordinate}: a protected value was changed)")
    assert not compute(edited).by_model
