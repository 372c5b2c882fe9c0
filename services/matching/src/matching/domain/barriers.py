"""Barriers that count (issue 15): money decides what a citizen can be proposed and in which order,
transport what must be arranged to get there. Hearing and language live in scoring's columns."""

from __future__ import annotations

from enum import IntEnum

from brobygger_contracts.events.matching import TransportNeed
from matching.domain.model import Candidate, CitizenProfile, Kind

MONEY = "money"
HEARING = "hearing"
TRANSPORT_BARRIERS = frozenset({"transport", "distance", "mobility"})
FLEX_BEYOND_KM = 10.0
"""Further than this (or at an unknown distance) a bus ride is no answer: flex transport drives door to door."""


class CostTier(IntEnum):
    """How a candidate's price stands to a citizen with a money barrier; lower is proposed first."""

    free = 0
    subsidised = 1
    paid_only = 2


def cost_tier(candidate: Candidate) -> CostTier:
    if not candidate.cost_dkk:
        return CostTier.free
    if candidate.reduced_cost_dkk is not None and candidate.reduced_cost_dkk < candidate.cost_dkk:
        return CostTier.subsidised
    return CostTier.paid_only


def price_for(citizen: CitizenProfile, candidate: Candidate) -> float | None:
    """What the citizen would pay, whole kroner: the subsidised price for a citizen with a money barrier."""
    tier = cost_tier(candidate)
    if tier is CostTier.free:
        return 0.0 if candidate.cost_dkk is not None else None
    if tier is CostTier.subsidised and MONEY in citizen.barriers:
        return candidate.reduced_cost_dkk
    return candidate.cost_dkk


def transport_need(citizen: CitizenProfile, candidate: Candidate, distance_km: float | None) -> TransportNeed | None:
    """What must be arranged for the citizen to get to the candidate; None when nothing (a volunteer friend
    comes to the citizen; no transport barrier)."""
    barriers = TRANSPORT_BARRIERS & citizen.barriers
    if candidate.kind is Kind.volunteer_friend or not barriers:
        return None
    if "mobility" in barriers or citizen.needs_step_free:
        return TransportNeed.volunteer_driver
    if distance_km is None or distance_km > FLEX_BEYOND_KM:
        return TransportNeed.flex_transport
    return TransportNeed.accompanied_bus_ride
