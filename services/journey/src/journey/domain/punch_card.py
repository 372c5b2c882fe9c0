"""Punch card (klippekort): granted accompaniment hours, drawn visit by visit."""

from __future__ import annotations

from dataclasses import dataclass

from journey.domain.errors import DomainError, InsufficientBalance


@dataclass(frozen=True)
class PunchCard:
    granted: float = 0.0
    """Hours granted, including every coordinator's extension."""
    drawn: float = 0.0

    @property
    def balance(self) -> float:
        return round(self.granted - self.drawn, 2)

    def grant(self, hours: float) -> "PunchCard":
        """A grant or a coordinator's extension: both add hours to the card."""
        if hours <= 0:
            raise DomainError("granted hours must be positive")
        return PunchCard(granted=self.granted + hours, drawn=self.drawn)

    def draw(self, hours: float) -> "PunchCard":
        """Draw for one accompaniment; refused beyond the balance."""
        if hours < 0:
            raise DomainError("hours drawn cannot be negative")
        if hours > self.balance + 1e-9:
            raise InsufficientBalance(self.balance, hours)
        return PunchCard(granted=self.granted, drawn=self.drawn + hours)
