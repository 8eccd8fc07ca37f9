"""The migrations and the models describe the same schema: a model changed without its
Flask-Migrate revision fails here (on SQLite, and on PostgreSQL in CI's second run)."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, text


def _made_here(dialect: str):
    """Alembic compares every index of the models; one declared for another database
    (`.ddl_if(dialect=...)`: PostgreSQL's trigram indexes) is not made on this one."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None) if isinstance(obj, Index) else None
        return condition is None or condition.dialect in (None, dialect)

    return include


def test_the_migrated_schema_matches_the_models(app, db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                "include_object": _made_here(connection.dialect.name),
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_search_has_its_trigram_indexes_on_postgresql(app, db):
    """Issue 17: the substring search of clients and contacts is answered by pg_trgm
    indexes on PostgreSQL (SQLite has none)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    with db.engine.connect() as connection:
        found = dict(
            connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE tablename IN ('clients', 'contacts') AND indexname LIKE '%_trgm'"
                )
            ).all()
        )
    assert set(found) == {
        "ix_clients_store_name_trgm",
        "ix_clients_store_code_trgm",
        "ix_contacts_name_trgm",
        "ix_contacts_email_trgm",
        "ix_contacts_phone_trgm",
    }
    assert all(
        "USING gin" in definition and "gin_trgm_ops" in definition for definition in found.values()
    )
