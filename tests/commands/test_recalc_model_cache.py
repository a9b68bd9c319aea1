"""The by-model path keeps what calculators of one spec share, and never lets a file pass on it.

``cvp-xl recalc`` of a batch of returned calculators parses each spec once (the spec on the
About sheet is kept by the sha256 of its text, :func:`~cvp_xl.workbooks.calculator.spec.
parse_spec`) and reads each file with the streaming reader; every file is still compared
with the template rebuilt from its own entries, so a tampered file after a good one of the
same spec goes to the engine.  Entries read from a sheet that only looks like the Inputs
(values pasted into a sheet of notes, placed first) are not the ones the formulas read: the
file goes to the engine too, which computes it from the cells its formulas reference.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from cvp_xl.commands.by_model import calculator_values
from cvp_xl.commands.recalc import compute
from cvp_xl.errors import SpecError
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator import spec as spec_module
from cvp_xl.workbooks.calculator.builder import build

SPEC = sorted(example("calculators").glob("*.yaml"))[0]


@pytest.fixture(scope="module")
def sent(tmp_path_factory):
    """Two calculators of one spec, for two customers with their own figures."""
    spec = load_spec(SPEC)
    out = tmp_path_factory.mktemp("sent")
    first = spec.inputs[0]
    files = []
    for k, name in enumerate(("Acme Ltd", "Bolt GmbH")):
        given = {first.name: first.low + (first.high - first.low) * (0.4 + 0.2 * k)}
        layout = build(spec, out / f"{k}.xlsx", given=given, customer=name)
        files.append(out / f"{k}.xlsx")
    return spec, layout, files


def _edited(src: Path, dst: Path, edit) -> Path:
    wb = openpyxl.load_workbook(src)
    edit(wb)
    wb.save(dst)
    return dst


def _counting_parses(monkeypatch) -> list:
    """Count the specs parsed afresh (not taken from the cache)."""
    parsed = []
    real = spec_module._parse_spec
    monkeypatch.setattr(spec_module, "_parse_spec",
                        lambda text, path: parsed.append(path) or real(text, path))
    return parsed


def test_a_second_file_of_the_spec_uses_the_cache_and_its_tampering_is_found(
        sent, tmp_path, monkeypatch):
    spec, layout, (good, other) = sent
    parsed = _counting_parses(monkeypatch)
    assert compute(good).by_model
    once = len(parsed)  # 1, or 0 when an earlier test of this process parsed the spec
    assert once <= 1
    assert compute(other).by_model
    assert len(parsed) == once  # the second file's spec, the same text, came from the cache
    first_formula = next(c.coordinate for row in openpyxl.load_workbook(other)["Value"]
                         .iter_rows() for c in row if c.data_type == "f")
    tampered = _edited(other, tmp_path / "tampered.xlsx", lambda wb: wb["Value"].__setitem__(
        first_formula, "=1+1"))
    before = len(parsed)
    found = calculator_values(tampered)
    assert len(parsed) == before  # the spec came from the cache ...
    assert found.values is None  # ... and the file was still compared with its template
    assert found.why == (f"it is not its template rebuilt with its entries (Value!"
                         f"{first_formula}: a formula the template does not have there)")
    result = compute(tampered)
    assert not result.by_model
    assert result.values[("Value", first_formula)] == 2  # the engine computed =1+1


def test_a_spec_edited_on_the_about_sheet_is_not_taken_from_the_cache(sent, tmp_path):
    spec, _, (good, _) = sent
    assert compute(good).by_model  # its spec is in the cache now
    about = openpyxl.load_workbook(good)["About"]
    row = next(c.row for (c,) in about.iter_rows(min_col=1, max_col=1)
               if c.value == "The spec this calculator was built from")
    line = next(r for r in range(row + 1, about.max_row + 1)
                if str(about.cell(r, 1).value).startswith("discount_rate:"))

    def edit(wb):  # a rate typed into the spec text, its digest left as it was
        wb["About"].cell(line, 1).value = "discount_rate: 0.01"

    edited = _edited(good, tmp_path / "edited.xlsx", edit)
    assert calculator_values(edited).why == (
        "its spec is unknown (the spec on the About sheet does not match its digest)")
    assert not compute(edited).by_model


def test_entries_in_a_sheet_that_looks_like_the_inputs_go_to_the_engine(sent, tmp_path):
    spec, layout, (good, _) = sent
    first = spec.inputs[0]
    row = layout.input_rows[first.name]
    wb = openpyxl.load_workbook(good)
    real = wb["Inputs"][f"D{row}"].value
    other = real + (first.high - real) / 10  # a small move: the layout stays the same

    def edit(wb):
        # values pasted into a new first sheet: the Inputs header and the inputs, one of
        # them with another base (the Inputs sheet itself is unchanged)
        scratch = wb.create_sheet("Scratch", 0)
        inputs = wb["Inputs"]
        for r in range(1, inputs.max_row + 1):
            for c in range(1, 10):
                value = inputs.cell(r, c).value
                if not (isinstance(value, str) and value.startswith("=")):
                    scratch.cell(r, c).value = value
        scratch[f"D{row}"] = other

    pasted = _edited(good, tmp_path / "pasted.xlsx", edit)
    found = calculator_values(pasted)
    assert found.values is None
    assert found.why == (f"it is not its template rebuilt with its entries (Inputs!D{row}: "
                         f"holds {real!r}, not the entry {other!r} it was read as)")
    # the engine computes the file from the cells its formulas read: the Inputs sheet's
    engine = compute(pasted)
    assert not engine.by_model
    assert engine.values == compute(good, by_model=False).values


def test_a_spec_from_the_cache_names_its_own_file_and_a_refused_one_is_refused_again(
        monkeypatch):
    parsed = _counting_parses(monkeypatch)
    text = SPEC.read_text(encoding="utf-8") + "# kept by the cache: parsed once here\n"
    a, b = (spec_module.parse_spec(text, name) for name in ("a.yaml", "b.yaml"))
    assert parsed == ["a.yaml"]
    assert (a.path, b.path, a.digest) == ("a.yaml", "b.yaml", b.digest)
    assert replace(a, path="b.yaml") == b
    # an unknown key on the last line (the text's line count + 1): refused each time, by
    # the name each caller gives
    bad = text + "colour: red\n"
    line = len(text.splitlines()) + 1
    for name in ("x.yaml", "y.yaml"):
        with pytest.raises(SpecError) as exc:
            spec_module.parse_spec(bad, name)
        assert str(exc.value) == f"{name}:{line}: unknown key 'colour'"
    assert parsed == ["a.yaml", "x.yaml", "y.yaml"]
