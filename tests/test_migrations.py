"""The migrations and the models describe the same schema: a model changed without its
Flask-Migrate revision fails here (on SQLite, and on PostgreSQL in CI's second run)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_the_migrated_schema_matches_the_models(app, db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []
