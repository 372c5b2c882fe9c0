"""Volunteer friendships (issue 14): the volunteer says yes too before a match is made (two-sided consent),
and the friendship that follows is agreed, logged, checked on after its first month and ended by either side
without retiring the volunteer.

Kept apart from the proposal code it hooks into (`service_layer.decisions.accept` asks the volunteer) so
that the two change independently."""
