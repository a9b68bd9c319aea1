"""The ``cvp-xl`` command.

Every command exits 0 on success, 1 when the work was done but found
problems (``--strict`` error cells, failed rows), and 2 on bad usage, a
file it refuses or a file it cannot write (a full disk, a read-only folder,
another command writing it); 130 or 143 when Ctrl-C or SIGTERM stopped it.
Messages go to stderr; results to stdout.  Every command writes by the rules
of :mod:`cvp_xl.xlsx.atomic`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from cvp_xl import __version__
from cvp_xl.errors import CvpXlError


class _Group(click.Group):
    """Turns the library's own errors, and any OS error, into a one-line message and exit
    code 2; Ctrl-C and SIGTERM into a clean stop (every file whole, temporaries removed,
    workers ended) with exit code 128 + the signal's number."""

    def parse_args(self, ctx, args):
        for arg in args:
            if "\x00" in arg:  # the OS would refuse it as a file name, with a ValueError
                raise click.UsageError(f"{arg!r}: an argument cannot hold the character NUL "
                                       "(\\x00)", ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        import signal
        import threading

        here = threading.current_thread() is threading.main_thread()
        before = signal.signal(signal.SIGTERM, _interrupted) if here else None
        try:
            return super().invoke(ctx)
        except (CvpXlError, OSError) as exc:  # an OS error no command put in its own words
            from cvp_xl.xlsx.atomic import release

            release(exc)  # a file a failed write left open, closed quietly now
            click.echo(f"Error: {exc if isinstance(exc, CvpXlError) else _os_error(exc)}",
                       err=True)
            ctx.exit(2)
        except KeyboardInterrupt as exc:
            number = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
            click.echo(f"Error: interrupted ({signal.Signals(number).name}); every file written "
                       "is whole and the one being written was left out; run the command again "
                       "to finish", err=True)
            ctx.exit(128 + int(number))
        finally:
            if here and before is not None:
                signal.signal(signal.SIGTERM, before)


def _interrupted(signum, frame):
    """SIGTERM stops a command as Ctrl-C does: ``finally`` blocks run, temporaries go."""
    raise KeyboardInterrupt(signum)


def _os_error(exc: OSError) -> str:
    """``path: what the error means (ENAME)``."""
    import errno
    import os

    code = exc.errno
    meaning = os.strerror(code) if code else (exc.strerror or str(exc))
    name = f" ({errno.errorcode[code]})" if code in errno.errorcode else ""
    where = f"{os.fsdecode(exc.filename)}: " if exc.filename is not None else ""
    return f"{where}{meaning}{name}"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cvp-xl")
def main():
    """cvp-xl: customer value propositions in Excel.

    Functions for value equations, workbooks that compute in any Excel, and a
    headless recalculation path.
    """


@main.command("functions")
@click.argument("name", required=False)
@click.option("--workbook", "as_workbook", is_flag=True,
              help="Write the Excel 365 function library (LAMBDA names, an example of each) "
                   "to a workbook instead of listing.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="With --workbook: the file to write (default cvp-functions.xlsx).")
@click.option("--lite", "lite_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the xlwings Lite module (main.py, requirements.txt) into this folder.")
def functions_cmd(name, as_workbook, output, lite_dir):
    """List the CVP_* functions with their signature and help (or one NAME in full).

    With --workbook, write the LAMBDA library workbook (Excel 365 computes the functions
    with nothing installed); with --lite, the xlwings Lite module for the functions that
    need Python.
    """
    from cvp_xl.registry import functions, get

    if name and (as_workbook or lite_dir):
        raise click.UsageError("NAME lists one function; leave it out with --workbook or --lite")
    if output is not None and not as_workbook:
        raise click.BadParameter("only with --workbook", param_hint="'-o' / '--output'")
    if output is not None and output.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{output}: expected a file name ending .xlsx",
                                 param_hint="'-o' / '--output'")
    if as_workbook:
        _check_output(output or Path("cvp-functions.xlsx"), "'-o' / '--output'", ".xlsx", {})
        from cvp_xl.commands.functions import write_library
        from cvp_xl.hosts.lambdas import library

        with _writing(output or Path("cvp-functions.xlsx")):
            path = write_library(output or Path("cvp-functions.xlsx"))
        click.echo(f"{path}: {len(library())} CVP_* functions as LAMBDA names, each with a "
                   f"worked example (Excel 365: no add-in needed)")
    if lite_dir is not None:
        from cvp_xl.commands.functions import write_lite_module
        from cvp_xl.hosts.xlwings_lite import lite_functions

        written = write_lite_module(lite_dir)
        click.echo(f"{', '.join(map(str, written))}: {len(lite_functions())} CVP_* functions "
                   f"for xlwings Lite")
    if as_workbook or lite_dir is not None:
        return
    if name:
        try:
            entry = get(name)
        except KeyError:
            raise click.BadParameter(f"unknown function {name!r}", param_hint="NAME") from None
        click.echo(entry.signature)
        click.echo(f"  {entry.description}")
        click.echo(f"  Category: {entry.category}")
        for a in entry.args:
            opt = " (optional)" if a.optional else ""
            click.echo(f"  {a.name}{opt}: {a.help}")
        click.echo(f"  Native Excel translation: {'yes' if entry.native else 'no'}")
        from cvp_xl.hosts.lambdas import not_lambda

        reason = not_lambda(entry)
        click.echo(f"  Excel 365 LAMBDA library: {f'no, {reason}' if reason else 'yes'}")
        for ex in entry.examples:
            shown = f"{ex.expected} {ex.message}" if ex.is_error else repr(ex.expected)
            click.echo(f"  Example: {entry.name}{ex.args!r} -> {shown}")
            click.echo(f"    source: {ex.source}")
        return
    for entry in functions():
        click.echo(entry.signature)
        click.echo(f"    {entry.description}")


@main.command("add-functions")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of rewriting BOOK in place.")
def add_functions_cmd(book, output):
    """Add the CVP_* LAMBDA library to BOOK, or update it; keep every other part of the file.

    Excel 365 (Windows, Mac, the web) then computes =CVP_ROI(...) and the other functions
    with a native translation in BOOK, with nothing installed.  A name BOOK already uses for
    something else is never overwritten (exit 2, file unchanged).  Without -o, BOOK is
    rewritten in place, atomically.
    """
    from cvp_xl.commands.functions import add_functions

    if output is not None and output.suffix.lower() != book.suffix.lower():
        raise click.BadParameter(f"{output}: expected a file name ending {book.suffix} as BOOK's "
                                 f"(Excel opens a file by its ending)",
                                 param_hint="'-o' / '--output'")
    if output is not None:
        _check_output(output, "'-o' / '--output'", None, {"BOOK": book})
    else:
        _check_output(book, "BOOK", None, {})
    with _writing(output or book):  # its own message for an OS error; temporaries cleaned
        report = add_functions(book, output)
    names = report.names
    click.echo(f"{report.path}: {len(names.added)} CVP_* functions added, "
               f"{len(names.updated)} updated, {len(names.unchanged)} already up to date "
               f"(LAMBDA names: Excel 365 computes them with nothing installed)")
    if report.left_out:
        click.echo(f"  not added, they need Python (the xlwings add-in or xlwings Lite): "
                   f"{', '.join(report.left_out)}")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of rewriting BOOK in place.")
@click.option("--strict", is_flag=True,
              help="Exit 1 when any formula cell was not recomputed or holds an error, or a "
                   "calculator reports invalid inputs.")
@click.option("--max-cells", type=click.IntRange(1), default=None,
              help="Refuse a workbook with more non-empty cells (default 2,000,000).")
@click.option("--max-formulas", type=click.IntRange(1), default=None,
              help="Refuse a workbook with more formula cells (default 50,000).")
def recalc(book, output, strict, max_cells, max_formulas):
    """Recompute BOOK headlessly; keep every formula and style, and store the values.

    Every formula cell gets the value Excel would compute, or keeps its stored
    value and is listed with the reason (a function the engine lacks, a link to
    another workbook, a circular reference, ...).  Without -o, BOOK is rewritten
    in place, atomically.  An output in a folder that does not exist or cannot be
    written is refused before any work; an OS error while writing (a full disk)
    names the file and the error; either way exit 2, the file as it was.
    """
    from cvp_xl.commands.recalc import recalc as run
    from cvp_xl.xlsx.contents import MAX_CELLS, MAX_FORMULAS

    if output is not None:
        _check_output(output, "'-o' / '--output'", None, {"BOOK": book})
    elif book.is_file():
        _check_output(book, "BOOK", None, {})
    result = run(book, output, max_cells=max_cells or MAX_CELLS,
                 max_formulas=max_formulas or MAX_FORMULAS)
    click.echo(result.summary())
    for kept in result.kept:
        click.echo(f"  {kept}", err=True)
    for err in result.errors:
        click.echo(f"  {err}", err=True)
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    if strict and not result.trusted:
        sys.exit(1)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-output"), show_default=True,
              help="Folder for the example workbooks.")
def demo(out_dir):
    """Build the example workbooks and check each with engines that did not write it."""
    from cvp_xl.commands.demo import run_demo

    checks = run_demo(out_dir, echo=click.echo)
    if not all(check.ok for check in checks):
        sys.exit(1)


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the calculator (default: SPEC with .xlsx).")
@click.option("--scenario", type=click.Choice(["Base", "Low", "High", "Conservative"]),
              default="Base", show_default=True, help="The case selected when the file opens.")
@click.option("--customer", default=None, help="Customer name shown on the Summary.")
def build(spec_path, output, scenario, customer):
    """Build a share-safe value calculator from a YAML SPEC.

    The file is written whole or not at all.  Refused before any work (exit 2): an output
    that is SPEC itself, not named .xlsx, or in a folder that does not exist; a --customer
    with a control character or longer than 255 characters.  An OS error while writing (a
    full disk, a read-only folder) names the file and the error (exit 2); a file that was
    there is left as it was.
    """
    from cvp_xl.workbooks.calculator.builder import build as build_calculator
    from cvp_xl.workbooks.calculator.spec import MAX_NAME, load_spec
    from cvp_xl.workbooks.yaml_safe import not_plain

    if not spec_path.name:  # "" or ".": no file to name the output after
        raise click.BadParameter(f"{str(spec_path)!r}: expected a spec file (.yaml)",
                                 param_hint="SPEC")
    output = output or spec_path.with_suffix(".xlsx")
    _check_output(output, "'-o' / '--output'", ".xlsx", {"SPEC": spec_path})
    if customer is not None:
        problem = not_plain(customer) or (f"{len(customer):,} characters; at most {MAX_NAME}"
                                          if len(customer) > MAX_NAME else None)
        if problem:
            raise click.BadParameter(f"{problem} (a name, as plain text)",
                                     param_hint="'--customer'")
    spec = load_spec(spec_path)
    with _writing(output):
        build_calculator(spec, output, scenario=scenario, customer=customer)
    click.echo(f"{output}: calculator '{spec.name}' with {len(spec.inputs)} inputs and "
               f"{len(spec.elements)} value elements")


def _check_output(output: Path, hint: str, suffix: str | None, inputs: dict[str, Path]) -> None:
    """Refuse an output before any work (:func:`cvp_xl.xlsx.atomic.output_problem`): one of
    the command's ``inputs`` (same file, by any path), another kind of file than ``suffix``,
    a folder that does not exist, a file or folder that cannot be written."""
    from cvp_xl.xlsx.atomic import output_problem

    problem = output_problem(output, inputs, suffix)
    if problem:
        raise click.BadParameter(f"{output}: {problem}", param_hint=hint)


@contextlib.contextmanager
def _writing(output: Path):
    """Write ``output``: first remove the temporary files a killed run left for it; then an
    OS error while writing it (or a temporary file beside it) is the message of
    :func:`_not_written`; other OS errors (reading an input) go to the group's handler."""
    import os

    from cvp_xl.xlsx.atomic import clean_temporaries, destination_name

    real = Path(os.path.realpath(output))
    clean_temporaries(real.parent, [real.name])
    existed = output.exists()
    try:
        yield
    except OSError as exc:
        name = os.fsdecode(exc.filename) if exc.filename is not None else None
        ours = name is None or (
            os.path.realpath(os.path.dirname(name) or ".") == os.path.realpath(output.parent)
            and destination_name(os.path.basename(name)) == output.name)
        if not ours:
            raise
        raise _not_written(output, exc, existed) from None


def _not_written(path: Path, exc: OSError, existed: bool) -> CvpXlError:
    """An OS error while writing ``path`` as a message (:func:`cvp_xl.xlsx.atomic.not_written`).
    """
    from cvp_xl.xlsx.atomic import not_written

    return not_written(path, exc, existed)


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The spec BOOK was built from: rebuild its template and compare with it.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (schema cvp-xl-check/1) instead of lines.")
def check(book, spec_path, as_json):
    """List every problem in a filled-in calculator by cell; exit 1 when there is one.

    The inputs are checked (blank, not a number, outside the allowed range, low,
    base and high out of order), and every formula and protected cell is compared
    with the template BOOK was built from: with the digests BOOK carries, or with
    the template rebuilt from --spec.  Exit 0 when clean, 1 when a problem was
    found, 2 when BOOK or SPEC cannot be used.
    """
    import json

    from cvp_xl.workbooks.calculator.check import check_calculator
    from cvp_xl.workbooks.calculator.spec import load_spec

    spec = load_spec(spec_path) if spec_path is not None else None
    report = check_calculator(book, spec)
    problems = report.problems
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        for p in problems:
            click.echo(str(p))
        for note in report.notes:
            click.echo(f"{book}: {note}", err=True)
    if problems:
        if not as_json:
            click.echo(f"{book}: {len(problems)} problem{'s' * (len(problems) != 1)}", err=True)
        sys.exit(1)
    if not as_json:
        click.echo(f"{book}: no problems found")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of rewriting BOOK in place.")
def share(book, output):
    """Make BOOK compute without the add-in: CVP_* calls become native formulas or values.

    Each native formula refuses what its function refuses (a blank, text, TRUE/FALSE,
    ranges that do not pair) with the same error.  A call without a translation keeps its
    value, with a note on the cell saying why.  The cells that were already errors in BOOK
    are listed on stderr.
    """
    from cvp_xl.commands.share import share as run

    if output is not None:
        _check_output(output, "'-o' / '--output'", None, {"BOOK": book})
    elif book.is_file():
        _check_output(book, "BOOK", None, {})
    changes = run(book, output)
    for change in changes:
        click.echo(str(change))
    errors = changes.source_errors
    if errors:
        click.echo(f"{book}: {len(errors)} cell{'s' * (len(errors) != 1)} already "
                   f"{'an error' if len(errors) == 1 else 'errors'} before sharing:", err=True)
        for err in errors:
            click.echo(f"  {err}", err=True)
    click.echo(f"{output or book}: {len(changes)} cell{'s' * (len(changes) != 1)} changed")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF (default: BOOK with .pdf).")
@click.option("--sheets", default=None, metavar="NAME,...",
              help="Print these sheets only, e.g. Summary or Summary,Inputs (default: every "
                   "visible sheet).")
def pdf(book, output, sheets):
    """Print BOOK to a PDF through LibreOffice, each sheet with its own page setup.

    The PDF shows the values the file holds.  Refused (exit 2): a BOOK that is not a safe
    .xlsx, a sheet that BOOK does not show, an output that is BOOK or in a folder that does
    not exist, and LibreOffice missing (the message says how to install it).
    """
    from cvp_xl.commands.pdf import export_pdf, workbook_sheets

    if not book.name:  # "" or ".": no file to name the output after
        raise click.BadParameter(f"{str(book)!r}: expected a workbook (.xlsx)", param_hint="BOOK")
    output = output or book.with_suffix(".pdf")
    _check_output(output, "'-o' / '--output'", ".pdf", {"BOOK": book})
    names = [n for n in (sheets.split(",") if sheets is not None else []) if n.strip()]
    if sheets is not None and not names:
        raise click.BadParameter("name at least one sheet", param_hint="'--sheets'")
    written = export_pdf(book, output, names or None)
    shown = [n for n, state in workbook_sheets(book) if state == "visible"
             and (not names or n.casefold() in {x.strip().casefold() for x in names})]
    click.echo(f"{written}: {', '.join(shown)}")


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The table to write: .csv or .xlsx.")
def customers(spec_path, output):
    """Write the customer table a batch needs: id, name, one column per input of SPEC.

    A CSV file unless OUTPUT ends in .xlsx.  Refused before any work (exit 2): an OUTPUT
    that is SPEC itself or in a folder that does not exist or cannot be written.
    """
    from cvp_xl.commands.batch import customer_table
    from cvp_xl.workbooks.calculator.spec import load_spec

    _check_output(output, "'-o' / '--output'", None, {"SPEC": spec_path})
    spec = load_spec(spec_path)
    with _writing(output):
        customer_table(spec, output)
    click.echo(f"{output}: customer_id, customer_name and {len(spec.inputs)} input columns, "
               f"one example row of base values")


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--customers", "table_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Customer table (.csv or .xlsx), as `cvp-xl customers` writes it.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the calculators, summary.xlsx and summary.csv.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Build in this many processes.")
@click.option("--force", is_flag=True,
              help="Rebuild every file from the table, also files up to date and files a "
                   "customer edited (those are kept in OUT/previous-<timestamp>/ first).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--pdf", is_flag=True,
              help="Also print each calculator to a PDF next to it (LibreOffice); a PDF that "
                   "already shows the calculator as it is is not made again.")
def batch(spec_path, table_path, out_dir, jobs, force, quiet, pdf):
    """Build one calculator per customer row; report bad rows and go on with the rest.

    A file whose row changed since it was built is rebuilt with what the customer
    entered in it kept (a value the table changed too keeps the customer's, and the
    table's is reported); one that cannot be rebuilt without losing an entry is left
    as it is and reported.  Exit 0 when every row was written or up to date, 1 when a
    row was skipped, a file failed or was left as it was, or a table change was not
    applied; 2 when the spec or the table cannot be used, OUT cannot be written (checked
    before any work), or a full disk stopped the run (what was written and what was not is
    listed).  One batch at a time fills OUT: a second waits up to 10 s, then is refused.

    With --pdf every calculator of the table (written, up to date or left as it was) gets a
    PDF that shows it exactly; a PDF that cannot be made is listed, its calculator stays, and
    the exit is 1.  LibreOffice missing is refused before any work (exit 2).
    """
    from tqdm import tqdm

    from cvp_xl.commands.batch import build_many, open_table, validate
    from cvp_xl.workbooks.calculator.spec import load_spec
    from cvp_xl.xlsx.atomic import folder_problem, worker_pool

    if pdf:
        from cvp_xl.commands.pdf import require_soffice

        require_soffice()
    problem = folder_problem(out_dir, create=True)
    if problem:
        raise click.BadParameter(f"{out_dir}: {problem}", param_hint="'--out'")
    spec = load_spec(spec_path)
    table = open_table(table_path)  # read row by row: its rows are not kept in memory
    read = table.read
    rows = f"{len(table)} row{'s' * (len(table) != 1)}"
    click.echo(f"{table_path}: {rows} ({read.describe()})", err=True)
    total = len(table) + len(read.problems)
    table = validate(spec, table, str(table_path))
    pdf_bar = []  # opened when the PDFs start, after the rows: the calculators' bar ends

    def pdf_progress(n):
        if not pdf_bar:
            bar.close()
            pdf_bar.append(tqdm(unit="PDF", desc="PDFs", disable=quiet, file=sys.stderr))
        pdf_bar[0].update(n)

    with worker_pool(jobs) as executor:
        with tqdm(total=total, unit="row", disable=quiet,
                  file=sys.stderr) as bar:
            try:
                report = build_many(spec, table, out_dir, executor=executor, force=force,
                                    progress=bar.update, source=str(table_path), pdf=pdf,
                                    pdf_workers=jobs, pdf_progress=pdf_progress)
            finally:
                for opened in pdf_bar:
                    opened.close()
    for note in report.notes:
        click.echo(f"{table_path}: note: {note}", err=True)
    for p in report.problems:
        click.echo(f"{table_path}: {p}", err=True)
    for line in report.names:
        click.echo(f"{table_path}: {line}", err=True)
    for path, lines in report.carried:
        for line in lines:
            click.echo(f"{path.name}: {line}", err=True)
    for path, message in report.kept:
        click.echo(f"{path.name}: {message}", err=True)
    for cid, message in [] if report.stopped else report.failed:
        click.echo(f"customer {cid!r}: failed: {message}", err=True)
    for line in report.not_written:
        click.echo(f"Error: {line}", err=True)
    for book, why in report.pdfs.failed if report.pdfs else []:
        click.echo(f"{book.name}: no PDF: {why}", err=True)
    if report.stopped:
        _stopped(out_dir, report)
    carried = sum(1 for _, lines in report.carried if lines)
    n = len(report.problems)
    click.echo(f"{out_dir}: {len(report.written)} written"
               + (f" ({carried} with the customer's entries kept)" if carried else "")
               + f", {len(report.up_to_date)} up to date, {len(report.kept)} left as they were, "
               f"{n} problem{'s' * (n != 1)} in the table, {len(report.failed)} failed; summary "
               f"in {out_dir / 'summary.xlsx'}"
               + (f"; old files in {report.backup}" if report.backup else ""))
    if report.pdfs:
        p = report.pdfs
        click.echo(f"{out_dir}: PDFs: {len(p.written)} written, {len(p.current)} up to date, "
                   f"{len(p.failed)} failed")
    elif pdf and report.stopped:
        click.echo(f"{out_dir}: PDFs: none made, the run stopped")
    if report.stopped or report.not_written:
        sys.exit(2)
    if not report.ok:
        sys.exit(1)


def _stopped(out_dir: Path, report) -> None:
    """What a batch stopped by the disk wrote and did not write, file by file."""
    click.echo(f"Error: {out_dir}: the run stopped: {report.stopped}", err=True)
    click.echo(f"Written ({len(report.written)}, each whole):", err=True)
    for path in report.written:
        click.echo(f"  {path.name}", err=True)
    click.echo(f"Not written ({len(report.failed)}; run the command again when there is "
               "room):", err=True)
    for cid, message in report.failed:
        why = "" if message.startswith("not written: the run stopped") else f": {message}"
        click.echo(f"  customer {cid!r}{why}", err=True)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The table to write (.xlsx): one row per calculator.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Read in this many processes.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def collect(folder, output, jobs, quiet):
    """Check and recompute every calculator in FOLDER (as customers return them) into one table.

    Each file is checked as `cvp-xl check` checks it (tampering included) and its results
    are recomputed from its own inputs; the table lists the customer, the verdict, every
    input, every result and what changed since the file was sent.  Exit 0 when every file
    is a calculator without problems, 1 otherwise (or when FOLDER holds none); 2 when the
    table cannot be written (checked before any work: its folder exists and can be written).
    """
    from tqdm import tqdm

    from cvp_xl.commands.collect import VERDICTS
    from cvp_xl.commands.collect import collect as run
    from cvp_xl.commands.upgrade import calculator_files
    from cvp_xl.xlsx.atomic import worker_pool

    _check_output(output, "'-o' / '--output'", None, {})
    total = len(calculator_files(folder)) if folder.is_dir() else 0
    with worker_pool(jobs) as executor:
        with tqdm(total=total, unit="file", disable=quiet, file=sys.stderr) as bar:
            report = run(folder, output, executor=executor, progress=bar.update)
    for path, why in report.skipped:
        click.echo(f"{path.name}: {why}", err=True)
    for path, verdict, why in report.files:
        if verdict != "ok":
            click.echo(f"{path.name}: {verdict}: {why}", err=True)
    if not report.files:
        click.echo(f"{folder}: no workbooks to collect; nothing written", err=True)
        sys.exit(1)
    counts = [(v, sum(1 for _, verdict, _ in report.files if verdict == v)) for v in VERDICTS]
    n = len(report.files)
    click.echo(f"{output}: {n} file{'s' * (n != 1)} from {folder}: "
               + ", ".join(f"{k} {v}" for v, k in counts if k))
    if not report.ok:
        sys.exit(1)


@main.command("track")
@click.argument("tracker", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--add", "period_csv", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of entries to append: customer, period, period end, promised, "
                   "documented, verified by.")
def track_cmd(tracker, period_csv):
    """Append a period's promised and documented values to the value TRACKER.

    Earlier entries are never touched.  A customer and period already in the
    tracker (or twice in the CSV), an unknown customer or a bad line refuses
    the whole file: every problem is listed, TRACKER is left byte for byte as
    it was, and the exit code is 2.  Otherwise the tracker is recomputed and
    written atomically.  One writer at a time: a second run waits for the
    first (up to 10 s, then exit 2, nothing written); an OS error while
    writing (a full disk, a read-only folder) names TRACKER and the error
    (exit 2, TRACKER as it was).
    """
    from cvp_xl.workbooks.tracker import add_period

    added = add_period(tracker, period_csv)
    periods = sorted({e["period"] for e in added})
    click.echo(f"{tracker}: {len(added)} entr{'y' if len(added) == 1 else 'ies'} added "
               f"({', '.join(periods)}); recalculated")


@main.command("cases")
@click.argument("tracker", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--to", "cases_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The case-history workbook to append to (created when missing).")
@click.option("--from-pilot", "pilot", type=click.Path(dir_okay=False, path_type=Path),
              help="A pilot workbook (instead of TRACKER): its verified value becomes a case.")
@click.option("--track", "track", type=click.Path(dir_okay=False, path_type=Path),
              help="With --from-pilot: also add the pilot's last quarter to this tracker.")
@click.option("--promised", type=float,
              help="With --track: the value promised for that quarter (tracker's currency).")
def cases_cmd(tracker, cases_path, pilot, track, promised):
    """Turn the verified entries of TRACKER, or a verified pilot, into case histories in CASES.

    An entry is verified when its 'verified by' cell is filled.  Entries already
    in CASES (same customer, value element and period) are skipped.  A verified
    entry that cannot become a case (e.g. its customer has no category on the
    Customers sheet) refuses the run with every problem listed (exit 2).  CASES is
    refused before any work when it is TRACKER or cannot be written; one writer at a
    time (a second run waits up to 10 s); an OS error while writing names CASES and
    the error (exit 2, CASES as it was).

    With --from-pilot PILOT (a pilot workbook) instead of TRACKER: a pilot that is
    verified (its 'Verified by' cell filled, with a date) and demonstrated (the whole
    interval of its improvement above 0) becomes one case history; any other is
    refused with the reason (exit 2, nothing written).  With --track TRACKER and
    --promised AMOUNT it also becomes the tracker entry of the pilot's last quarter:
    documented = the pilot's value per year / the tracker's periods per year.  A case
    or entry already there is left as it is.
    """
    from cvp_xl.workbooks.tracker import export_cases

    if (tracker is None) == (pilot is None):
        raise click.UsageError("give TRACKER or --from-pilot PILOT (one of the two)")
    if pilot is None and (track is not None or promised is not None):
        raise click.UsageError("--track and --promised go with --from-pilot")
    if (track is None) != (promised is None):
        raise click.UsageError("--track TRACKER and --promised AMOUNT go together")
    if pilot is not None:
        _cases_from_pilot(pilot, cases_path, track, promised)
        return
    _check_output(cases_path, "'--to'", ".xlsx", {"TRACKER": tracker})
    added, skipped, total = export_cases(tracker, cases_path)
    if added.empty:
        click.echo(f"{cases_path}: no new verified entries in {tracker} ({skipped} already "
                   f"there); not written")
        return
    click.echo(f"{cases_path}: {len(added)} case histor{'y' if len(added) == 1 else 'ies'} "
               f"added from {tracker} ({skipped} already there); {total} in all")


def _cases_from_pilot(pilot, cases_path, track, promised) -> None:
    """``cvp-xl cases --from-pilot``: the work is :func:`cvp_xl.workbooks.pilot.from_pilot`."""
    from cvp_xl.workbooks.pilot import from_pilot

    _check_output(cases_path, "'--to'", ".xlsx", {"PILOT": pilot, "TRACKER": track} if track
                  else {"PILOT": pilot})
    done = from_pilot(pilot, cases_path, track, promised)
    c = done.case
    what = (f"{c['customer']}, {c['value element']}, {c['period']}: "
            f"{c['currency']} {c['documented value per year']:,.0f} a year")
    if done.case_added:
        click.echo(f"{cases_path}: case history added from {pilot} ({what}); "
                   f"{done.cases_total} in all")
    else:
        click.echo(f"{cases_path}: already a case ({what}); not written")
    if done.entry is not None:
        e = done.entry
        entry = (f"{e['customer']}, {e['period']} (ending {e['period end'].isoformat()}): "
                 f"promised {e['promised']:,.0f}, documented {e['documented']:,.0f}")
        if done.entry_added:
            click.echo(f"{track}: entry added ({entry}); recalculated")
        else:
            click.echo(f"{track}: already has an entry for {e['customer']}, {e['period']}; "
                       "not written")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--spec", "spec_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The new version of the spec.")
@click.option("--force", is_flag=True,
              help="Also upgrade calculators built for another offering, and files holding a "
                   "value that cannot be carried (it is listed; the old file is kept).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Rebuild in this many processes.")
@click.option("-v", "--verbose", is_flag=True,
              help="A line for every value carried, renamed, restored or moved.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def upgrade(folder, spec_path, force, jobs, verbose, quiet):
    """Rebuild every calculator in FOLDER from a new spec, keeping what people entered.

    Inputs, prices, sources, the name and scenario, notes, comments, added and renamed
    sheets are carried; what cannot be is listed (and kept on the sheet 'Carried over').
    A calculator for another offering, or one already at this spec, is left as it is.
    The old files are kept in FOLDER/previous-<timestamp>/; summary.xlsx is refreshed.
    Exit 1 when a file was not upgraded or FOLDER holds no calculator; 2 when FOLDER cannot
    be written, another command works in it (after waiting up to 10 s), or a full disk
    stopped the upgrade (then no file was replaced).
    """
    from tqdm import tqdm

    from cvp_xl.commands.upgrade import calculator_files
    from cvp_xl.commands.upgrade import upgrade as run
    from cvp_xl.workbooks.calculator.spec import load_spec
    from cvp_xl.xlsx.atomic import folder_problem, worker_pool

    problem = folder_problem(folder) if folder.is_dir() else None
    if problem:
        raise click.BadParameter(f"{folder}: {problem}", param_hint="FOLDER")
    spec = load_spec(spec_path)
    total = len(calculator_files(folder)) if folder.is_dir() else 0
    with worker_pool(jobs) as executor:
        with tqdm(total=total, unit="file", disable=quiet, file=sys.stderr) as bar:
            report = run(folder, spec, force=force, executor=executor, progress=bar.update)
    if verbose:
        for line in report.lines:
            click.echo(line)
        for path, message in report.not_calculators:
            click.echo(f"{path.name}: skipped: {message}")
        for o in report.outcomes:
            if o.status == "current":
                click.echo(f"{o.path.name}: {o.message}")
    for line in report.not_carried:
        click.echo(f"{line}", err=True)
    for path, message in report.other_offering + report.failed:
        click.echo(f"{path.name}: {message}", err=True)
    if report.stopped:
        n = len(report.upgraded)
        click.echo(f"Error: {folder}: the upgrade stopped: {report.stopped}; {n} file"
                   f"{'s' * (n != 1)} upgraded, {len(report.failed)} not (every file is whole; "
                   "run the command again when there is room)", err=True)
        sys.exit(2)
    calculators = len(report.outcomes) - len(report.not_calculators)
    if calculators == 0:
        click.echo(f"{folder}: no calculators here ({len(report.outcomes)} workbook"
                   f"{'s' * (len(report.outcomes) != 1)}, none a cvp-xl calculator); nothing "
                   f"upgraded", err=True)
        sys.exit(1)
    where = f"; old files in {report.backup}" if report.backup else ""
    summary = f"; {report.summary.name} refreshed" if report.summary else ""
    click.echo(f"{folder}: {len(report.upgraded)} upgraded, {len(report.current)} already at "
               f"this spec, {len(report.other_offering)} for another offering, "
               f"{len(report.failed)} failed{where}{summary}")
    if report.failed or report.other_offering:
        sys.exit(1)


def _percentile_rule(ctx, param, value):
    from cvp_xl.domain.research import RuleError, parse_rule

    try:
        if param.name == "rules":
            out = {}
            for item in value:
                name, sep, rule = item.rpartition("=")
                if not sep or not name.strip():
                    raise RuleError(f"{item!r}: expected INPUT=RULE, such as "
                                    "'Hours lost per stop=P10/P50/P90'")
                out[name.strip()] = parse_rule(rule)
            return out
        return parse_rule(value)
    except RuleError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("research")
@click.argument("findings", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--spec", "spec_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The calculator spec the findings are for (read, never written).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The new spec to write (not the --spec file).")
@click.option("--percentiles", "rule", default="P25/P50/P75", show_default=True,
              callback=_percentile_rule, help="Percentiles for low/base/high of every input.")
@click.option("--rule", "rules", multiple=True, callback=_percentile_rule,
              metavar="INPUT=RULE", help="A rule of its own for one input, e.g. "
              "'Hours lost per stop=P10/P50/P90' (repeatable).")
@click.option("--min-n", default=3, show_default=True, type=click.IntRange(1),
              help="Observations an input needs before it is set.")
@click.option("--segment", default=None, help="Use only the observations of this segment.")
def research_cmd(findings, spec_path, output, rule, rules, min_n, segment):
    """Set each input's low/base/high and source in SPEC from the research FINDINGS.

    FINDINGS is a research table (.csv or .xlsx, such as the research workbook): one
    observation per row (customer, segment, input, method, value, unit, date, measured by,
    reference).  A bad row refuses the run with every problem listed (exit 2) and writes
    nothing.  Inputs without enough evidence are left as they were and listed.
    """
    from cvp_xl.commands.research import apply_research, number_text
    from cvp_xl.domain.research import rule_text

    _check_output(output, "'-o' / '--output'", None, {"FINDINGS": findings})
    with _writing(output):
        report = apply_research(findings, spec_path, output, rule=rule, rules=rules,
                                min_n=min_n, segment=segment)
    click.echo(f"{output}: {len(report.set)} of {len(report.inputs)} inputs set from "
               f"{findings} ({rule_text(rule)} unless an input has its own rule)")
    for result in report.set:
        e = result.evidence
        click.echo(f"{result.name}: {e.n} observations, low {number_text(e.low)}, base "
                   f"{number_text(e.base)}, high {number_text(e.high)} ({rule_text(e.rule)})")
        for change in (c for c in report.changes if c.input == result.name):
            if change.new is None:
                click.echo(f"  {output}:{change.line}: removed: {change.old.strip()}")
                continue
            was = f"was: {change.old.strip()}" if change.old is not None else "added"
            click.echo(f"  {output}:{change.line}: {change.new.strip()}  ({was})")
    if report.untouched:
        click.echo("Left as they were:")
    for result in report.untouched:
        why = ("no evidence" if result.n == 0 else
               f"{result.n} observation{'s' * (result.n != 1)}, fewer than {min_n}")
        click.echo(f"  {result.name}: {why}")


if __name__ == "__main__":  # pragma: no cover
    main()
