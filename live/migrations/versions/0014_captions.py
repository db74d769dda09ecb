"""Live captions: committed caption lines, and a captioner link key per event

Revision ID: c4f7a1e2d9b3
Revises: 5c2e9f71a4d3
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import live.models.base

revision: str = 'c4f7a1e2d9b3'
down_revision: str | None = '5c2e9f71a4d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'caption_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('by', sa.String(length=80), nullable=False),
        sa.Column('started_at', live.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('at', live.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_caption_lines_event_id_events'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_caption_lines')),
        sa.UniqueConstraint('event_id', 'key', name='uq_caption_lines_key'),
        sa.UniqueConstraint('event_id', 'seq', name='uq_caption_lines_seq'),
    )
    with op.batch_alter_table('caption_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caption_lines_event_id'), ['event_id'], unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('captions_token', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    events = sa.table('events', sa.column('id', sa.Integer()),
                      sa.column('captions_token', sa.String()))
    for (event_id,) in connection.execute(sa.select(events.c.id)).all():
        connection.execute(events.update().where(events.c.id == event_id)
                           .values(captions_token=secrets.token_urlsafe(24)))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('captions_token', existing_type=sa.String(length=64),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('captions_token')
    with op.batch_alter_table('caption_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caption_lines_event_id'))
    op.drop_table('caption_lines')
