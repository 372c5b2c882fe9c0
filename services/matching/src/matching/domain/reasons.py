"""Why a candidate fits: reasons as codes with parameters, rendered in the reader's language
(en, da, sv) by `brobygger_contracts.reason_texts` wherever they are shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brobygger_contracts.reason_texts import REASON_LANGUAGES, language_list, render  # noqa: F401
from matching.domain.barriers import CostTier, cost_tier, price_for, transport_need
from matching.domain.model import Candidate, CitizenProfile, Kind, Slot


@dataclass(frozen=True)
class Reason:
    """One reason as a code with its parameters (interest and language codes, whole km, kroner, slots)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params}

    def text(self, language: str = "en") -> str:
        return render(self.code, self.params, language)


def _slot(slot: Slot) -> str:
    return f"{slot.day} {slot.part}"


def reason_codes(citizen: CitizenProfile, candidate: Candidate, distance_km: float | None,
                 by_phone: bool = False) -> list[Reason]:
    """Why the candidate fits, as codes a guide's screen or message renders in the guide's language.
    `by_phone`: the pair would meet by phone or video (a phone friend), so distance is not a reason."""
    said: list[Reason] = []
    shared = sorted(citizen.interests & candidate.interests)
    if shared:
        said.append(Reason("both_enjoy" if candidate.kind is Kind.volunteer_friend else "activity_for",
                           {"interests": shared}))
    else:
        said.append(Reason("nothing_shared"))
    if by_phone:
        said.append(Reason("by_phone"))
    elif distance_km is not None and round(distance_km) == 0:  # e.g. both placed at one postal code's centroid
        said.append(Reason("same_area"))
    elif distance_km is not None:
        # Whole kilometres: finer distances, from a few known places, would help find a home.
        said.append(Reason("km", {"km": round(distance_km)}))
    elif citizen.location is None:
        said.append(Reason("citizen_unplaced", {"postal_code": citizen.postal_code}))
    else:
        said.append(Reason("candidate_unplaced"))
    common = sorted(candidate.availability & citizen.availability)
    if common:
        said.append(Reason("both_free" if candidate.kind is Kind.volunteer_friend else "meets_when_free",
                           {"slots": [_slot(s) for s in common[:3]]}))
    common_languages = citizen.languages & candidate.languages
    if common_languages:
        said.append(Reason("both_speak", {"languages": sorted(common_languages)}))
    elif candidate.languages and candidate.interpreter_available:
        said.append(Reason("interpreter"))
    said.extend(_preferences_met(citizen, candidate))
    if candidate.kind is Kind.activity:
        if citizen.needs_step_free and candidate.step_free:
            said.append(Reason("step_free"))
        if citizen.wants_accompaniment and candidate.accompaniment_welcome:
            said.append(Reason("companion"))
        if candidate.practice_community:
            said.append(Reason("practice"))
        if "hearing" in citizen.barriers and candidate.hearing_loop:
            said.append(Reason("hearing_loop"))
        said.extend(_cost(citizen, candidate))
        need = transport_need(citizen, candidate, distance_km)
        if need is not None:
            said.append(Reason("transport", {"need": need.value}))
    return said


def _cost(citizen: CitizenProfile, candidate: Candidate) -> list[Reason]:
    """The price, when stated: free, the subsidised price (money barrier) or the full one."""
    price = price_for(citizen, candidate)
    if price is None:
        return []
    if price == 0:
        return [Reason("free")]
    subsidised = cost_tier(candidate) is CostTier.subsidised and price != candidate.cost_dkk
    return [Reason("subsidised" if subsidised else "costs", {"dkk": round(price)})]


def reasons(citizen: CitizenProfile, candidate: Candidate, distance_km: float | None, language: str = "en") -> list[str]:
    """Why the candidate fits, in plain words a guide can read to the citizen."""
    return [reason.text(language) for reason in reason_codes(citizen, candidate, distance_km)]


def _preferences_met(citizen: CitizenProfile, candidate: Candidate) -> list[Reason]:
    wished, traits = citizen.preferences, candidate.traits
    if traits is None:
        return []
    said = []
    if wished.gender is not None and traits.gender == wished.gender:
        said.append(Reason("gender_as_wished", {"gender": wished.gender}))
    if wished.non_smoker and traits.smokes is False:
        said.append(Reason("non_smoker"))
    if wished.no_pets and traits.has_pets is False:
        said.append(Reason("no_pets"))
    if wished.similar_age and citizen.age_band and traits.age_band == citizen.age_band:
        said.append(Reason("similar_age", {"age_band": citizen.age_band}))
    return said
