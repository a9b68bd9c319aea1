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
