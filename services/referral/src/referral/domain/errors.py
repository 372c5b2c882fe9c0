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
