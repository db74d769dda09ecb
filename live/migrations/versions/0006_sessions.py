"""Sessions: a session version per user, and recent failed logins for the login throttle

Revision ID: 3b7d5e1c9a40
Revises: e92eb0531e74
Create Date: 2026-12-06 22:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import live.models.base

revision: str = '3b7d5e1c9a40'
down_revision: str | None = 'e92eb0531e74'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'login_attempts',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_at', live.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_attempts')),
    )


def downgrade() -> None:
    op.drop_table('login_attempts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
