"""Who is calling, as a verified token says."""

from __future__ import annotations

from dataclasses import dataclass

from brobygger_runtime.auth.roles import Role


@dataclass(frozen=True)
class Caller:
    subject: str
    """The token's `sub`: a person's stable id at their provider, or a service client's."""
    organisation: str
    """The organisation the token's issuer is trusted for (TRUSTED_ISSUERS), never a claim."""
    roles: frozenset[Role]
    issuer: str
    client_id: str | None = None
    """The OAuth client the token was issued to (`azp`/`client_id`)."""
    display_name: str | None = None
    """A person's name as their provider states it (`name`, else `preferred_username`)."""

    def has(self, *roles: Role | str) -> bool:
        """Holds any of `roles`."""
        return any(Role(r) in self.roles for r in roles)

    @property
    def is_service(self) -> bool:
        return Role.service in self.roles

    def describe(self) -> str:
        """For logs and the access log: who, for which organisation, in which roles; no secret."""
        roles = ",".join(sorted(self.roles)) or "-"
        return f"{self.subject}@{self.organisation} [{roles}]"
