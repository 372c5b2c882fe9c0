"""Who a citizen is, as far as the rest of the partnership may know: a pseudonymous
id and an age band, and how two referral cards are recognised as the same person."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# Upper bounds of the age bands; the last band is open (`85+`).
_BANDS = ((0, 17), (18, 29), (30, 44), (45, 54), (55, 64), (65, 74), (75, 84))
_OPEN_BAND_FROM = 85


def age_band(birth_year: int, this_year: int) -> str:
    """An age band such as `65-74` or `85+`: never the birth date itself."""
    age = this_year - birth_year
    if age < 0 or age > 130:
        return "unknown"
    for low, high in _BANDS:
        if low <= age <= high:
            return f"{low:02d}-{high:02d}"
    return f"{_OPEN_BAND_FROM}+"


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: `Åse` and `ase` compare equal."""
    # Compatibility forms (𝘈, ﬁ) first, then case, then accents: each step may expose the next.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_name(name: str) -> str:
    """Letters only, folded, in sorted order: `Hansen, Frida` == `frida  HANSEN`."""
    return " ".join(sorted(re.findall(r"[^\W\d_]+", _fold(name))))


def normalise_address(address: str) -> str:
    """Words and numbers folded, punctuation dropped: `Storegade 12, st.` == `storegade 12 st`."""
    return " ".join(re.findall(r"[^\W_]+", _fold(address)))


def name_key(birth_year: int, name: str) -> str:
    """Index key for finding earlier referrals of a person: birth year and normalised name."""
    return hashlib.sha256(f"{birth_year}|{normalise_name(name)}".encode()).hexdigest()


@dataclass(frozen=True)
class Whereabouts:
    """Where a citizen lives, as written on a card."""

    postal_code: str
    address: str | None = None


def same_person(known: Whereabouts, card: Whereabouts) -> bool:
    """Two cards with the same birth year and name are one person when they live at
    the same address or, if no address was given on one of them, in the same postal area."""
    if known.address and card.address:
        return normalise_address(known.address) == normalise_address(card.address)
    return known.postal_code == card.postal_code
