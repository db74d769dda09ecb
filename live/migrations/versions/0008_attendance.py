"""Attendance: check-ins at the door, online attendance, anonymous audience, sent reminders

Revision ID: 8a4e2d61c0b7
Revises: 3b7d52c0e8a1
Create Date: 2026-12-07 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import live.models.base

revision: str = '8a4e2d61c0b7'
down_revision: str | None = '3b7d52c0e8a1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = live.models.base.UTCDateTime(timezone=True)


def _registration_and_event() -> list[sa.Column[int]]:
    return [
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('checkins',
    *_registration_and_event(),
    sa.Column('checked_in_at', UTC, nullable=False),
    sa.Column('checked_in_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_checkins_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_checkins_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_checkins'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_event_id'), ['event_id'], unique=False)

    op.create_table('online_attendance',
    *_registration_and_event(),
    sa.Column('joined_at', UTC, nullable=False),
    sa.Column('last_seen_at', UTC, nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_online_attendance_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_online_attendance_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_online_attendance'))
    )
    with op.batch_alter_table('online_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_online_attendance_event_id'), ['event_id'], unique=False)

    op.create_table('online_audience',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('joins', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_online_audience_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_online_audience'))
    )
    op.create_table('sent_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('sent_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['occurrence_id'], ['occurrences.id'], name=op.f('fk_sent_reminders_occurrence_id_occurrences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_sent_reminders_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_reminders')),
    sa.UniqueConstraint('key', name=op.f('uq_sent_reminders_key'))
    )
    with op.batch_alter_table('sent_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_reminders_occurrence_id'), ['occurrence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sent_reminders_registration_id'), ['registration_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sent_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_reminders_registration_id'))
        batch_op.drop_index(batch_op.f('ix_sent_reminders_occurrence_id'))
    op.drop_table('sent_reminders')
    op.drop_table('online_audience')
    with op.batch_alter_table('online_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_online_attendance_event_id'))
    op.drop_table('online_attendance')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_event_id'))
    op.drop_table('checkins')
