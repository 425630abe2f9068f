from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_models_and_migrations_agree(app_ctx):
    """The migrated schema is exactly what the models describe (no pending autogenerate)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_first_migration_creates_the_audit_chain_head(app_ctx):
    """The chain head exists from the start, at the genesis hash."""
    from portal.audit.models import GENESIS_HASH, AuditChainHead

    head = db.session.get(AuditChainHead, 1)
    assert (head.sequence, head.entry_hash) == (0, GENESIS_HASH)


def test_migrations_downgrade_to_nothing_and_back(app_ctx):
    """Every migration can be undone and redone (the schema is reproducible both ways)."""
    from flask_migrate import downgrade, upgrade

    downgrade(revision="base")
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
