"""Topic names: one per partnership, publishing service, publishing
organisation and major version (DESIGN.md section 2), read back unambiguously."""

from __future__ import annotations

import re

import pytest

from brobygger_contracts import parse_topic, partnership_topics, subscription_pattern, topic_for, topic_of_service
from brobygger_contracts.catalogue import TopicName, check_id, dead_letter_topic
from brobygger_contracts.events.journey import GuideAssigned
from brobygger_contracts.events.referral import CitizenErased


def test_a_topic_names_its_partnership_service_organisation_and_major_version():
    assert topic_for(CitizenErased, "varde", "varde-kommune") == "brobygger.varde.referral.varde-kommune.v1"
    assert topic_of_service("matching", "varde", "red-cross", version=2) == "brobygger.varde.matching.red-cross.v2"
    assert dead_letter_topic(topic_for(GuideAssigned, "varde", "abf")) == "brobygger.varde.journey.abf.v1.dlt"


def test_parse_topic_reads_back_what_topic_of_service_wrote():
    assert parse_topic("brobygger.varde.referral.varde-kommune.v1") == TopicName("varde", "referral", "varde-kommune", 1, False)
    assert parse_topic("brobygger.varde.matching.red-cross.v2.dlt") == TopicName("varde", "matching", "red-cross", 2, True)
    assert parse_topic("brobygger.varde.matching.red-cross.v2.dlt").event_topic == "brobygger.varde.matching.red-cross.v2"


@pytest.mark.parametrize("name", [
    "brobygger.referral.v2",  # the shape of the old shared topics
    "brobygger.varde.referral.v1",
    "brobygger.varde.billing.varde-kommune.v1",  # no such service
    "brobygger.varde.referral.Varde.v1",  # upper case
    "brobygger.va.rde.referral.varde-kommune.v1",  # a dot inside an id
    "brobygger.varde.referral.varde-kommune.v0",
    "brobygger.varde.referral.varde-kommune.v1.dlt.dlt",
    "brobygger.varde.referral.varde-kommune.v1x",
    "other.varde.referral.varde-kommune.v1",
    "",
])
def test_parse_topic_refuses_what_is_not_a_publishers_topic(name):
    assert parse_topic(name) is None


@pytest.mark.parametrize("bad", ["Varde", "va.rde", "-varde", "v", "varde_kommune", "x" * 64, "varde kommune", ""])
def test_ids_that_could_not_be_part_of_a_topic_name_are_refused_with_the_reason(bad):
    with pytest.raises(ValueError, match="lowercase letters, digits and hyphens"):
        check_id("PARTNERSHIP_ID", bad)
    with pytest.raises(ValueError):
        topic_of_service("referral", "varde", bad)


def test_settings_refuse_an_id_with_a_dot_clearly(monkeypatch):
    from pydantic import ValidationError

    from brobygger_runtime.settings import ServiceSettings

    with pytest.raises(ValidationError, match="no dots"):
        ServiceSettings(service_name="journey", partnership_id="varde.evil")
    with pytest.raises(ValidationError, match="ORG_ID"):
        ServiceSettings(service_name="journey", org_id="Red.Cross")


def test_the_subscription_matches_every_organisation_of_the_partnership_and_nothing_else():
    pattern = re.compile(subscription_pattern("varde", ["referral", "journey"]))
    assert pattern.match("brobygger.varde.referral.varde-kommune.v1")
    assert pattern.match("brobygger.varde.journey.a-newcomer.v1")  # an organisation that joins later
    assert not pattern.match("brobygger.varde.matching.red-cross.v1")  # a service not read
    assert not pattern.match("brobygger.varde.referral.varde-kommune.v1.dlt")
    assert not pattern.match("brobygger.varde2.referral.varde-kommune.v1")  # another partnership
    assert not pattern.match("brobygger.vard.referral.varde-kommune.v1")
    assert not pattern.match("brobygger.varde.referral.varde-kommune.v2")  # a major version not handled


def test_a_partnerships_topics_follow_who_runs_what():
    topics = partnership_topics("varde", {"varde-kommune": ["referral", "matching"], "red-cross": ["matching"], "abf": []})
    assert topics == sorted([
        "brobygger.varde.referral.varde-kommune.v1", "brobygger.varde.referral.varde-kommune.v1.dlt",
        "brobygger.varde.matching.varde-kommune.v1", "brobygger.varde.matching.varde-kommune.v1.dlt",
        "brobygger.varde.matching.red-cross.v1", "brobygger.varde.matching.red-cross.v1.dlt",
    ])
