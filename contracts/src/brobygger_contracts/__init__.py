"""Brobygger's wire contracts: the event catalogue, the CloudEvents envelope, the topics.

Models only; no logic beyond (de)serialisation and no I/O.
"""

from brobygger_contracts.base import Event, WireModel, read_payload
from brobygger_contracts.catalogue import (
    EVENTS,
    EVENTS_BY_TYPE,
    TopicName,
    dead_letter_topic,
    parse_topic,
    partnership_topics,
    subscription_pattern,
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
    "TopicName",
    "WireModel",
    "dead_letter_topic",
    "parse_topic",
    "partnership_topics",
    "read_payload",
    "subscription_pattern",
    "topic_for",
    "topic_of_service",
    "validation_summary",
]
