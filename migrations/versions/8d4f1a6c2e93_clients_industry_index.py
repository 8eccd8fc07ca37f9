"""The clients' industries read a value at a time (the admin's industry filter on the
client list)

Revision ID: 8d4f1a6c2e93
Revises: 5b8e2f7c3d14
Create Date: 2026-12-06 05:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8d4f1a6c2e93'
down_revision = '5b8e2f7c3d14'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clients_industry'), ['industry'], unique=False)


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clients_industry'))
