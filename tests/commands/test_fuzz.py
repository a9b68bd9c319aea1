"""The CLI under fuzzing: random arguments, and random or broken bytes as specs, tables,
trackers and workbooks, for every command.  Whatever comes in: no traceback, an exit code of
0, 1 or 2, and memory within a bound (an address-space limit while the commands run).

Derandomized (the same examples on every run) and bounded in examples, so it is quick and
repeatable; `CVP_XL_FUZZ=N` runs N random examples instead (how the tracebacks fixed with it
were found).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvp_xl.commands.cli import main
from cvp_xl.workbooks import example

#: Commands left out: `demo` writes every example workbook and runs LibreOffice, `pdf` runs
#: LibreOffice (each a minute-long run per example; their inputs are the files below).
SKIPPED = {"demo", "pdf"}
COMMANDS = sorted(set(main.commands) - SKIPPED)
#: The address space the commands may add to the test process (bytes): a YAML alias bomb or a
#: zip bomb that slipped through would need far more.
MEMORY = 2 * 1024 ** 3
RANDOM = int(os.environ.get("CVP_XL_FUZZ", "0"))

FILES = ("spec.yaml", "v2.yaml", "research.yaml", "table.csv", "book.xlsx", "tracker.xlsx",
         "period.csv", "findings.csv", "folder", "folder/a.xlsx")
OUTPUTS = ("out.xlsx", "out.csv", "out.yaml", "outdir", "folder/b.xlsx")
HOSTILE = ["", "~", "-1", "0", "-0", "1e308", "-1e309", "nan", ".inf", "1/0", "[]", "{}",
           "&a [*a, *a]", "*a", "'", '"', "\\", "\x00", "\t", "\x1b[2J", "=1+1", "@SUM(A1)",
           "x" * 300, "[" * 80, "2025-13-45", "yes", "0x1F", "1,5", "50%", "-", "é€😀", "\ufeff",
           "<!DOCTYPE x [<!ENTITY a 'b'>]>", "../../etc/passwd", "CON", "C-0001"]


# -- the seeds: valid files, broken in many ways below -----------------------------------------


@functools.cache
def seeds() -> dict[str, bytes]:
    """Valid files of every kind the commands read (built once)."""
    from cvp_xl.commands.batch import customer_table
    from cvp_xl.workbooks import tracker
    from cvp_xl.workbooks.calculator import load_spec
    from cvp_xl.workbooks.calculator.builder import build

    spec_path = example("calculators", "fleet-routing.yaml")
    spec = load_spec(spec_path)
    text = spec_path.read_text(encoding="utf-8")
    out: dict[str, bytes] = {
        "spec": text.encode("utf-8"),
        "upgrade": text.replace("recurring: 36000", "recurring: 38000", 1).encode("utf-8"),
        "research": example("calculators", "packaging-line-maintenance.yaml").read_bytes()}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        customer_table(spec, folder / "t.csv")
        out["table"] = (folder / "t.csv").read_bytes()
        build(spec, folder / "calc.xlsx")
        out["calculator"] = (folder / "calc.xlsx").read_bytes()
        tracker.build(folder / "tracker.xlsx")
        out["tracker"] = (folder / "tracker.xlsx").read_bytes()
        wb = openpyxl.Workbook()
        ws = wb.active
        ws["A1"], ws["A2"], ws["B1"] = 200_000, 50_000, "=CVP_ROI(A1,A2)"
        ws["B2"] = "=SUM(A1:A2)*2"
        wb.save(folder / "book.xlsx")
        out["book"] = (folder / "book.xlsx").read_bytes()
    out["period"] = example("tracker", "2025-Q2.csv").read_bytes()
    out["findings"] = example("research", "findings.csv").read_bytes()
    return out


@st.composite
def edited_text(draw, kind: str) -> bytes:
    """A text file with a few lines deleted, repeated, cut or given hostile values."""
    lines = seeds()[kind].decode("utf-8").splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        k = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["delete", "repeat", "value", "value", "insert", "cut"]))
        value = draw(st.sampled_from(HOSTILE) | st.text(max_size=40))
        if edit == "delete":
            del lines[k]
        elif edit == "repeat":
            lines.insert(k, lines[k])
        elif edit == "insert":
            lines.insert(k, value + "\n")
        elif edit == "cut":
            lines = lines[:k] + [lines[k][:draw(st.integers(0, len(lines[k])))]]
        else:  # the value after a YAML key, or one field of a CSV line
            line = lines[k]
            if ":" in line:
                key = line.split(":", 1)[0]
                lines[k] = f"{key}: {value}\n"
            else:
                fields = line.rstrip("\n").split(",")
                fields[draw(st.integers(0, len(fields) - 1))] = value
                lines[k] = ",".join(fields) + "\n"
    text = "".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@st.composite
def edited_zip(draw, kind: str) -> bytes:
    """A workbook cut short, with bytes flipped, with one part replaced or removed, or with
    cells holding what a person might type (text, dates, errors, formulas) where numbers were.
    """
    seed = seeds()[kind]
    edit = draw(st.sampled_from(["cut", "flip", "part", "drop", "cells", "cells", "cells"]))
    if edit == "cut":
        return seed[:draw(st.integers(0, len(seed)))]
    if edit == "flip":
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 8))):
            k = draw(st.integers(0, len(data) - 1))
            data[k] = draw(st.integers(0, 255))
        return bytes(data)
    with zipfile.ZipFile(io.BytesIO(seed)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = draw(st.sampled_from(sorted(members)))
    if edit == "cells":
        sheets = sorted(n for n in members if n.startswith("xl/worksheets/sheet"))
        name = draw(st.sampled_from(sheets))
        members[name] = draw(typed_over(members[name]))
    elif edit == "drop":
        del members[name]
    else:
        part = members[name]
        members[name] = draw(st.sampled_from([
            part[:len(part) // 2], b"", b"<x/>", b"\x00" * 64, part.replace(b">", b">>", 1),
            part.replace(b'"', b"'", 3), part + part, b"<?xml version='1.0'?><a>" * 3]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()


@st.composite
def typed_over(draw, part: bytes) -> bytes:
    """A worksheet with a few cells' values or formulas replaced."""
    import re

    text = part.decode("utf-8")
    found = [m.span() for m in re.finditer(r"<c [^>]*?(/>|>.*?</c>)", text, re.S)]
    for _ in range(draw(st.integers(1, 6))):
        if not found:
            break
        start, end = found[draw(st.integers(0, len(found) - 1))]
        cell = text[start:end]
        ref = re.search(r'r="([A-Z]+[0-9]+)"', cell)
        ref = ref.group(1) if ref else "A1"
        value = draw(st.sampled_from(HOSTILE) | st.text(max_size=20))
        escaped = (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace("\x00", ""))
        new = draw(st.sampled_from([
            f'<c r="{ref}" t="inlineStr"><is><t>{escaped}</t></is></c>',
            f'<c r="{ref}" t="e"><v>#DIV/0!</v></c>',
            f'<c r="{ref}" t="b"><v>1</v></c>',
            f'<c r="{ref}"><v>-1e300</v></c>',
            f'<c r="{ref}"><v>0</v></c>',
            f'<c r="{ref}" s="999"><v>45000</v></c>',
            f'<c r="{ref}"><f>1/0</f><v>1</v></c>',
            f'<c r="{ref}"/>',
        ]))
        text = text[:start] + new + text[end:]
        found = [m.span() for m in re.finditer(r"<c [^>]*?(/>|>.*?</c>)", text, re.S)]
    return text.encode("utf-8")


def contents(kind: str):
    """Bytes for a file of ``kind``: random, the valid seed, or the seed broken."""
    text = kind in ("spec", "upgrade", "research", "table", "period", "findings")
    broken = edited_text(kind) if text else edited_zip(kind)
    valid = st.just(kind).map(lambda k: seeds()[k])  # (a strategy's repr stays short)
    return st.one_of(broken, broken, broken, valid, st.binary(max_size=300))


VALUE = st.sampled_from(FILES + OUTPUTS) | st.sampled_from(HOSTILE) | st.text(max_size=20)


@st.composite
def arguments(draw, name: str) -> list[str]:
    """A command's arguments: its parameters filled with files, outputs, hostile text; now
    and then an unknown option or a token of random text."""
    command = main.commands[name]
    args = [name]
    for param in command.params:
        if not draw(st.booleans()) and param.param_type_name == "option":
            continue
        if param.param_type_name == "argument":
            args.append(draw(VALUE))
            continue
        args.append(draw(st.sampled_from(param.opts)))
        if getattr(param, "is_flag", False):
            continue
        if "jobs" in param.name:  # a process pool forked from the test process: not here
            args.append(draw(st.sampled_from(["1", "0", "65", "x"])))
        elif param.name == "scenario":
            args.append(draw(st.sampled_from(["Base", "Low", "base", ""])))
        else:
            args.append(draw(VALUE | st.sampled_from(["1", "3", "P10/P50/P90", "P75/P50/P25",
                                                     "Hours lost per stop=P10/P50/P90"])))
    for _ in range(draw(st.integers(0, 1))):
        args.insert(draw(st.integers(1, len(args))),
                    draw(st.sampled_from(["--nope", "-x", "--", "-"]) | st.text(max_size=10)))
    return args


#: Arguments that reach each command's work with the files below (the random ones mostly
#: stop at a missing file).
TEMPLATES = {
    "functions": [["functions"], ["functions", "--workbook", "-o", "out.xlsx"]],
    "add-functions": [["add-functions", "book.xlsx", "-o", "out.xlsx"]],
    "recalc": [["recalc", "book.xlsx", "-o", "out.xlsx", "--strict"], ["recalc", "book.xlsx"]],
    "build": [["build", "spec.yaml", "-o", "out.xlsx"]],
    "check": [["check", "book.xlsx"], ["check", "folder/a.xlsx", "--spec", "spec.yaml"]],
    "share": [["share", "book.xlsx", "-o", "out.xlsx"]],
    "customers": [["customers", "spec.yaml", "-o", "out.csv"]],
    "batch": [["batch", "spec.yaml", "--customers", "table.csv", "--out", "outdir", "--quiet"],
              ["batch", "spec.yaml", "--customers", "table.csv", "--out", "folder", "--quiet"],
              ["batch", "spec.yaml", "--customers", "book.xlsx", "--out", "outdir", "--quiet"]],
    "collect": [["collect", "folder", "-o", "out.xlsx", "--quiet"]],
    "track": [["track", "tracker.xlsx", "--add", "period.csv"]],
    "cases": [["cases", "tracker.xlsx", "--to", "out.xlsx"],
              ["cases", "tracker.xlsx", "--to", "book.xlsx"]],
    "upgrade": [["upgrade", "folder", "--spec", "v2.yaml", "--quiet"]],
    "research": [["research", "findings.csv", "--spec", "research.yaml", "-o", "out.yaml"],
                 ["research", "book.xlsx", "--spec", "research.yaml", "-o", "out.yaml"]],
}
assert set(TEMPLATES) == set(COMMANDS), "a new command: give it a template"


class Files(dict):
    """File name -> bytes, shown by size (a failing example's bytes are kept in the blob that
    Hypothesis prints with ``print_blob``; written out by ``CVP_XL_FUZZ_KEEP``)."""

    def __repr__(self) -> str:
        return "Files(" + ", ".join(f"{k}: {len(v)} bytes" for k, v in self.items()) + ")"


@st.composite
def cases(draw, name: str | None = None) -> tuple[list[str], dict[str, bytes]]:
    name = name or draw(st.sampled_from(COMMANDS))
    args = (draw(arguments(name)) if draw(st.integers(0, 3)) == 3  # the simplest: a template
            else draw(st.sampled_from(TEMPLATES[name])))
    files = Files({"spec.yaml": draw(contents("spec")), "v2.yaml": draw(contents("upgrade")),
                   "research.yaml": draw(contents("research")),
                   "table.csv": draw(contents("table")),
                   "book.xlsx": draw(contents("book")), "tracker.xlsx": draw(contents("tracker")),
                   "period.csv": draw(contents("period")),
                   "findings.csv": draw(contents("findings")),
                   "folder/a.xlsx": draw(contents("calculator"))})
    return args, files


@contextlib.contextmanager
def bounded_memory():
    """Let the commands add at most :data:`MEMORY` bytes of address space (Linux)."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            size = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + MEMORY
    if hard != resource.RLIM_INFINITY and hard < limit:
        limit = hard
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_case(args: list[str], files: dict[str, bytes]):
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            Path("folder").mkdir()
            for name, data in files.items():
                Path(name).write_bytes(data)
            keep = os.environ.get("CVP_XL_FUZZ_KEEP")  # a folder: the last example's files
            if keep:
                import shutil

                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(".", keep)
            with bounded_memory():
                return CliRunner().invoke(main, args, prog_name="cvp-xl")
        finally:
            os.chdir(here)


#: Examples per command (derandomized); CVP_XL_FUZZ=N: N random examples per command.
EXAMPLES = 16
FUZZ = settings(max_examples=RANDOM or EXAMPLES, derandomize=not RANDOM, database=None,
                deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])


@pytest.mark.parametrize("name", COMMANDS)
@FUZZ
@given(data=st.data())
def test_no_command_ever_shows_a_traceback(name, data):
    case = data.draw(cases(name), label="case")
    args, files = case
    result = run_case(args, files)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, (args, repr(result.exception), result.output[-2000:])
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output, (args, result.output[-2000:])


def test_the_memory_bound_holds(tmp_path):
    # the bound is real: inside it, a command that needs more fails (here: a list of 4 GB)
    if not Path("/proc/self/status").exists():
        pytest.skip("the address-space limit is set on Linux")
    with bounded_memory(), pytest.raises(MemoryError):
        bytearray(4 * 1024 ** 3)
