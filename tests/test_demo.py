"""The demo, as a new user runs it: every example workbook built, recomputed, and agreeing."""

from click.testing import CliRunner

from cvp_xl.cli import main


def test_demo_builds_and_recomputes_every_example(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "formula cells agree" in line]
    assert len(lines) >= 12
    assert all(line.strip().startswith("ok") for line in lines), lines
    assert (tmp_path / "batch" / "summary.xlsx").exists()
