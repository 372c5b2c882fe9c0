"""Property-based run against the OpenAPI document: generated requests never give a 5xx.

Hypothesis generates the cases (valid cards with one to three fields replaced
by arbitrary JSON, hostile strings, removed or added; arbitrary JSON bodies;
arbitrary path parameters) for every operation the OpenAPI document lists; they
are then sent to the running service on the real broker and database.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral_cards import make_card

HOSTILE = [
    "", " ", "\x00", "a\x00b", "\ud800", "\u202eevil", "💔" * 50, "x" * 10_000, "'; DROP TABLE citizens; --",
    "<script>alert(1)</script>", "${jndi:ldap://x}", "{{7*7}}", "../../etc/passwd", "NaN", "-1", "1e309",
    "2026-13-45T99:99:99Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "2026-01-05T10:00:00",
]
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40), st.sampled_from(HOSTILE),
)
json_values = st.recursive(leaves, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=12), kids, max_size=3), max_leaves=8)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, prefix + (index,))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """The base document with one to three places replaced, removed or given an extra key."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            return draw(json_values)
        *parents, leaf = draw(st.sampled_from(paths))
        target = doc
        for part in parents:
            target = target[part]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace":
            target[leaf] = draw(json_values)
        elif action == "remove" and isinstance(target, dict):
            target.pop(leaf)
        elif isinstance(target, dict):
            target[draw(st.text(max_size=8))] = draw(json_values)
    return doc


TRIAGE = {"decision": "professional", "triaged_by": "guide-1", "escalation_reason": "dementia", "receiving_unit": "demens-team", "note": "ok"}
CONSENT = {"organisations": ["varde-kommune", "abf"], "given_by": "citizen"}
# Valid cards with arbitrary names and years: they reach the database with any Unicode.
named_cards = st.builds(
    lambda name, year, code: make_card(citizen__name=name, citizen__birth_year=year, citizen__postal_code=code),
    st.text(min_size=1, max_size=130), st.integers(1890, 2030), st.from_regex(r"\A[0-9]{3,5}\Z"),
)
bodies = {
    ("post", "/referrals"): st.one_of(named_cards, mutated(make_card()), json_values),
    ("post", "/referrals/batch"): st.lists(st.one_of(mutated(make_card()), json_values), max_size=3),
    ("post", "/referrals/{referral_id}/triage"): st.one_of(mutated(TRIAGE), json_values),
    ("put", "/citizens/{citizen_id}/consent"): st.one_of(mutated(CONSENT), json_values),
}
path_params = st.one_of(st.just("KNOWN"), st.uuids().map(str), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
query_values = st.one_of(st.integers(min_value=-(10**12), max_value=10**12).map(str), st.text(max_size=10))


def generate_cases(operations: list[tuple[str, str]], per_operation: int) -> list[tuple[str, str, Any, dict, str]]:
    cases: list[tuple[str, str, Any, dict, str]] = []
    for method, path in operations:
        _collect(cases, method, path, per_operation)
    return cases


def _collect(cases: list, method: str, path: str, examples: int) -> None:
    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies.get((method, path), st.none()), param=path_params, limit=query_values, offset=query_values)
    def collect(body: Any, param: str, limit: str, offset: str) -> None:
        cases.append((method, path, body, {"limit": limit, "offset": offset}, param))

    collect()


async def test_generated_requests_never_give_a_server_error(referral_service):
    client = referral_service.client
    known = (await client.post("/referrals", json=make_card())).json()
    spec = (referral_service.app.openapi())
    operations = [(m, p) for p, item in spec["paths"].items() for m in item if not p.startswith("/health")]
    operations.sort(key=lambda op: op[0] == "delete")  # erase the known citizen last
    assert len(operations) == 17, operations  # 15 of its own, the runtime's access log and personal data
    cases = generate_cases(operations, per_operation=60)
    statuses: dict[int, int] = {}
    for method, path, body, query, param in cases:
        if param == "KNOWN":
            param = known["citizen_id"] if "citizen_id" in path else known["referral_id"]
        url = re.sub(r"\{[a-z_]+\}", lambda _m: quote(param, safe=""), path)
        content = json.dumps(body).encode() if body is not None else None
        response = await client.request(method.upper(), url, content=content, params=query if method == "get" else None,
                                        headers={"content-type": "application/json"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (method, url, body, response.text)
        try:
            response.json()  # always a JSON answer
        except ValueError:
            raise AssertionError(("not JSON", method, url, body, response.status_code, response.text[:500])) from None
    print(f"\n{len(cases)} generated requests over {len(operations)} operations; statuses {sorted(statuses.items())}")
    assert len(cases) >= 14 * 50
    assert statuses.get(422, 0) > 0 and (statuses.get(201, 0) + statuses.get(200, 0)) > 0
