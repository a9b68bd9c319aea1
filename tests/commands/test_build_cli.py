"""`cvp-xl build`: outputs refused before any work, OS errors named, hostile specs refused, a
spec with every optional key left out built; never a traceback, never the spec overwritten."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from cvp_xl.commands.cli import main
from cvp_xl.commands.recalc import compute
from cvp_xl.workbooks import example

SPEC = example("calculators", "fleet-routing.yaml")
OUT = "'-o' / '--output'"
#: The usage lines click prints before a refused option.
USAGE = "Usage: cvp-xl build [OPTIONS] SPEC\nTry 'cvp-xl build --help' for help.\n\n"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="cvp-xl")


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "spec.yaml"
    shutil.copy(SPEC, path)
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- refused before any work -------------------------------------------------------------------

REFUSED = [
    # (name, arguments after SPEC given the folder, the message after "Error: ")
    ("output-is-the-spec", lambda d: ["-o", d / "spec.yaml"],
     lambda d: f"Invalid value for {OUT}: {d / 'spec.yaml'}: is SPEC itself "
               f"({d / 'spec.yaml'}); write the result to another file"),
    ("symbolic-link-to-the-spec", lambda d: ["-o", d / "link.xlsx"],
     lambda d: f"Invalid value for {OUT}: {d / 'link.xlsx'}: is SPEC itself "
               f"({d / 'spec.yaml'}); write the result to another file"),
    ("hard-link-to-the-spec", lambda d: ["-o", d / "hard.xlsx"],
     lambda d: f"Invalid value for {OUT}: {d / 'hard.xlsx'}: is SPEC itself "
               f"({d / 'spec.yaml'}); write the result to another file"),
    ("missing-folder", lambda d: ["-o", d / "no" / "such" / "calc.xlsx"],
     lambda d: f"Invalid value for {OUT}: {d / 'no' / 'such' / 'calc.xlsx'}: the folder "
               f"{d / 'no' / 'such'} does not exist"),
    ("folder-is-a-file", lambda d: ["-o", d / "notes.txt" / "calc.xlsx"],
     lambda d: f"Invalid value for {OUT}: {d / 'notes.txt' / 'calc.xlsx'}: "
               f"{d / 'notes.txt'} is not a folder"),
    ("not-xlsx", lambda d: ["-o", d / "calc.xls"],
     lambda d: f"Invalid value for {OUT}: {d / 'calc.xls'}: the file written is an .xlsx "
               f"file; give a name that ends in .xlsx"),
    ("output-is-a-folder", lambda d: ["-o", d],
     lambda d: f"Invalid value for {OUT}: File '{d}' is a directory."),
    ("customer-control-character", lambda d: ["--customer", "Acme\x1b[2J"],
     lambda d: "Invalid value for '--customer': control character U+001B at character 5 (a "
               "name, as plain text)"),
    ("customer-too-long", lambda d: ["--customer", "A" * 256],
     lambda d: "Invalid value for '--customer': 256 characters; at most 255 (a name, as plain "
               "text)"),
]


@pytest.mark.parametrize("name, args, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_before_any_work(tmp_path, spec, name, args, message):
    (tmp_path / "link.xlsx").symlink_to(spec)
    os.link(spec, tmp_path / "hard.xlsx")
    (tmp_path / "notes.txt").write_text("notes", encoding="utf-8")
    before, listing = spec.read_bytes(), _listing(tmp_path)
    result = run("build", spec, *args(tmp_path))
    assert result.exit_code == 2
    assert result.output == f"{USAGE}Error: {message(tmp_path)}\n"
    assert spec.read_bytes() == before
    assert _listing(tmp_path) == listing


def test_the_default_output_of_a_spec_named_xlsx_is_the_spec_itself(tmp_path):
    odd = tmp_path / "calc.xlsx"  # a YAML spec someone named .xlsx: SPEC with .xlsx is SPEC
    shutil.copy(SPEC, odd)
    result = run("build", odd)
    assert result.exit_code == 2
    assert result.output == (f"{USAGE}Error: Invalid value for {OUT}: {odd}: is SPEC itself "
                             f"({odd}); write the result to another file\n")
    assert odd.read_bytes() == SPEC.read_bytes()


# -- OS errors while writing -------------------------------------------------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES],
                         ids=["disk-full", "read-only", "permission"])
@pytest.mark.parametrize("existed", [True, False], ids=["replacing", "new"])
def test_an_os_error_while_writing_names_the_file(tmp_path, spec, monkeypatch, code, existed):
    # fault injection: the final rename fails as on a full disk, a read-only file system or a
    # folder the user may not write in
    out = tmp_path / "calc.xlsx"
    if existed:
        out.write_bytes(b"the customer's earlier file")

    def failing(src, dst, *args, **kwargs):
        raise OSError(code, os.strerror(code))

    listing = _listing(tmp_path)
    monkeypatch.setattr(os, "replace", failing)
    result = run("build", spec, "-o", out)
    monkeypatch.undo()
    assert result.exit_code == 2
    kept = "the file is as it was" if existed else "nothing was written"
    assert result.output == (f"Error: {out}: not written: {os.strerror(code)} "
                             f"({errno.errorcode[code]}); {kept}\n")
    assert _listing(tmp_path) == listing  # no temporary file left
    if existed:
        assert out.read_bytes() == b"the customer's earlier file"


#: The command as installed beside this Python (its usage lines name it cvp-xl).
CLI = Path(sys.executable).parent / "cvp-xl"


def _in_own_mounts(script: str) -> subprocess.CompletedProcess:
    """Run a shell script in a mount namespace of its own (its mounts vanish with it)."""
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True,
                          text=True, timeout=300)


def _mounts_allowed() -> bool:
    if shutil.which("unshare") is None:
        return False
    return _in_own_mounts("mount -t tmpfs -o size=16k tmpfs /mnt").returncode == 0


requires_mounts = pytest.mark.skipif(
    not _mounts_allowed(), reason="needs `unshare --mount` and mount (root in a container, "
                                  "as CI runs): a real full disk and a real read-only folder")


@requires_mounts
def test_a_real_full_disk(tmp_path, spec):
    # a 16 KiB tmpfs holds the customer's earlier 4 KB file but not a 26 KB calculator
    disk = tmp_path / "disk"
    disk.mkdir()
    done = _in_own_mounts(
        f"mount -t tmpfs -o size=16k tmpfs {disk} && head -c 4000 /dev/zero > {disk}/calc.xlsx"
        f" && {CLI} build {spec} -o {disk}/calc.xlsx; echo \"exit $?\"; "
        f"wc -c < {disk}/calc.xlsx; ls -A {disk}")
    assert done.stderr == (f"Error: {disk}/calc.xlsx: not written: No space left on device "
                           f"(ENOSPC); the file is as it was\n")
    assert done.stdout.split() == ["exit", "2", "4000", "calc.xlsx"]


@requires_mounts
def test_a_real_read_only_folder(tmp_path, spec):
    # a read-only bind mount: root may not write there either
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "calc.xlsx").write_bytes(b"earlier")
    done = _in_own_mounts(
        f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
        f"{CLI} build {spec} -o {folder}/calc.xlsx; echo \"exit $?\"")
    assert done.stderr == (f"{USAGE}Error: Invalid value for {OUT}: {folder}/calc.xlsx: the "
                           f"folder {folder} cannot be written to\n")
    assert done.stdout == "exit 2\n"
    assert (folder / "calc.xlsx").read_bytes() == b"earlier" and _listing(folder) == ["calc.xlsx"]


# -- hostile specs -----------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_with_exit_2(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 10)]
    bomb.write_text("\n".join(lines) + "\nname: *a9\n", encoding="utf-8")
    result = run("build", bomb)
    assert result.exit_code == 2
    assert result.output == (f"Error: {bomb}:7: its aliases expand to more than 1,000,000 "
                             "values; a spec needs far fewer\n")
    assert not (tmp_path / "bomb.xlsx").exists()


def test_deep_nesting_is_refused_with_exit_2(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: " + "[" * 100_000, encoding="utf-8")
    result = run("build", deep)
    assert (result.exit_code, result.output) == (
        2, f"Error: {deep}:1: nested more than 64 levels deep; a spec needs a few\n")


# -- every optional key left out ---------------------------------------------------------------

MINIMAL = {
    "name": "Minimal", "currency": "USD",
    "offering": {"name": "Ours"},
    "alternatives": [{"name": "Status quo"}],
    "horizon_years": 3, "discount_rate": 0,
    "inputs": [{"name": "Hours saved", "unit": "hours/year", "base": 10},
               {"name": "Cost per hour", "unit": "USD/hour", "base": 50}],
    "value_elements": [{"name": "Time", "category": "economic",
                        "equation": "Hours saved x Cost per hour"}],
}


def test_a_spec_with_every_optional_key_left_out_builds(tmp_path):
    # no version, description, prices, value_per_year, low, high, min, max, source, was,
    # tangible or note anywhere
    spec = tmp_path / "minimal.yaml"
    spec.write_text(yaml.safe_dump(MINIMAL, sort_keys=False), encoding="utf-8")
    result = run("build", spec)
    assert result.exit_code == 0, result.output
    out = tmp_path / "minimal.xlsx"
    assert result.output == f"{out}: calculator 'Minimal' with 2 inputs and 1 value elements\n"
    summary = openpyxl.load_workbook(out, data_only=True)["Summary"]
    row = next(r for r in range(1, 40) if summary[f"A{r}"].value == "Total value per year")
    assert summary[f"D{row}"].value == 10 * 50  # hours saved x cost per hour, per year
    assert compute(out).values[("Summary", f"D{row}")] == 10 * 50  # the formulas engine
