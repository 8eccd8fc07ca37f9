"""The clients' zones read a zone at a time (R4's overdue invoices on every page that
counts them)

Revision ID: 3c8d5e1f9a27
Revises: 76f1c29308ca
Create Date: 2026-12-06 01:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c8d5e1f9a27'
down_revision = '76f1c29308ca'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clients_timezone'), ['timezone'], unique=False)


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clients_timezone'))
