"""Refusals a use case answers with; the API turns them into 404 and 409."""


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """A domain rule says no, with the reason."""
