"""Jobs (the scheduler's table) and the mail outbox

Revision ID: 3b7d52c0e8a1
Revises: e92eb0531e74
Create Date: 2026-12-06 22:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import live.models.base

revision: str = '3b7d52c0e8a1'
down_revision: str | None = '3b7d5e1c9a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = live.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('every_seconds', sa.Integer(), nullable=True),
    sa.Column('due_at', UTC, nullable=False),
    sa.Column('claimed_at', UTC, nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_run_at', UTC, nullable=True),
    sa.Column('done_at', UTC, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_jobs_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_due_at'), ['due_at'], unique=False)

    op.create_table('outbox_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('ref_kind', sa.String(length=40), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('message', sa.LargeBinary(), nullable=False),
    sa.Column('smtputf8', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTC, nullable=False),
    sa.Column('claimed_at', UTC, nullable=True),
    sa.Column('sent_at', UTC, nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mails'))
    )
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_mails_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_mails_ref', ['ref_kind', 'ref_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_mails_ref')
        batch_op.drop_index('ix_outbox_mails_due')

    op.drop_table('outbox_mails')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_due_at'))

    op.drop_table('jobs')
