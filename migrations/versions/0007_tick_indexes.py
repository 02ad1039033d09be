"""tick indexes: the open check-ins by closing time, the service's own messages by day

Revision ID: 2e8a6c4f9d13
Revises: 9b3d5f7e2a16
Create Date: 2026-12-02 00:30:00

The clock looks every minute for open check-ins past their close, and for each batch it writes
counts a person's service-started messages of the day: both scanned whole tables before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2e8a6c4f9d13'
down_revision = '9b3d5f7e2a16'
branch_labels = None
depends_on = None

STARTED = "kind IN ('reminder', 'invitation', 'digest', 'broadcast', 'escalation')"


def upgrade():
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_open_closes_at', ['closes_at'], unique=False, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_started_not_before', ['not_before'], unique=False, sqlite_where=sa.text(STARTED), postgresql_where=sa.text(STARTED))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_started_not_before')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_open_closes_at')
