"""Brobygger's wire contracts: the event catalogue, the CloudEvents envelope, the topics.

Models only; no logic beyond (de)serialisation and no I/O.
"""

from brobygger_contracts.base import Event, WireModel, read_payload
from brobygger_contracts.catalogue import (
    EVENTS,
    EVENTS_BY_TYPE,
    all_topics,
    dead_letter_topic,
    topic_for,
    topic_of_service,
)
from brobygger_contracts.envelope import DeadLetterCause, DeadLetterHeaders, Envelope, EnvelopeError, validation_summary

__all__ = [
    "DeadLetterCause",
    "DeadLetterHeaders",
    "EVENTS",
    "EVENTS_BY_TYPE",
    "Envelope",
    "EnvelopeError",
    "Event",
    "WireModel",
    "all_topics",
    "dead_letter_topic",
    "read_payload",
    "topic_for",
    "topic_of_service",
    "validation_summary",
]
