"""One signing key per organisation's issuer (RS256), generated at first
start and kept in the stack's work directory (0600) when there is one, so
tokens stay valid across restarts. `rotate()` starts signing with a new key
and keeps publishing the previous one until the next rotation."""

from __future__ import annotations

import json
import os
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"


class RealmKeys:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.current: RSAKey
        self.previous: list[RSAKey] = []
        if path is not None and path.exists():
            stored = json.loads(path.read_text())
            self.current = RSAKey.import_key(stored["current"])
            self.previous = [RSAKey.import_key(k) for k in stored.get("previous", [])]
        else:
            self.current = _new_key()
            self._save()

    @property
    def kid(self) -> str:
        return self.current.kid

    def signing_set(self) -> KeySet:
        """The private key that signs now (one key, so its kid is in every header)."""
        return KeySet([self.current])

    def public_jwks(self) -> dict:
        """What the JWKS endpoint publishes: the current key and the previous one."""
        return {"keys": [k.as_dict(private=False) for k in [self.current, *self.previous]]}

    def rotate(self) -> str:
        self.previous = [self.current]
        self.current = _new_key()
        self._save()
        return self.kid

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "current": self.current.as_dict(private=True),
            "previous": [k.as_dict(private=True) for k in self.previous],
        }
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, private=True, auto_kid=True)
