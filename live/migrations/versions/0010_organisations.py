"""The registry of public bodies: organisation numbers, aliases, region quotas, quota flags

Revision ID: 5c1e0a9d7f42
Revises: 8a41c6d2f0b7
Create Date: 2026-12-07 00:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import live.models.base

revision: str = '5c1e0a9d7f42'
down_revision: str | None = '8a41c6d2f0b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = live.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(length=8), server_default='', nullable=False))
        batch_op.add_column(sa.Column('county', sa.String(length=2), server_default='', nullable=False))
        batch_op.add_column(sa.Column('orgnr', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('in_registry', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reviewed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_organisations_orgnr'), ['orgnr'])
        batch_op.create_foreign_key(
            batch_op.f('fk_organisations_merged_into_id_organisations'), 'organisations',
            ['merged_into_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=120), nullable=True))
    op.create_table('organisation_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_aliases_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_aliases')),
    sa.UniqueConstraint('key', 'organisation_id', name=op.f('uq_organisation_aliases_key'))
    )
    with op.batch_alter_table('organisation_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_aliases_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_aliases_organisation_id'), ['organisation_id'], unique=False)
    op.create_table('quota_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_quota_flags_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_quota_flags_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_flags')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_quota_flags_registration_id'))
    )
    with op.batch_alter_table('quota_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quota_flags_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_table('quota_flags')
    op.drop_table('organisation_aliases')
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.drop_column('region')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organisations_merged_into_id_organisations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_organisations_orgnr'), type_='unique')
        for column in ('merged_into_id', 'reviewed', 'in_registry', 'orgnr', 'county', 'number'):
            batch_op.drop_column(column)
