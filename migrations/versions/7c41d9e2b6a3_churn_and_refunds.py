"""Churn: when a client left and why; refund requests with their amount and finance's decision

Revision ID: 7c41d9e2b6a3
Revises: 5d2c8e1f0a47
Create Date: 2026-12-05 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import kamportal.models.types


# revision identifiers, used by Alembic.
revision = '7c41d9e2b6a3'
down_revision = '5d2c8e1f0a47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('churned_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('churn_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_clients_churned_at'), ['churned_at'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_amount', sa.Numeric(precision=14, scale=3, asdecimal=True), nullable=True))
        batch_op.add_column(sa.Column('refund_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('refund_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('refund_decided_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refund_note', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_complaints_refund_status'), ['refund_status'], unique=False)
        batch_op.create_foreign_key('fk_complaints_refund_decided_by_id_users', 'users', ['refund_decided_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint('fk_complaints_refund_decided_by_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_complaints_refund_status'))
        batch_op.drop_column('refund_note')
        batch_op.drop_column('refund_decided_by_id')
        batch_op.drop_column('refund_decided_at')
        batch_op.drop_column('refund_status')
        batch_op.drop_column('refund_currency')
        batch_op.drop_column('refund_amount')

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clients_churned_at'))
        batch_op.drop_column('churn_reason')
        batch_op.drop_column('churned_at')
