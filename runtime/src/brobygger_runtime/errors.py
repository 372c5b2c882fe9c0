"""How a handler tells the runtime what kind of failure it met."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class PermanentError(Exception):
    """Handling this event can never succeed (a business rule refuses it).

    The event goes to the dead-letter topic with this message as its cause.
    """


def is_transient(exc: BaseException) -> bool:
    """Failures of the infrastructure, not of the event: retry until it recovers.

    The partition waits (order is kept) rather than dead-lettering events only
    because the database was briefly away.
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))
