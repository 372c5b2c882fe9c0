"""How a handler tells the runtime what kind of failure it met, and which
failures of the infrastructure are worth waiting out."""

from __future__ import annotations

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes and codes that say "try again later", not "this event is bad"
# (DESIGN.md section 3): connection exceptions (08), insufficient resources
# such as too many clients (53), operator intervention such as "the database
# system is starting up" or "terminating connection" (57P), transaction
# rollback such as deadlocks and serialization failures (40), and a write in
# a read-only transaction after a failover (25006).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40")
_TRANSIENT_SQLSTATES = {"25006"}


class PermanentError(Exception):
    """Handling this event can never succeed (a business rule refuses it).

    The event goes to the dead-letter topic with this message as its cause.
    """


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE carried anywhere in the exception's chain (asyncpg raw or wrapped by SQLAlchemy)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str) and code:
            return code
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return None


def is_transient(exc: BaseException) -> bool:
    """Failures of the infrastructure, not of the event: retry until it recovers.

    The partition waits (order is kept) rather than dead-lettering events only
    because the database or the broker was briefly away.
    """
    if type(exc).__module__.startswith("asyncpg"):
        # SQLAlchemy wraps every error of a statement; a raw asyncpg error comes
        # from opening a connection (the server starting up, too many clients,
        # a database closed to connections for maintenance): never the event's fault.
        return True
    code = sqlstate_of(exc)
    if code is not None:
        return code.startswith(_TRANSIENT_SQLSTATE_PREFIXES) or code in _TRANSIENT_SQLSTATES
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True  # SQLite's "database is locked", a pool that could not connect
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, KafkaError):
        return bool(getattr(exc, "retriable", False)) or type(exc).__name__ in {"KafkaConnectionError", "KafkaTimeoutError"}
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))
