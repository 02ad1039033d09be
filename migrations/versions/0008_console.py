"""console: facilities can be deactivated; a flow version records who published it and why

Revision ID: 5c1e7a9b3d20
Revises: 2e8a6c4f9d13
Create Date: 2026-12-02 02:00:00

The admin console deactivates facilities rather than deleting them (check-ins and answers keep
pointing at them), and its flows page shows who published each version and, for a rollback,
which version it restored.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a9b3d20'
down_revision = '2e8a6c4f9d13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('flow_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('flow_versions', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('published_by')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_column('active')
