"""The README documents every registry function and every command."""

from pathlib import Path

from cvp_xl.commands.cli import main
from cvp_xl.registry import functions

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert block[0].endswith("cvp-xl demo") and block[1].endswith("pytest")


def test_every_function_is_in_the_catalogue():
    for entry in functions():
        assert f"`{entry.signature}`" in README, entry.signature


def test_every_command_is_documented():
    for name in main.commands:
        assert f"`cvp-xl {name}" in README, name


WHERE_HEADER = ("| function | desktop add-in | Excel 365 LAMBDA library | xlwings Lite | "
                "shared native formulas | LibreOffice |")


def where_it_works_rows() -> list[str]:
    """The README's table of where each function works, from the registry."""
    from cvp_xl.hosts.lambdas import library
    from cvp_xl.hosts.xlwings_host import make_udfs
    from cvp_xl.hosts.xlwings_lite import lite_functions

    in_addin = set(make_udfs())  # what udfs/cvp_udfs.py offers the desktop add-in
    in_library = {m.name for m in library()}
    in_lite = {e.name for e in lite_functions()}
    rows = []
    for entry in functions():
        if entry.native is None:
            shared = "value kept"
        else:
            shared = "yes, from its cells" if entry.native_reads_cells else "yes"
        cells = [f"`{entry.name}`", "yes" if entry.name in in_addin else "no",
                 "yes" if entry.name in in_library else "no",
                 "yes" if entry.name in in_lite else "no", shared, shared]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def test_the_where_it_works_table_is_true():
    lines = README.splitlines()
    start = lines.index(WHERE_HEADER) + 2  # after the header and its rule
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    rows = where_it_works_rows()
    assert lines[start:end] == rows, (
        "README 'In every Excel, with nothing installed': the table's rows should be\n"
        + "\n".join(rows))
