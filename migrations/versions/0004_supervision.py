"""supervision: the regional role, escalation and coaching messages, the tick's done work

Revision ID: 5d2f8b61c0a4
Revises: 3c1e0d7a9b42
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '5d2f8b61c0a4'
down_revision = '3c1e0d7a9b42'
branch_labels = None
depends_on = None

OLD_ROLES = "('qi_focal_point', 'dtc', 'midwife', 'nurse', 'supervisor', 'other')"
NEW_ROLES = "('qi_focal_point', 'dtc', 'midwife', 'nurse', 'supervisor', 'regional', 'other')"
OLD_KINDS = "('reply', 'alert', 'reminder', 'invitation', 'digest', 'broadcast', 'system')"
NEW_KINDS = "('reply', 'alert', 'reminder', 'invitation', 'digest', 'broadcast', 'system', 'escalation', 'coaching')"


def upgrade():
    op.create_table('schedule_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('done_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_runs')),
    sa.UniqueConstraint('key', name=op.f('uq_schedule_runs_key'))
    )
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_workers_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_workers_role'), f"role IN {NEW_ROLES}")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_kind'), f"kind IN {NEW_KINDS}")


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_kind'), f"kind IN {OLD_KINDS}")
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_workers_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_workers_role'), f"role IN {OLD_ROLES}")
    op.drop_table('schedule_runs')
