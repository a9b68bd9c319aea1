"""The ``cvp-xl`` command.

Every command exits 0 on success, 1 when the work was done but found
problems (``--strict`` error cells, failed rows), and 2 on bad usage or a
file it refuses.  Messages go to stderr; results to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cvp_xl import __version__
from cvp_xl.errors import CvpXlError


class _Group(click.Group):
    """Turns the library's own errors into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CvpXlError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cvp-xl")
def main():
    """cvp-xl: customer value propositions in Excel.

    Functions for value equations, workbooks that compute in any Excel, and a
    headless recalculation path.
    """


@main.command("functions")
@click.argument("name", required=False)
def functions_cmd(name):
    """List the CVP_* functions with their signature and help (or one NAME in full)."""
    from cvp_xl.registry import functions, get

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
        for ex in entry.examples:
            shown = f"{ex.expected} {ex.message}" if ex.is_error else repr(ex.expected)
            click.echo(f"  Example: {entry.name}{ex.args!r} -> {shown}")
            click.echo(f"    source: {ex.source}")
        return
    for entry in functions():
        click.echo(entry.signature)
        click.echo(f"    {entry.description}")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of rewriting BOOK in place.")
@click.option("--strict", is_flag=True, help="Exit 1 when any formula cell holds an error.")
def recalc(book, output, strict):
    """Recompute BOOK headlessly; keep every formula and style, and store the values.

    Without -o, BOOK is rewritten in place, atomically.
    """
    from cvp_xl.commands.recalc import recalc as run

    result = run(book, output)
    click.echo(f"{result.path}: {len(result.values)} formula cells computed, "
               f"{len(result.errors)} with errors")
    for err in result.errors:
        click.echo(f"  {err}", err=True)
    if strict and result.errors:
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
    """Build a share-safe value calculator from a YAML SPEC."""
    from cvp_xl.workbooks.calculator.builder import build as build_calculator
    from cvp_xl.workbooks.calculator.spec import load_spec

    spec = load_spec(spec_path)
    output = output or spec_path.with_suffix(".xlsx")
    build_calculator(spec, output, scenario=scenario, customer=customer)
    click.echo(f"{output}: calculator '{spec.name}' with {len(spec.inputs)} inputs and "
               f"{len(spec.elements)} value elements")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
def check(book):
    """List every problem in a filled-in calculator by cell; exit 1 when there is one."""
    from cvp_xl.workbooks.calculator.check import check_calculator

    problems = check_calculator(book)
    for p in problems:
        click.echo(str(p))
    if problems:
        click.echo(f"{book}: {len(problems)} problem{'s' * (len(problems) != 1)}", err=True)
        sys.exit(1)
    click.echo(f"{book}: no problems found")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of rewriting BOOK in place.")
def share(book, output):
    """Make BOOK compute without the add-in: CVP_* calls become native formulas or values."""
    from cvp_xl.commands.share import share as run

    changes = run(book, output)
    for change in changes:
        click.echo(str(change))
    click.echo(f"{output or book}: {len(changes)} cell{'s' * (len(changes) != 1)} changed")


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The table to write: .csv or .xlsx.")
def customers(spec_path, output):
    """Write the customer table a batch needs: id, name, one column per input of SPEC."""
    from cvp_xl.commands.batch import customer_table
    from cvp_xl.workbooks.calculator.spec import load_spec

    spec = load_spec(spec_path)
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
@click.option("--force", is_flag=True, help="Rewrite files that are already up to date.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def batch(spec_path, table_path, out_dir, jobs, force, quiet):
    """Build one calculator per customer row; report bad rows and go on with the rest.

    Exit 0 when every row was written or up to date, 1 when a row was skipped
    or a file failed, 2 when the spec or the table cannot be used.
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    from cvp_xl.commands.batch import build_many, read_table
    from cvp_xl.workbooks.calculator.spec import load_spec

    spec = load_spec(spec_path)
    table = read_table(table_path)
    executor = ProcessPoolExecutor(jobs) if jobs > 1 else None
    try:
        with tqdm(total=len(table), unit="file", disable=quiet, file=sys.stderr) as bar:
            report = build_many(spec, table, out_dir, executor=executor, force=force,
                                progress=bar.update, source=str(table_path))
    finally:
        if executor is not None:
            executor.shutdown()
    for p in report.problems:
        click.echo(f"{table_path}: {p}", err=True)
    for cid, message in report.failed:
        click.echo(f"customer '{cid}': failed: {message}", err=True)
    click.echo(f"{out_dir}: {len(report.written)} written, {len(report.up_to_date)} up to date, "
               f"{len(report.problems)} problem{'s' * (len(report.problems) != 1)} in the table, "
               f"{len(report.failed)} failed; summary in {out_dir / 'summary.xlsx'}")
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
    written atomically.
    """
    from cvp_xl.workbooks.tracker import add_period

    added = add_period(tracker, period_csv)
    periods = sorted({e["period"] for e in added})
    click.echo(f"{tracker}: {len(added)} entr{'y' if len(added) == 1 else 'ies'} added "
               f"({', '.join(periods)}); recalculated")


@main.command("cases")
@click.argument("tracker", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "cases_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The case-history workbook to append to (created when missing).")
def cases_cmd(tracker, cases_path):
    """Turn the verified entries of TRACKER into case histories in CASES.

    An entry is verified when its 'verified by' cell is filled.  Entries already
    in CASES (same customer, value element and period) are skipped.  A verified
    entry that cannot become a case (e.g. its customer has no category on the
    Customers sheet) refuses the run with every problem listed (exit 2).
    """
    from cvp_xl.workbooks.tracker import export_cases

    added, skipped, total = export_cases(tracker, cases_path)
    if added.empty:
        click.echo(f"{cases_path}: no new verified entries in {tracker} ({skipped} already "
                   f"there); not written")
        return
    click.echo(f"{cases_path}: {len(added)} case histor{'y' if len(added) == 1 else 'ies'} "
               f"added from {tracker} ({skipped} already there); {total} in all")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--spec", "spec_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The new version of the spec.")
def upgrade(folder, spec_path):
    """Rebuild every calculator in FOLDER from a new spec, carrying over customer values.

    The old files are kept in FOLDER/previous-<timestamp>/.
    """
    from cvp_xl.commands.upgrade import upgrade as run
    from cvp_xl.workbooks.calculator.spec import load_spec

    spec = load_spec(spec_path)
    report = run(folder, spec)
    for line in report.lines:
        click.echo(line)
    for path, message in report.failed:
        click.echo(f"{path.name}: not upgraded: {message}", err=True)
    where = f"; old files in {report.backup}" if report.backup else ""
    click.echo(f"{folder}: {len(report.upgraded)} upgraded, {len(report.failed)} failed{where}")
    if report.failed:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
