"""Column types the portal's models share: time always in UTC, JSON whose None is NULL."""
from datetime import datetime, timezone

from sqlalchemy.types import DateTime, TypeDecorator

from .extensions import db

# None is SQL NULL, not the JSON value null: a field cleared for privacy (minimised, sent,
# purged) must look cleared to SQL too (`IS NULL`), on SQLite and PostgreSQL alike.
JSON = db.JSON(none_as_null=True)


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC: SQLite keeps no zone, PostgreSQL would convert."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)
