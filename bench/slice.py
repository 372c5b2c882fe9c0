"""Events per second through the whole slice, four services as separate processes.

Starts the embedded stack (Tansu, SMTP catcher, five service processes on
SQLite or --postgres), seeds the demo partnership, then submits N referrals
concurrently; as soon as each citizen has a guide, records a clarification
wishing for an activity. Prints citizens/s and bus events/s from the first
POST to the last e-mail, and each service's memory at rest.

    python bench/slice.py --citizens 200
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.demo import DemoEndpoints, load_partnership, seed
from brobygger_stack.stack import EmbeddedStack


def card(n: int) -> dict:
    letters = "".join("abcdefghijklmnopqrstuvwxyz"[(n // 26**i) % 26] for i in range(3)).capitalize()
    return {
        "referrer": {"source": "home_care", "org": "varde-kommune"},
        "citizen": {"name": f"Borger {letters}sen", "birth_year": 1940, "postal_code": "6800", "language": "da"},
        "reason": "Sidder meget alene.",
        "consent": {"given_by": "citizen", "given_at": datetime.now(UTC).isoformat(),
                    "organisations": ["varde-kommune", "red-cross"]},
    }


CLARIFICATION = {"interests": ["walking"], "languages": ["da"], "wishes": ["activity"], "max_travel_km": 10,
                 "availability": [{"day": "wed", "part": "morning"}],
                 "baseline": {"lack_companionship": 2, "left_out": 2, "isolated": 2}}


async def one_citizen(http: httpx.AsyncClient, eps: DemoEndpoints, n: int, limit: asyncio.Semaphore) -> None:
    async with limit:
        response = await http.post(f"{eps.referral}/referrals", json=card(n))
        response.raise_for_status()
        citizen = response.json()["citizen_id"]
    while True:
        journey = await http.get(f"{eps.journey}/journeys/{citizen}")
        if journey.status_code == 200 and journey.json().get("guide_id"):
            break
        await asyncio.sleep(0.1)
    async with limit:
        (await http.post(f"{eps.journey}/journeys/{citizen}/clarification", json=CLARIFICATION)).raise_for_status()


async def run(stack: EmbeddedStack, citizens: int) -> None:
    eps = DemoEndpoints.of_stack(stack)
    staff = TestTokens(stack.identity).auth("coordinator")  # the municipality's coordinator does the guide's part too
    seed(eps, load_partnership(), lambda _l: None)
    async with httpx.AsyncClient(timeout=30, auth=staff) as http:  # a guide with room for every citizen of the run
        (await http.post(f"{eps.journey}/guides", json={"guide_id": "guide-bench", "capacity": 500})).raise_for_status()
        (await http.post(f"{eps.notify}/contacts", json={"recipient_id": "guide-bench", "role": "guide",
                                                         "display_name": "Bench", "email": "bench@varde.example"})).raise_for_status()
    rest = {name: proc.memory_rss_mb() for name, proc in stack.services.items()}
    mails_before = len(stack.smtp.messages)
    limit = asyncio.Semaphore(20)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, auth=staff) as http:
        await asyncio.wait_for(asyncio.gather(*(one_citizen(http, eps, n, limit) for n in range(citizens))), 600)
        # one activity proposal per citizen, each one e-mail to the guide
        deadline = time.perf_counter() + 600
        while len(stack.smtp.messages) - mails_before < citizens:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {len(stack.smtp.messages) - mails_before} of {citizens} e-mails arrived")
            await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    # per citizen on the bus: ReferralReceived, GuideAssigned, NeedsClarified, MatchProposed, NotificationSent
    events = citizens * 5
    print(f"citizens:          {citizens} (referral -> guide -> clarification -> proposal -> e-mail)")
    print(f"elapsed:           {elapsed:.2f} s")
    print(f"citizens/s:        {citizens / elapsed:.1f}")
    print(f"bus events/s:      {events / elapsed:.1f} ({events} events)")
    print("memory at rest (RSS MB): " + ", ".join(f"{n} {m:.0f}" for n, m in rest.items() if m))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        stack = EmbeddedStack(workdir=Path(scratch), partnership_id="bench")
        with stack:
            asyncio.run(run(stack, args.citizens))


if __name__ == "__main__":
    main()
