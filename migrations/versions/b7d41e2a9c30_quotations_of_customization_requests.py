"""Quotations of customization requests (C4, R9): a quotation belongs to a request and
carries its price, period and a discount by percent or amount, covering the fee or the fee
and the renewal; the stand-alone discounts already there stay valid (no request, by amount)

Revision ID: b7d41e2a9c30
Revises: 6683e3b422a7
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import kamportal.models.types


# revision identifiers, used by Alembic.
revision = 'b7d41e2a9c30'
down_revision = '6683e3b422a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quotations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('price', sa.Numeric(precision=14, scale=3), nullable=True))
        batch_op.add_column(sa.Column('period_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=True))
        batch_op.add_column(sa.Column('discount_covers', sa.String(length=20), nullable=True))
        batch_op.alter_column('discount', existing_type=sa.Numeric(precision=14, scale=3), nullable=True)
        batch_op.alter_column('requested_at', existing_type=kamportal.models.types.UTCDateTime(timezone=True), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_quotations_request_id'), ['request_id'])
        batch_op.create_foreign_key(batch_op.f('fk_quotations_request_id_customization_requests'), 'customization_requests', ['request_id'], ['id'], ondelete='CASCADE')


def downgrade():
    op.execute("DELETE FROM quotations WHERE request_id IS NOT NULL")
    with op.batch_alter_table('quotations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_quotations_request_id_customization_requests'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_quotations_request_id'), type_='unique')
        batch_op.alter_column('requested_at', existing_type=kamportal.models.types.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column('discount', existing_type=sa.Numeric(precision=14, scale=3), nullable=False)
        batch_op.drop_column('discount_covers')
        batch_op.drop_column('discount_percent')
        batch_op.drop_column('period_days')
        batch_op.drop_column('price')
        batch_op.drop_column('request_id')
