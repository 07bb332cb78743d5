"""Alembic environment of the learning log: runs on the connection that
:func:`analysis.learning.store.upgrade` passes in (``config.attributes["connection"]``), or
on ``sqlalchemy.url`` when run from the ``alembic`` command."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from analysis.learning.models import Base
from analysis.learning.store import include_object

config = context.config
TARGET = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=TARGET,
                      include_object=include_object, render_as_batch=True,
                      transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # pragma: no cover - the alembic command line
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as fresh:
        _run(fresh)
