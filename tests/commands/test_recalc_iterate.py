"""Iterative calculation: circular references iterated as Excel does when the file enables it."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner
from helpers import close, requires_libreoffice

from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute


def iterative_book(path, cells: dict, *, count=100, delta=0.001):
    """A workbook with `cells` on sheet S and iterative calculation enabled."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, value in cells.items():
        ws[ref] = value
    wb.calculation.iterate = True
    wb.calculation.iterateCount = count
    wb.calculation.iterateDelta = delta
    wb.save(path)
    return path


#: Interest on the average balance: B1 = 1000 + B2, B2 = 5 % of B1.  The fixed point, by hand:
#: B1 = 1000 + 0.05 * B1, so B1 = 1000 / 0.95 = 1052.631578947...  Excel's passes from 0 (B1
#: then B2, in sheet order): B1 = 1000, 1050, 1052.5, 1052.625, 1052.63125, 1052.6315625; the
#: sixth changed B1 by 0.0003125 < 0.001, so the iteration stops there, B2 = 0.05 * B1.
INTEREST = {"B1": "=1000+B2", "B2": "=B1*0.05", "B3": "=B1+1"}
INTEREST_B1 = 1052.6315625

#: A cycle through a range: C1 = SUM(C2:C3)/2 + 1, C2 = C1/4, C3 = 5; fixed point C1 = 4, C2 = 1.
#: Passes from 0: C1 = 3.5, 3.9375, 3.9921875, 3.9990234375, 3.9998779296875 (the fifth changed
#: C1 by 0.000854 < 0.001), C2 = C1 / 4 = 0.999969482421875.
THROUGH_RANGE = {"C1": "=SUM(C2:C3)/2+1", "C2": "=C1/4", "C3": 5, "C4": "=C1*10"}


def test_interest_on_the_average_balance(tmp_path):
    result = compute(iterative_book(tmp_path / "interest.xlsx", INTEREST))
    assert result.kept == [] and result.problems == []
    b1 = result.values[("S", "B1")]
    assert b1 == INTEREST_B1
    assert abs(b1 - 1000 / 0.95) < 0.001
    assert close(result.values[("S", "B2")], INTEREST_B1 * 0.05)
    assert close(result.values[("S", "B3")], INTEREST_B1 + 1)    # computed from the cycle


def test_a_cycle_through_a_range(tmp_path):
    result = compute(iterative_book(tmp_path / "range.xlsx", THROUGH_RANGE))
    assert result.kept == [] and result.problems == []
    assert result.values[("S", "C1")] == 3.9998779296875
    assert result.values[("S", "C2")] == 0.999969482421875
    assert close(result.values[("S", "C4")], 39.998779296875)


def test_a_cycle_that_does_not_converge_keeps_the_last_pass(tmp_path):
    """D1 = D1 + 1 never settles: Excel stops after iterateCount passes (10 here), D1 = 10."""
    path = iterative_book(tmp_path / "diverge.xlsx", {"D1": "=D1+1", "E1": "=D1*2"}, count=10)
    result = compute(path)
    assert result.values[("S", "D1")] == 10
    assert result.values[("S", "E1")] == 20
    assert result.kept == []
    assert result.problems == [
        "S!D1: circular reference (D1 → D1) did not converge in 10 iterations (the last one "
        "changed a value by 1, more than 0.001); kept the last iteration's values, as Excel "
        "does"]
    runner = CliRunner()
    assert runner.invoke(main, ["recalc", str(path)]).exit_code == 0
    strict = runner.invoke(main, ["recalc", str(path), "--strict"])
    assert strict.exit_code == 1
    assert "did not converge in 10 iterations" in strict.stderr


def test_without_iterative_calculation_the_cycle_is_named(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, formula in INTEREST.items():
        ws[ref] = formula
    path = tmp_path / "no-iterate.xlsx"
    wb.save(path)
    result = compute(path)
    assert [str(k) for k in result.kept] == [
        "S!B1: not recomputed (circular reference: B1 → B2 → B1); it has no stored value",
        "S!B2: not recomputed (circular reference: B2 → B1 → B2); it has no stored value",
        "S!B3: not recomputed (depends on B1, which was not recomputed); it has no stored value",
    ]


@requires_libreoffice
def test_libreoffice_honours_the_file_s_iterative_settings(tmp_path):
    """LibreOffice reads calcPr iterate from the xlsx and iterates too.

    On the cycle through a range it stops at the same pass with the same values.  On the
    interest cycle it evaluates B2 before B1 in each pass, so its B2 is one half-pass behind
    (52.6315625 against 52.631578125): both are within the 0.001 the file allows.  Where a
    cycle does not converge LibreOffice shows #N/A (Err:523), Excel the last pass.
    """
    from cvp_xl.hosts.libreoffice import libreoffice_values_many

    paths = [iterative_book(tmp_path / "interest.xlsx", INTEREST),
             iterative_book(tmp_path / "range.xlsx", THROUGH_RANGE)]
    interest, through_range = libreoffice_values_many(paths, out_dir=tmp_path / "lo")
    ours = compute(paths[1]).values
    for ref in ("C1", "C2", "C4"):
        assert close(ours[("S", ref)], through_range[("S", ref)]), ref
    ours = compute(paths[0]).values
    assert close(interest[("S", "B1")], INTEREST_B1)
    for ref in ("B1", "B2", "B3"):
        assert abs(ours[("S", ref)] - interest[("S", ref)]) < 0.001, ref
    # LibreOffice's copies keep the settings and store its values: recalc starts from them
    # and stays within the file's maximum change of them
    for name, theirs, cycle in (("interest.xlsx", interest, ("B1", "B2")),
                                ("range.xlsx", through_range, ("C1", "C2"))):
        again = compute(tmp_path / "lo" / name)
        assert again.kept == [] and again.problems == []
        for ref in cycle:
            assert abs(again.values[("S", ref)] - theirs[("S", ref)]) < 0.001, (name, ref)


def test_a_cycle_through_offset(tmp_path):
    """B1 = SUM(OFFSET(A1,0,0,2,1)) + B2/2, B2 = B1/2, A1:A2 = 5, 7: B1 = 12 + B1/4, so 16.
    Passes from 0: B1 = 12, 15, 15.75, 15.9375, 15.984375, 15.99609375, 15.9990234375,
    15.999755859375 (the eighth changed B1 by 0.00073 < 0.001)."""
    path = iterative_book(tmp_path / "offset.xlsx", {
        "A1": 5, "A2": 7, "B1": "=SUM(OFFSET(A1,0,0,2,1))+B2*0.5", "B2": "=B1*0.5"})
    result = compute(path)
    assert result.kept == [] and result.problems == []
    assert result.values[("S", "B1")] == 15.999755859375
    assert result.values[("S", "B2")] == 15.999755859375 / 2
