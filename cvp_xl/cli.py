"""The ``cvp-xl`` command.

Every command exits 0 on success, 1 when the work was done but found
problems (``--strict`` error cells, failed rows), and 2 on bad usage or a
file it refuses.  Messages go to stderr; results to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import CvpError, WorkbookError


class _Group(click.Group):
    """Turns the library's own errors into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (WorkbookError, CvpError) as exc:
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
    from .registry import functions, get

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
    from .recalc import recalc as run

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
    """Build the example workbooks, recompute them headlessly and print the results."""
    from .demo import run_demo

    run_demo(out_dir, echo=click.echo)


@main.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the calculator (default: SPEC with .xlsx).")
@click.option("--scenario", type=click.Choice(["Base", "Low", "High", "Conservative"]),
              default="Base", show_default=True, help="The case selected when the file opens.")
@click.option("--customer", default=None, help="Customer name shown on the Summary.")
def build(spec_path, output, scenario, customer):
    """Build a share-safe value calculator from a YAML SPEC."""
    from .calculator.builder import build as build_calculator
    from .calculator.spec import SpecError, load_spec

    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    output = output or spec_path.with_suffix(".xlsx")
    build_calculator(spec, output, scenario=scenario, customer=customer)
    click.echo(f"{output}: calculator '{spec.name}' with {len(spec.inputs)} inputs and "
               f"{len(spec.elements)} value elements")


@main.command()
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
def check(book):
    """List every problem in a filled-in calculator by cell; exit 1 when there is one."""
    from .calculator.check import check_calculator

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
    from .share import share as run

    changes = run(book, output)
    for change in changes:
        click.echo(str(change))
    click.echo(f"{output or book}: {len(changes)} cell{'s' * (len(changes) != 1)} changed")


if __name__ == "__main__":  # pragma: no cover
    main()
