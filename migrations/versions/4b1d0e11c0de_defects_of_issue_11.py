"""The defects found by trying the portal as its users would (issue 11)

Revision ID: 4b1d0e11c0de
Revises: dab956bc7ca1
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import kamportal.models.types


# revision identifiers, used by Alembic.
revision = '4b1d0e11c0de'
down_revision = 'dab956bc7ca1'
branch_labels = None
depends_on = None


def upgrade():
    # Sessions and sign-in: one record per sign-in, named by the session and remember
    # cookies, instead of one token per user.
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('remembered', sa.Boolean(), nullable=False),
    sa.Column('created_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
    # Not batch mode: on SQLite that copies and drops `users`, and with foreign keys on the
    # drop deletes every row that cascades from a user. SQLite 3.35+ drops a plain column.
    op.drop_column('users', 'session_token')

    # Money (R7): a wire transfer keeps what the ACM reported beside what finance received
    # and when, or finance's rejection with its reason. Nothing references `payments`, so
    # the batch copy SQLite needs for the foreign key deletes nothing.
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_amount', sa.Numeric(precision=14, scale=3), nullable=True))
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rejected_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rejected_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejection_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payments_rejected_by_id_users'), 'users', ['rejected_by_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE payments SET reported_amount = amount WHERE method = 'wire'")


def downgrade():
    # Money (R7).
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payments_rejected_by_id_users'), type_='foreignkey')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('rejected_at')
        batch_op.drop_column('rejected_by_id')
        batch_op.drop_column('received_on')
        batch_op.drop_column('reported_amount')

    # Sessions and sign-in: everyone signs in again (an empty token matches no cookie).
    op.add_column('users', sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
