"""The journey's state machine: pure unit and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.domain.errors import IllegalTransition
from journey.domain.journey import EXIT_STEPS, TRANSITIONS, State, Step, allowed_steps, next_state

S = State

# The rules written out by hand, independently of the table, so a slip in either shows.
EXPECTED: dict[State, dict[Step, State]] = {
    S.referred: {Step.contact: S.contacted, Step.clarify: S.clarified, Step.escalate: S.exited, Step.refuse: S.exited},
    S.contacted: {Step.contact: S.contacted, Step.clarify: S.clarified, Step.escalate: S.exited,
                  Step.refuse: S.exited, Step.drop_out: S.exited},
    S.clarified: {Step.contact: S.clarified, Step.clarify: S.clarified, Step.propose: S.matching,
                  Step.accept: S.match_accepted, Step.decline: S.matching, Step.escalate: S.exited,
                  Step.refuse: S.exited, Step.drop_out: S.exited, Step.ask_again: S.clarified},
    S.matching: {Step.contact: S.matching, Step.clarify: S.clarified, Step.propose: S.matching,
                 Step.accept: S.match_accepted, Step.decline: S.matching, Step.escalate: S.exited,
                 Step.refuse: S.exited, Step.drop_out: S.exited, Step.ask_again: S.matching},
    S.match_accepted: {Step.contact: S.match_accepted, Step.propose: S.match_accepted, Step.accept: S.match_accepted,
                       Step.decline: S.match_accepted, Step.fall_through: S.matching, Step.plan_visit: S.match_accepted,
                       Step.first_visit: S.first_visit, Step.escalate: S.exited, Step.refuse: S.exited, Step.drop_out: S.exited,
                       Step.ask_again: S.matching},
    S.first_visit: {Step.contact: S.first_visit, Step.propose: S.first_visit, Step.accept: S.match_accepted,
                    Step.decline: S.first_visit, Step.fall_through: S.first_visit, Step.attend: S.active, Step.complete: S.exited,
                    Step.escalate: S.exited, Step.drop_out: S.exited, Step.ask_again: S.matching},
    S.active: {Step.contact: S.active, Step.propose: S.active, Step.accept: S.match_accepted,
               Step.decline: S.active, Step.fall_through: S.active, Step.attend: S.active, Step.complete: S.exited,
               Step.escalate: S.exited, Step.drop_out: S.exited, Step.ask_again: S.matching},
    S.exited: {},
}


@pytest.mark.parametrize("state", list(State))
def test_every_step_does_exactly_what_the_rules_say(state):
    for step in Step:
        if step in EXPECTED[state]:
            assert next_state(state, step) is EXPECTED[state][step], (state, step)
        else:
            with pytest.raises(IllegalTransition) as refused:
                next_state(state, step)
            assert refused.value.state == state.value and refused.value.step == step.value


def test_the_happy_path_of_a_journey():
    state = S.referred
    for step in (Step.contact, Step.clarify, Step.propose, Step.accept, Step.first_visit, Step.attend, Step.complete):
        state = next_state(state, step)
    assert state is S.exited


def test_completed_only_after_a_first_visit_and_declined_only_before_it():
    assert {s for s in State if (s, Step.complete) in TRANSITIONS} == {S.first_visit, S.active}
    assert (S.first_visit, Step.refuse) not in TRANSITIONS and (S.active, Step.refuse) not in TRANSITIONS


def test_escalation_is_possible_from_every_open_state():
    assert all(next_state(s, Step.escalate) is S.exited for s in State if s is not S.exited)


@given(st.sampled_from(list(State)), st.sampled_from(list(Step)))
def test_a_step_is_either_in_the_table_or_refused(state, step):
    if (state, step) in TRANSITIONS:
        assert next_state(state, step) is TRANSITIONS[(state, step)]
        assert step in allowed_steps(state)
    else:
        with pytest.raises(IllegalTransition):
            next_state(state, step)
        assert step not in allowed_steps(state)


@given(st.lists(st.sampled_from(list(Step)), max_size=40))
def test_any_sequence_of_steps_keeps_the_machine_consistent(steps):
    """Walk random steps, applying the legal ones: exited is final, only exit steps lead there,
    and nothing ever leads back to referred."""
    state = S.referred
    for step in steps:
        try:
            after = next_state(state, step)
        except IllegalTransition:
            assert (state, step) not in TRANSITIONS
            continue
        if state is S.exited:
            pytest.fail("a step was allowed after exit")
        assert (after is S.exited) == (step in EXIT_STEPS)
        assert after is not S.referred
        state = after


@given(st.sampled_from(list(Step)))
def test_nothing_is_allowed_after_exit(step):
    with pytest.raises(IllegalTransition):
        next_state(S.exited, step)
