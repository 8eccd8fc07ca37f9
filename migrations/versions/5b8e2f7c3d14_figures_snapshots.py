"""Platform-wide figures kept as a sweep last computed them (the forecast and every team's
counts for finance and admins)

Revision ID: 5b8e2f7c3d14
Revises: 9e2b7c4d1a05
Create Date: 2026-12-06 04:40:00

"""
import sqlalchemy as sa
from alembic import op

import kamportal.models.types


# revision identifiers, used by Alembic.
revision = '5b8e2f7c3d14'
down_revision = '9e2b7c4d1a05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'figures_snapshots',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('computed_at', kamportal.models.types.UTCDateTime(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_figures_snapshots')),
    )


def downgrade():
    op.drop_table('figures_snapshots')
