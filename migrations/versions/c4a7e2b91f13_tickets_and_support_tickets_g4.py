"""Tickets behind an adapter, and support tickets escalated to Jira with their SLA (G4)

Revision ID: c4a7e2b91f13
Revises: c5a1c0de0013
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
import kamportal.models.types


# revision identifiers, used by Alembic.
revision = 'c4a7e2b91f13'
down_revision = 'c5a1c0de0013'
branch_labels = None
depends_on = None


def upgrade():
    # The portal's own tickets (TICKETS_ADAPTER=portal), numbered per project.
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project', sa.String(length=10), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('comments', sa.JSON(), nullable=False),
    sa.Column('created_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('project', 'number', name='uq_tickets_project_number')
    )

    # G4: a client's technical problem escalated to the support team.
    op.create_table('support_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('ticket_key', sa.String(length=40), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('summary', sa.String(length=255), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('opened_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('sla_due_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sla_flagged_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('synced_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', kamportal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_support_tickets_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_support_tickets_opened_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_tickets')),
    sa.UniqueConstraint('ticket_key', name=op.f('uq_support_tickets_ticket_key'))
    )
    with op.batch_alter_table('support_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_tickets_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_support_tickets_open_due', ['closed_at', 'sla_due_at'], unique=False)

    # G4: the support SLA by priority, a team setting; existing teams get the model's
    # defaults (calendar hours). Plain ADD COLUMN, no table copy.
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_sla_highest_hours', sa.Integer(), nullable=False, server_default='4'))
        batch_op.add_column(sa.Column('support_sla_high_hours', sa.Integer(), nullable=False, server_default='8'))
        batch_op.add_column(sa.Column('support_sla_medium_hours', sa.Integer(), nullable=False, server_default='24'))
        batch_op.add_column(sa.Column('support_sla_low_hours', sa.Integer(), nullable=False, server_default='72'))
        batch_op.add_column(sa.Column('support_sla_lowest_hours', sa.Integer(), nullable=False, server_default='120'))


def downgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('support_sla_lowest_hours')
        batch_op.drop_column('support_sla_low_hours')
        batch_op.drop_column('support_sla_medium_hours')
        batch_op.drop_column('support_sla_high_hours')
        batch_op.drop_column('support_sla_highest_hours')

    with op.batch_alter_table('support_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_support_tickets_open_due')
        batch_op.drop_index(batch_op.f('ix_support_tickets_client_id'))
    op.drop_table('support_tickets')
    op.drop_table('tickets')
