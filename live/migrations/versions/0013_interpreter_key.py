"""A sign-language interpreter's stream key per event, given to every existing event

Revision ID: 5c2e9f71a4d3
Revises: a6a9d2e6af64
Create Date: 2026-12-07 01:10:00.000000
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5c2e9f71a4d3'
down_revision: str | None = 'a6a9d2e6af64'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interpreter_key', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    events = sa.table('events', sa.column('id', sa.Integer()),
                      sa.column('interpreter_key', sa.String()))
    for (event_id,) in connection.execute(sa.select(events.c.id)).all():
        connection.execute(events.update().where(events.c.id == event_id)
                           .values(interpreter_key=secrets.token_urlsafe(24)))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('interpreter_key', existing_type=sa.String(length=64),
                              nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('interpreter_key')
