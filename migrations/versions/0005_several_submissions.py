"""several submissions per check-in: the first is the reference, later ones are kept whole

Revision ID: 7a4c2e9d1b35
Revises: 5d2f8b61c0a4
Create Date: 2026-12-02 00:00:00

Two colleagues answering the same check-in at once both have their answers stored: the first
completed submission is the period's reference (what digests, DETAIL and run charts read), a
later one is kept with `reference` false. Existing answers are all references.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a4c2e9d1b35'
down_revision = '5d2f8b61c0a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.drop_constraint(op.f('uq_answers_checkin_id'), type_='unique')
        batch_op.create_index('uq_answers_reference', ['checkin_id', 'question_key'], unique=True, sqlite_where=sa.text('reference'), postgresql_where=sa.text('reference'))
        batch_op.create_index('ix_answers_checkin_id', ['checkin_id'], unique=False)


def downgrade():
    op.execute("DELETE FROM answers WHERE NOT reference")
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_checkin_id')
        batch_op.drop_index('uq_answers_reference')
        batch_op.create_unique_constraint(op.f('uq_answers_checkin_id'), ['checkin_id', 'question_key'])
        batch_op.drop_column('reference')
