"""Client search and list at 50,000 clients (issue 17): trigram indexes for the substring
search (PostgreSQL's pg_trgm; nothing on SQLite), and indexes in the client list's orders

Revision ID: b7e41c2a9d30
Revises: 1ced612f7078
Create Date: 2026-12-05 19:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e41c2a9d30'
down_revision = '1ced612f7078'
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = {
    'clients': ('store_name', 'store_code'),
    'contacts': ('name', 'email', 'phone'),
}


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_store_name')
        batch_op.create_index('ix_clients_store_name', ['store_name', 'id'], unique=False)
    if not _postgresql():
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner, or a role
    # with CREATE on the database, may create it; no superuser needed.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_index(
        'ix_clients_last_contact_order', 'clients', [sa.text('last_contact_at NULLS FIRST'), 'id']
    )
    for table, columns in TRIGRAM_COLUMNS.items():
        for column in columns:
            op.create_index(
                f'ix_{table}_{column}_trgm',
                table,
                [column],
                postgresql_using='gin',
                postgresql_ops={column: 'gin_trgm_ops'},
            )


def downgrade():
    if _postgresql():
        for table, columns in TRIGRAM_COLUMNS.items():
            for column in columns:
                op.drop_index(f'ix_{table}_{column}_trgm', table_name=table)
        op.drop_index('ix_clients_last_contact_order', table_name='clients')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_store_name')
        batch_op.create_index('ix_clients_store_name', ['store_name'], unique=False)
