"""A short join code per event (/j/<code>), given to every existing event

Revision ID: 8a41c6d2f0b7
Revises: 8a4e2d61c0b7
Create Date: 2026-12-07 00:30:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8a41c6d2f0b7'
down_revision: str | None = '8a4e2d61c0b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # as live.models.events.JOIN_ALPHABET


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_code', sa.String(length=12), nullable=True))
        batch_op.create_index(batch_op.f('ix_events_join_code'), ['join_code'], unique=True)
    connection = op.get_bind()
    events = sa.table('events', sa.column('id', sa.Integer()), sa.column('join_code', sa.String()))
    taken: set[str] = set()
    for (event_id,) in connection.execute(sa.select(events.c.id)).all():
        code = ""
        while not code or code in taken:
            code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        taken.add(code)
        connection.execute(events.update().where(events.c.id == event_id).values(join_code=code))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_join_code'))
        batch_op.drop_column('join_code')
