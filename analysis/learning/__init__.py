"""The learning log: qualitative evidence kept beside the numbers and carried into decisions.

Notes (community voices, practitioners' observations, survey findings, case studies,
decisions and learning reviews) attach to an area of any level, optionally to an indicator,
a service, a scenario or an audit. They are stored in a real database (SQLAlchemy models,
Alembic migrations; an embedded SQLite file by default, PostgreSQL for a team), screened
for personal data before saving, versioned on every edit, soft-deleted on removal,
searchable in full text and exportable as CSV and JSON. Decisions get learning reviews.

Uses the ``data`` room (geography, indicator registry) and ``exports``.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "export": ["notes_csv", "notes_csv_with_metadata", "notes_frame", "notes_json",
                   "reviews_json"],
        "log": ["LearningLog", "NoteNotFoundError", "open_log"],
        "records": ["Note", "NoteVersion", "Review", "Saved"],
        "screening": ["Finding", "PersonalDataError", "RULE", "check_personal_data",
                      "nhs_check_digit_ok", "screen_text"],
        "store": ["DATABASE_URL_ENV", "STATE_DIR_ENV", "StorageError", "database_url",
                  "dispose_engines", "get_engine", "state_dir"],
        "validation": ["KINDS", "MAX_TEXT", "NoteInputError", "PAST_EVENT_KINDS",
                       "area_and_parents"],
        "views": ["NotedAreas", "area_notes", "log_exists", "noted_area_geometry",
                  "noted_areas", "notes_export_info", "scenario_notes", "sqlite_path"],
    },
)
