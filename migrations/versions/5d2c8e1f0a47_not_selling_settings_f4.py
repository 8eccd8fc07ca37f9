"""Not selling (F4): the team's thresholds, and what an alert looks at

Revision ID: 5d2c8e1f0a47
Revises: 5857440de4c5
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2c8e1f0a47'
down_revision = '5857440de4c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_selling_days', sa.Integer(), nullable=False, server_default='7'))
        batch_op.add_column(sa.Column('not_selling_drop_percent', sa.Integer(), nullable=False, server_default='50'))

    with op.batch_alter_table('not_selling_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('since_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('baseline_gmv', sa.Numeric(precision=14, scale=3, asdecimal=True), nullable=True))


def downgrade():
    with op.batch_alter_table('not_selling_alerts', schema=None) as batch_op:
        batch_op.drop_column('baseline_gmv')
        batch_op.drop_column('since_day')

    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('not_selling_drop_percent')
        batch_op.drop_column('not_selling_days')
