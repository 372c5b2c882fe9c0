"""Refusals the domain gives, each with a reason a person can act on."""

from __future__ import annotations


class Refused(Exception):
    """A command breaks a rule (answered 409)."""


class NotFound(Exception):
    """The referral or citizen does not exist (answered 404)."""


class Erased(Exception):
    """The citizen's personal data was erased on request (answered 410)."""


class Forbidden(Exception):
    """The caller's organisation or role may not do this (answered 403)."""


class Hidden(NotFound):
    """The caller may not see this citizen: answered 404 exactly like an unknown one (the refusal
    does not disclose that the citizen exists), and written to the access log as refused."""

    def __init__(self, message: str, citizen_id: str, fields: tuple[str, ...], purpose: str) -> None:
        super().__init__(message)
        self.citizen_id = citizen_id
        self.fields = fields
        self.purpose = purpose
