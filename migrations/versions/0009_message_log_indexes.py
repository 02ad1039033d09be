"""message log indexes: the console's log of SMS in and out reads the newest first

Revision ID: 8d2f4b6a0c57
Revises: 5c1e7a9b3d20
Create Date: 2026-12-02 02:30:00

The log pages by (time, id), newest first: without these it sorted every message ever sent
for each page. One more index on each table's insert, against a scan of the whole table per
page view.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d2f4b6a0c57'
down_revision = '5c1e7a9b3d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_created_at_id', ['created_at', 'id'], unique=False)
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_received_at_id', ['received_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_received_at_id')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_created_at_id')
