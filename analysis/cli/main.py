"""The ``fairshare`` command line: the same engine the dashboard uses, scriptable.

Each command group is a module of this package; this one assembles them. Commands import
the engine inside their function bodies so that ``fairshare info`` starts fast.
"""

from __future__ import annotations

import typer

from analysis.cli.access import access
from analysis.cli.allocation import allocate
from analysis.cli.audit import audit
from analysis.cli.briefing import briefing_command
from analysis.cli.catalogue import area, info
from analysis.cli.dashboard import dashboard
from analysis.cli.data import data_app
from analysis.cli.funding import gp_funding
from analysis.cli.indicators import indicators_app
from analysis.cli.notes import notes_app, reviews_app
from analysis.cli.services import services_app
from analysis.cli.trends import trends

app = typer.Typer(
    help="Fairshare: where is need high and provision low, and what would redirecting "
    "resources toward need do?",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(info)
app.command()(area)
app.command("gp-funding")(gp_funding)
app.command()(access)
app.command()(allocate)
app.command()(audit)
app.command()(dashboard)
app.command("briefing")(briefing_command)
app.command()(trends)
app.add_typer(data_app, name="data")
app.add_typer(indicators_app, name="indicators")
app.add_typer(notes_app, name="notes")
app.add_typer(reviews_app, name="reviews")
app.add_typer(services_app, name="services")

if __name__ == "__main__":  # pragma: no cover
    app()
