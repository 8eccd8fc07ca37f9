from sqlalchemy import Index, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def trigram_indexes(table: str, *columns: str) -> list[Index]:
    """GIN trigram indexes (PostgreSQL's pg_trgm) on `columns` of `table`: they answer
    `ILIKE '%text%'` (services/search.py) without reading every row. PostgreSQL only; SQLite
    reads the rows, which is fast at its sizes."""
    return [
        Index(
            f"ix_{table}_{column}_trgm",
            column,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql")
        for column in columns
    ]
