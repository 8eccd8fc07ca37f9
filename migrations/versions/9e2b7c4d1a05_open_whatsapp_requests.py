"""The WhatsApp requests not answered yet (G6), kept beside the timeline: a day reads the
open ones rather than every request ever with its replies (issue 17)

Revision ID: 9e2b7c4d1a05
Revises: 3c8d5e1f9a27
Create Date: 2026-12-06 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e2b7c4d1a05'
down_revision = '3c8d5e1f9a27'
branch_labels = None
depends_on = None

REDIRECT_TEMPLATE = 'redirect_to_email'


def upgrade():
    op.create_table(
        'open_whatsapp_requests',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['client_id'],
            ['clients.id'],
            name=op.f('fk_open_whatsapp_requests_client_id_clients'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['event_id'],
            ['timeline_events.id'],
            name=op.f('fk_open_whatsapp_requests_event_id_timeline_events'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_open_whatsapp_requests')),
    )
    with op.batch_alter_table('open_whatsapp_requests', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_open_whatsapp_requests_client_id'), ['client_id'], unique=False
        )
    # The requests open today, as services.contact_log asks the timeline.
    events = sa.table(
        'timeline_events',
        sa.column('id', sa.Integer),
        sa.column('client_id', sa.Integer),
        sa.column('kind', sa.String),
        sa.column('at', sa.DateTime),
        sa.column('detail', sa.JSON),
    )
    request = events.alias('request')
    reply = events.alias('reply')
    asked_by = request.c.detail['contact_id'].as_integer()
    answered = sa.exists().where(
        reply.c.client_id == request.c.client_id,
        reply.c.kind == 'whatsapp_sent',
        reply.c.detail['template'].as_string() == REDIRECT_TEMPLATE,
        sa.or_(
            reply.c.at > request.c.at,
            sa.and_(reply.c.at == request.c.at, reply.c.id > request.c.id),
        ),
        sa.or_(asked_by.is_(None), reply.c.detail['contact_id'].as_integer() == asked_by),
    )
    opened = sa.table(
        'open_whatsapp_requests', sa.column('event_id', sa.Integer), sa.column('client_id', sa.Integer)
    )
    op.execute(
        opened.insert().from_select(
            ['event_id', 'client_id'],
            sa.select(request.c.id, request.c.client_id).where(
                request.c.kind == 'whatsapp_received', ~answered
            ),
        )
    )


def downgrade():
    with op.batch_alter_table('open_whatsapp_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_whatsapp_requests_client_id'))
    op.drop_table('open_whatsapp_requests')
