"""Client actions done under an idempotency key

Revision ID: 5e1d7a0c3f92
Revises: 5c1e0a9d7f42
Create Date: 2026-12-07 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import live.models.base

revision: str = '5e1d7a0c3f92'
down_revision: str | None = '5c1e0a9d7f42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = live.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('client_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('participant', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                            name=op.f('fk_client_actions_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_actions')),
    sa.UniqueConstraint('event_id', 'participant', 'key',
                        name=op.f('uq_client_actions_event_id'))
    )
    with op.batch_alter_table('client_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_actions_created_at'), ['created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_actions_created_at'))

    op.drop_table('client_actions')
