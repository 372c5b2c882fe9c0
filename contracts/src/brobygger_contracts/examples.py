"""One valid example payload per event type, for tests and documentation.

Optional and nested values are filled in too, so that a round trip of every
example passes through every field type the catalogue uses.
"""

from __future__ import annotations

from typing import Any

from brobygger_contracts import Event

CITIZEN = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
OTHER = "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
WHEN = "2025-03-04T10:15:30.123456Z"
SCORE = {"lack_companionship": 2, "left_out": 3, "isolated": 2}
SLOTS = [{"day": "tue", "part": "morning"}, {"day": "sat", "part": "afternoon"}]
BOX = {"v": 1, "alg": "A256GCM", "nonce": "AAECAwQFBgcICQoL", "ciphertext": "c2VhbGVkIGJ5IHRoZSBleGFtcGxlIG9ubHk="}
"""A well-formed box (its ciphertext opens under no key): the wire shape of `sealed`."""

PAYLOADS: dict[str, dict[str, Any]] = {
    "ReferralReceived": {
        "referral_id": OTHER, "citizen_id": CITIZEN, "consented_orgs": ["varde-kommune", "red-cross"],
        "received_at": WHEN, "sealed": BOX,
    },
    "ReferralTriaged": {
        "referral_id": OTHER, "citizen_id": CITIZEN, "decision": "bridge", "triaged_by": "guide-7",
        "triaged_at": WHEN,
    },
    "ReferralEscalated": {
        "referral_id": OTHER, "citizen_id": CITIZEN, "escalated_at": WHEN, "sealed": BOX,
    },
    "ConsentChanged": {
        "citizen_id": CITIZEN, "consented_orgs": ["varde-kommune"], "removed": ["red-cross"], "changed_at": WHEN,
    },
    "CitizenErased": {"citizen_id": CITIZEN, "erased_at": WHEN},
    "VolunteerRegistered": {
        "volunteer_id": OTHER, "org": "red-cross", "capacity": 2, "trained": True, "registered_at": WHEN,
    },
    "ActivityPublished": {
        "activity_id": OTHER, "org": "dane-age", "name": "Gåfællesskab Varde", "interests": ["walking"],
        "postal_code": "6800", "latitude": 55.62, "longitude": 8.48, "schedule": SLOTS, "seats": 4,
        "step_free": True, "published_at": WHEN,
    },
    "MatchProposed": {
        "proposal_id": OTHER, "citizen_id": CITIZEN, "kind": "activity", "candidate_id": OTHER,
        "proposing_org": "varde-kommune", "score": 0.82, "rank": 1, "proposed_at": WHEN, "sealed": BOX,
    },
    "MatchAccepted": {
        "proposal_id": OTHER, "citizen_id": CITIZEN, "kind": "volunteer_friend", "candidate_id": OTHER,
        "accepted_at": WHEN,
    },
    "MatchDeclined": {
        "proposal_id": OTHER, "citizen_id": CITIZEN, "kind": "activity", "candidate_id": OTHER,
        "declined_at": WHEN, "sealed": BOX,
    },
    "GroupProposed": {
        "group_proposal_id": OTHER, "interest": "baking", "postal_code": "6800", "citizen_ids": [CITIZEN, OTHER],
        "proposing_org": "varde-kommune", "proposed_at": WHEN,
    },
    "GuideAssigned": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "guide_id": "guide-7", "guide_org": "varde-kommune",
        "assigned_at": WHEN,
    },
    "JourneyStateChanged": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "step": "contact", "from_state": "referred",
        "to_state": "contacted", "changed_at": WHEN,
    },
    "NeedsClarified": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "guide_id": "guide-7", "clarified_at": WHEN, "sealed": BOX,
    },
    "FirstVisitPlanned": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "proposal_id": OTHER, "companion_id": "vol-12",
        "planned_at": WHEN, "sealed": BOX,
    },
    "FirstVisitAccompanied": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "proposal_id": OTHER, "companion": "volunteer",
        "companion_id": "vol-12", "hours": 2.5, "visited_at": WHEN,
    },
    "FollowUpDue": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "guide_id": "guide-7", "kind": "follow_up", "due_at": WHEN,
    },
    "GroupFormed": {
        "group_id": OTHER, "group_proposal_id": OTHER, "interest": "baking", "postal_code": "6800",
        "facilitator_id": "fac-3", "member_citizen_ids": [CITIZEN], "formed_at": WHEN,
    },
    "GroupBecameSelfRunning": {
        "group_id": OTHER, "facilitator_id": "fac-3", "reason": "meetings_without_facilitator",
        "meetings_held": 6, "became_self_running_at": WHEN,
    },
    "JourneyCompleted": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "outcome": "completed", "days_in_journey": 120,
        "completed_at": WHEN, "sealed": BOX,
    },
    "ParticipationEnded": {
        "citizen_id": CITIZEN, "group_id": OTHER, "group_proposal_id": OTHER, "reason": "stopped_attending",
        "ended_at": WHEN,
    },
    "NotificationSent": {
        "notification_id": OTHER, "source_event_id": "evt-1", "recipient_id": "guide-7", "recipient_role": "guide",
        "channel": "email", "template": "referral_received", "language": "da", "sent_at": WHEN,
    },
    "NotificationFailed": {
        "notification_id": OTHER, "source_event_id": "evt-1", "recipient_id": "guide-7", "channel": "sms",
        "cause": "smtp 451 try again later", "attempts": 5, "failed_at": WHEN,
    },
    "VolunteerAsked": {
        "proposal_id": OTHER, "citizen_id": CITIZEN, "volunteer_id": OTHER, "org": "red-cross", "asked_at": WHEN,
        "answer_due": WHEN, "sealed": BOX,
    },
    "FriendshipAgreed": {
        "friendship_id": OTHER, "proposal_id": OTHER, "citizen_id": CITIZEN, "volunteer_id": OTHER,
        "rhythm": "weekly", "channel": "in_person", "agreed_at": WHEN, "sealed": BOX,
    },
    "FriendshipCheckInDue": {
        "friendship_id": OTHER, "citizen_id": CITIZEN, "volunteer_id": OTHER, "started_at": WHEN, "due_at": WHEN,
    },
    "FriendshipEnded": {
        "friendship_id": OTHER, "proposal_id": OTHER, "citizen_id": CITIZEN, "volunteer_id": OTHER,
        "side": "citizen", "reason": "moved", "started_at": WHEN, "ended_at": WHEN,
    },
    "FollowUpRecorded": {
        "journey_id": OTHER, "citizen_id": CITIZEN, "guide_id": "guide-7", "outcome": "stopped",
        "recorded_at": WHEN, "sealed": BOX,
    },
}


SEALED_PARTS: dict[str, dict[str, Any]] = {
    "ReferralReceived": {
        "source": "home_care", "referrer_org": "varde-kommune", "urgency": "soon", "postal_code": "6800",
        "age_band": "75-84", "language": "da", "lives_alone": True,
    },
    "ReferralEscalated": {"reason": "dementia", "receiving_unit": "varde-demens"},
    "MatchProposed": {"candidate_name": "Gåfællesskab Varde", "reasons": ["both enjoy walking", "1 km away"],
                      "distance_km": 1},
    "MatchDeclined": {"reason": "too_far"},
    "VolunteerAsked": {"postal_code": "6800", "age_band": "80-89", "languages": ["da"],
                       "shared_interests": ["baking_and_cooking"], "shared_times": SLOTS, "distance_km": 2, "channel": "in_person"},
    "FriendshipAgreed": {"place": "Lillemor's kitchen, Varde"},
    "NeedsClarified": {
        "interests": ["baking"], "languages": ["da"], "postal_code": "6800", "barriers": ["transport", "hearing"],
        "wishes": ["friend", "group"], "wants_accompaniment": True, "max_travel_km": 3.0,
        "availability": SLOTS, "baseline": SCORE,
    },
    "FirstVisitPlanned": {"visit_at": WHEN, "companion": "volunteer"},
    "JourneyCompleted": {"baseline": SCORE, "final": {"lack_companionship": 1, "left_out": 1, "isolated": 2},
                         "relatives_involved": True},
    "FollowUpRecorded": {"reason": "health"},
}
"""One example plaintext per event type with a sealed part: what its box holds once opened."""


def sample(event: type[Event]) -> Event:
    """The example of an event type, as a model."""
    return event.model_validate(PAYLOADS[event.__name__])



def sample_opened(event: type[Event]) -> Event:
    """The example of an event type with a sealed part, built as its publisher builds it: every
    field given, the sealed ones held as its opened part (`sealed` still empty)."""
    clear = {k: v for k, v in PAYLOADS[event.__name__].items() if k != "sealed"}
    return event(**clear, **SEALED_PARTS[event.__name__])
