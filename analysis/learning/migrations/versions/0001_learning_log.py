"""Learning log: notes, their versions, learning reviews and full-text search.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

# SQLite: an external-content FTS5 table kept in step with ``notes`` by triggers.
FTS_SQLITE = [
    "CREATE VIRTUAL TABLE notes_fts USING fts5(text, source, tags, area_name, "
    "content='notes', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN "
    "INSERT INTO notes_fts(rowid, text, source, tags, area_name) "
    "VALUES (new.id, new.text, new.source, new.tags, new.area_name); END",
    "CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN "
    "INSERT INTO notes_fts(notes_fts, rowid, text, source, tags, area_name) "
    "VALUES ('delete', old.id, old.text, old.source, old.tags, old.area_name); END",
    "CREATE TRIGGER notes_fts_update AFTER UPDATE ON notes BEGIN "
    "INSERT INTO notes_fts(notes_fts, rowid, text, source, tags, area_name) "
    "VALUES ('delete', old.id, old.text, old.source, old.tags, old.area_name); "
    "INSERT INTO notes_fts(rowid, text, source, tags, area_name) "
    "VALUES (new.id, new.text, new.source, new.tags, new.area_name); END",
]
# PostgreSQL: a GIN index on the same tsvector expression the search uses.
SEARCH_VECTOR = ("to_tsvector('english', coalesce(text, '') || ' ' || coalesce(source, '') "
                 "|| ' ' || coalesce(tags, '') || ' ' || coalesce(area_name, ''))")


def _has_fts5(bind) -> bool:
    try:
        options = {row[0] for row in bind.exec_driver_sql("PRAGMA compile_options")}
    except Exception:  # noqa: BLE001 - any failure means: no FTS5
        return False
    return "ENABLE_FTS5" in options


def upgrade() -> None:
    """Create the tables, their indexes and the full-text search structures."""
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("area_code", sa.String(12), nullable=False),
        sa.Column("area_level", sa.String(12), nullable=False),
        sa.Column("area_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("tags", sa.String(1000), nullable=False),
        sa.Column("link", sa.String(2000), nullable=True),
        sa.Column("indicator_id", sa.String(100), nullable=True),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("scenario_id", sa.String(200), nullable=True),
        sa.Column("audit_id", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("removed_at", TZ, nullable=True),
        sa.Column("removed_by", sa.String(200), nullable=True),
        sa.Column("removed_reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
        sa.UniqueConstraint("uid", name="uq_notes_uid"),
    )
    op.create_index("ix_notes_area_code_event_date", "notes", ["area_code", "event_date"])
    op.create_index("ix_notes_kind", "notes", ["kind"])
    op.create_index("ix_notes_indicator_id", "notes", ["indicator_id"])
    op.create_index("ix_notes_scenario_id", "notes", ["scenario_id"])
    op.create_index("ix_notes_audit_id", "notes", ["audit_id"])

    op.create_table(
        "note_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("area_code", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("tags", sa.String(1000), nullable=False),
        sa.Column("link", sa.String(2000), nullable=True),
        sa.Column("indicator_id", sa.String(100), nullable=True),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("scenario_id", sa.String(200), nullable=True),
        sa.Column("audit_id", sa.String(200), nullable=True),
        sa.Column("changed_at", TZ, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_note_versions"),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"],
                                name="fk_note_versions_note_id_notes"),
        sa.UniqueConstraint("note_id", "version", name="uq_note_versions_note_id_version"),
    )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("completed_by", sa.String(200), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("learned", sa.Text(), nullable=True),
        sa.Column("review_note_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name="fk_reviews_note_id_notes"),
        sa.ForeignKeyConstraint(["review_note_id"], ["notes.id"],
                                name="fk_reviews_review_note_id_notes"),
    )
    op.create_index("ix_reviews_due", "reviews", ["due"])
    op.create_index("ix_reviews_note_id", "reviews", ["note_id"])

    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and _has_fts5(bind):
        for statement in FTS_SQLITE:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_notes_search ON notes USING gin ({SEARCH_VECTOR})")


def downgrade() -> None:
    """Drop everything this revision made."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("notes_fts_insert", "notes_fts_delete", "notes_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS notes_fts")
    op.drop_table("reviews")
    op.drop_table("note_versions")
    op.drop_table("notes")
