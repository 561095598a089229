"""Flask extensions, created unbound and initialised in create_app."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event

# Named constraints so Alembic can drop and recreate them on every dialect (SQLite batch mode).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
csrf = CSRFProtect()


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL: the web process and the workers read while another writes, instead of failing
    # with "database is locked"; FULL keeps every commit on disk before it returns.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    # SQLite ignores foreign keys unless asked, and the schema relies on them.
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def configure_sqlite(app):
    """Pragmas for the portal's own SQLite database (never for a store's: those are not ours)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
