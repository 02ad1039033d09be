"""outbox delivery rule: possible duplicates instead of 'unknown', early delivery reports

Revision ID: 3c1e0d7a9b42
Revises: 87d96d8721b7
Create Date: 2026-12-01 23:30:00

A row left 'unknown' (a worker died while its request was out) used to be never sent again;
the delivery rule is now at least once, so such rows go back to 'pending' marked as possible
duplicates, exactly as the sweeper treats a row it finds stuck in 'sending'.
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '3c1e0d7a9b42'
down_revision = '87d96d8721b7'
branch_labels = None
depends_on = None

OLD_STATUSES = "('pending', 'queued', 'sending', 'sent', 'submitted', 'buffered', 'success', 'failed', 'rejected', 'expired', 'absent', 'cancelled', 'unknown')"
NEW_STATUSES = "('pending', 'queued', 'sending', 'sent', 'submitted', 'buffered', 'success', 'failed', 'rejected', 'expired', 'absent', 'cancelled')"

outbox = sa.table(
    'outbox',
    sa.column('status', sa.String),
    sa.column('possible_duplicate', sa.Boolean),
    sa.column('failure_reason', sa.String),
)


def upgrade():
    op.create_table('early_delivery_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('received_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_delivery_reports'))
    )
    with op.batch_alter_table('early_delivery_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_delivery_reports_gateway_id'), ['gateway_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('possible_duplicate', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.execute(
        outbox.update()
        .where(outbox.c.status == 'unknown')
        .values(status='pending', possible_duplicate=True, failure_reason='worker stopped mid-request; sent again')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_status'), f"status IN {NEW_STATUSES}")


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_status'), f"status IN {OLD_STATUSES}")
        batch_op.drop_column('possible_duplicate')

    with op.batch_alter_table('early_delivery_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_delivery_reports_gateway_id'))

    op.drop_table('early_delivery_reports')
