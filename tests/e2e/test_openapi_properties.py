"""Property-based run against every service's OpenAPI document, with valid
tokens: Schemathesis generates requests from each operation's schema (bodies,
query and path parameters) and sends them over HTTP to the services running
as processes on the real broker and PostgreSQL. No answer may be a 5xx."""

from __future__ import annotations

import asyncio
import os
from collections import Counter

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

ALL_ROLES = ("referrer", "guide", "coordinator", "volunteer", "steering", "operator", "service")
# CI runs a fixed, derandomised set; BROBYGGER_FUZZ_EXAMPLES=<n> explores n fresh random cases per operation.
EXAMPLES_PER_OPERATION = int(os.environ.get("BROBYGGER_FUZZ_EXAMPLES", "12"))
DERANDOMIZE = "BROBYGGER_FUZZ_EXAMPLES" not in os.environ
NOT_FUZZED = {"/metrics", "/health/live", "/health/ready"}


def fuzz_service(url: str, token: str) -> tuple[Counter, list[str]]:
    """Every operation of one service; returns the status counts and the 5xx found."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", timeout=10)
    statuses: Counter = Counter()
    failures: list[str] = []
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in NOT_FUZZED:
            continue

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=DERANDOMIZE,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:  # noqa: ANN001
            response = case.call(base_url=url, session=session, timeout=30)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        run()
    return statuses, failures


async def test_generated_requests_with_valid_tokens_never_get_a_5xx(stack, identity):  # noqa: ANN001
    # One token holding every role, so each operation is exercised past its role check.
    token = identity.token(ALL_ROLES, org="varde-kommune", subject="fuzz")
    report = []
    all_failures = []
    fuzzed: set[str] = set()
    for name, proc in stack.services.items():
        if proc.package in fuzzed:
            continue  # Red Cross's matching runs the same code as the municipality's
        fuzzed.add(proc.package)
        statuses, failures = await asyncio.to_thread(fuzz_service, proc.url, token)
        report.append(f"{name}: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
        all_failures += [f"{name} {f}" for f in failures]
    print("\n" + "\n".join(report))
    assert not all_failures, f"{len(all_failures)} 5xx answers, e.g.:\n" + "\n".join(all_failures[:10])
