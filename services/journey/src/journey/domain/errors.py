"""Refusals of the journey's rules. The API answers them with 409 (404 for `NotFound`)."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the command."""


class IllegalTransition(DomainError):
    def __init__(self, state: str, step: str) -> None:
        super().__init__(f"{step} is not allowed while the journey is {state}")
        self.state = state
        self.step = step


class InvalidInput(DomainError):
    """A field's value breaks a rule the request schema cannot express (the API answers 422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidClarification(InvalidInput):
    pass


class InvalidVisitPlan(InvalidInput):
    pass


class InsufficientBalance(DomainError):
    def __init__(self, balance: float, requested: float) -> None:
        super().__init__(f"the punch card has {balance:g} hours left, {requested:g} requested; a coordinator must extend it")
        self.balance = balance
        self.requested = requested


class GroupClosed(DomainError):
    pass


class NotFound(DomainError):
    pass
