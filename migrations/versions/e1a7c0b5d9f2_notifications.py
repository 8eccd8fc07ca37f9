"""Notifications in the header (issue 14): what a user newly owes

Revision ID: e1a7c0b5d9f2
Revises: 7c41d9e2b6a3
Create Date: 2026-12-05 10:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
import kamportal.models.types


# revision identifiers, used by Alembic.
revision = 'e1a7c0b5d9f2'
down_revision = '7c41d9e2b6a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('created_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)
        batch_op.create_index('uq_notifications_user_key', ['user_id', 'key'], unique=True)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('uq_notifications_user_key')
        batch_op.drop_index('ix_notifications_user_read')

    op.drop_table('notifications')
