"""The leader's view at 50,000 clients: scheduled meetings by client with what is counted
of them; on PostgreSQL, what is counted of an ACM's clients in their index, the client in
the indexes of owed minutes, unpaid invoices and renewals under way, and the contacts made
by client and time

Revision ID: 76f1c29308ca
Revises: b7e41c2a9d30
Create Date: 2026-12-05 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '76f1c29308ca'
down_revision = 'b7e41c2a9d30'
branch_labels = None
depends_on = None

# Indexes given more columns (PostgreSQL's INCLUDE): (table, name, columns, included).
COVERING = (
    (
        'clients',
        'ix_clients_acm_status',
        ['acm_id', 'status'],
        ['id', 'last_contact_at', 'health_score'],
    ),
    ('minutes', 'ix_minutes_status_owed_since', ['status', 'owed_since'], ['client_id']),
    ('invoices', 'ix_invoices_status_due', ['status', 'due_on'], ['client_id']),
    ('renewals', 'ix_renewals_stage_due', ['stage', 'due_on'], ['client_id']),
)
MEETINGS_COUNTED = ['id', 'sequence', 'confirmed_sequence', 'confirmation_due_at', 'starts_at']
# The events that are a contact made (F1), as the model's index says it.
CONTACTS_PREDICATE = (
    "kind IN ('email_sent', 'followup_email', 'welcome_email_sent', 'meeting_held')"
    " OR (kind = 'call' AND (detail ->> 'outcome') = 'answered')"
)


def _postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(
            'ix_meetings_status_client',
            ['status', 'client_id'],
            unique=False,
            postgresql_include=MEETINGS_COUNTED,
        )
    if not _postgresql():
        return
    for table, name, columns, included in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=included)
    op.create_index(
        'ix_timeline_events_contacts',
        'timeline_events',
        ['client_id', 'at'],
        postgresql_where=sa.text(CONTACTS_PREDICATE),
    )


def downgrade():
    if _postgresql():
        op.drop_index('ix_timeline_events_contacts', table_name='timeline_events')
        for table, name, columns, _ in COVERING:
            op.drop_index(name, table_name=table)
            op.create_index(name, table, columns)
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_status_client')
