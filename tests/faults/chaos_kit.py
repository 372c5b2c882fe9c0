"""Shared machinery of the fault tests (test_chaos.py, test_database_cut.py) and bench/chaos.py.

Everything here looks at the system from outside, through what any operator or
partner organisation could look at: the services' HTTP APIs, the bus (every
catalogue topic and its dead-letter topic, read from the start), the
services' PostgreSQL databases (inbox and outbox), the SMTP catcher. None of
it depends on how the consumer inside a service is built.

- `BusTail` reads every catalogue topic and `.dlt` topic from the beginning
  for the run's whole life and keeps the records of one partnership; flows
  wait on it ("GuideAssigned for this citizen is on the bus") instead of
  polling the APIs.
- `GroupOffsets` reads consumer groups' committed offsets without joining the
  groups; with the tail it gives each group's lag in this partnership's records.
- `cut_databases` terminates every connection to some databases and refuses
  new ones for a while (`ALLOW_CONNECTIONS false`), from the `postgres` database.
- `Monkey` SIGKILLs service processes at random moments and restarts them.
- `run_chaos` plays N citizens through whole journeys under kills and a
  database cut and returns a `ChaosReport` with the figures.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import statistics
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from brobygger_contracts import EVENTS, parse_topic
from brobygger_contracts.catalogue import DEAD_LETTER_SUFFIX
from brobygger_stack.demo import load_partnership
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.stack import EmbeddedStack, InstanceSpec, default_instances
from brobygger_stack.testing import embedded_identity, partnership_topics_on

ORG = "varde-kommune"
EVENT_CLASSES = {cls.__name__: cls for cls in EVENTS}

# What each service consumes (its entrypoints/kafka.py; notify: its own handlers
# plus the events named by the bundled rules/default.json). A record of these
# types and of the run's partnership must end up in the service's inbox.
CONSUMES: dict[str, frozenset[str]] = {
    "referral": frozenset({"JourneyStateChanged", "JourneyCompleted"}),
    "journey": frozenset({"ReferralReceived", "ReferralTriaged", "ReferralEscalated", "ConsentChanged", "CitizenErased",
                          "MatchProposed", "MatchAccepted", "MatchDeclined", "GroupProposed", "ActivityPublished"}),
    "matching": frozenset({"ReferralReceived", "ConsentChanged", "CitizenErased", "ReferralEscalated",
                           "JourneyCompleted", "NeedsClarified"}),
    "notify": frozenset({"GuideAssigned", "CitizenErased", "ReferralReceived", "ConsentChanged", "MatchProposed",
                         "MatchAccepted", "FirstVisitPlanned", "FirstVisitAccompanied", "FollowUpDue",
                         "GroupBecameSelfRunning", "ReferralEscalated", "JourneyStateChanged", "JourneyCompleted",
                         "NotificationFailed"}),
}


def services_consumed(service: str) -> set[str]:
    """The services whose topics (every organisation's) `service` reads."""
    return {EVENT_CLASSES[name].publisher for name in CONSUMES[service]}


# ---------------------------------------------------------------------------
# The bus


async def all_pages(http: httpx.AsyncClient, url: str, **params: str) -> list[dict]:
    """Every item of a list endpoint, page by page (a page holds at most 500)."""
    found: list[dict] = []
    while True:
        page = await http.get(url, params={**params, "limit": 500, "offset": len(found)})
        page.raise_for_status()
        found += page.json()
        if len(page.json()) < 500:
            return found


async def all_journeys(http: httpx.AsyncClient, journey_url: str) -> list[dict]:
    return await all_pages(http, f"{journey_url}/journeys")


def staff_auth() -> httpx.Auth:
    """The municipality's coordinator: registers guides and contacts, submits cards, clarifies."""
    return TestTokens(embedded_identity()).auth("coordinator")


@dataclass(frozen=True)
class Rec:
    """One record of the run's partnership."""

    topic: str
    partition: int
    offset: int
    key: str
    type: str
    """The event's class name (`GuideAssigned`), from `ce_type`; "" when it has none."""
    ce_id: str
    headers: dict[str, str]
    value: bytes

    @property
    def dead_letter(self) -> bool:
        return self.topic.endswith(DEAD_LETTER_SUFFIX)

    def body(self) -> dict[str, Any]:
        return json.loads(self.value)


def _short_type(ce_type: str) -> str:
    parts = ce_type.split(".")
    return parts[3] if len(parts) == 5 else ce_type


class BusTail:
    """Reads every topic of one partnership, dead-letter topics included, from
    the start, and each one created later as it appears (its services create
    their own as they start); keeps that partnership's records (dead letters
    also when only `dlt_consumer` names one of its groups). Flows wait on it per key."""

    def __init__(self, bootstrap: str, partnership: str) -> None:
        self.bootstrap = bootstrap
        self.partnership = partnership
        self.records: list[Rec] = []
        self.by_key: dict[str, list[Rec]] = defaultdict(list)
        self.tps: list[TopicPartition] = []
        self._followed_at = 0.0
        self._waiters: dict[str, asyncio.Event] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self.error: BaseException | None = None

    async def start(self) -> "BusTail":
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                          auto_offset_reset="earliest")
        await self._consumer.start()
        await self._follow_new_topics()
        self._task = asyncio.create_task(self._run(), name="bus-tail")
        return self

    async def _follow_new_topics(self) -> None:
        """Add the partnership's topics created since the last look, read from their start;
        the partitions already read keep their positions."""
        assert self._consumer is not None
        self._followed_at = asyncio.get_running_loop().time()
        known = {tp.topic for tp in self.tps}
        new = [t for t in await partnership_topics_on(self.bootstrap, self.partnership) if t not in known]
        if not new:
            return
        # every topic's metadata: the client's own refresh asks only for the topics already assigned
        cluster = await self._consumer._client.fetch_all_metadata()  # noqa: SLF001
        added = [TopicPartition(t, p) for t in new for p in sorted(cluster.partitions_for_topic(t) or ())]
        if not added:
            return  # not in the metadata yet: the next look finds them
        positions = {tp: await self._consumer.position(tp) for tp in self.tps}
        self.tps += added
        self._consumer.assign(self.tps)
        for tp, position in positions.items():
            self._consumer.seek(tp, position)
        await self._consumer.seek_to_beginning(*added)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self._consumer:
            await self._consumer.stop()

    async def __aenter__(self) -> "BusTail":
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        try:
            while True:
                if asyncio.get_running_loop().time() - self._followed_at > 0.5:
                    await self._follow_new_topics()
                if not self.tps:
                    await asyncio.sleep(0.2)
                    continue
                batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
                for tp, records in batch.items():
                    for record in records:
                        self._add(record)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported by caught_up()
            self.error = exc
            raise

    def _add(self, record) -> None:  # noqa: ANN001
        headers = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) for k, v in record.headers or ()}
        ours = headers.get("ce_partnership") == self.partnership
        if not ours and record.topic.endswith(DEAD_LETTER_SUFFIX):
            ours = headers.get("dlt_consumer", "").startswith(self.partnership + ".")
        if not ours:
            return
        key = record.key.decode("utf-8", "replace") if record.key else ""
        rec = Rec(record.topic, record.partition, record.offset, key, _short_type(headers.get("ce_type", "")),
                  headers.get("ce_id", ""), headers, record.value or b"")
        self.records.append(rec)
        self.by_key[key].append(rec)
        waiter = self._waiters.pop(key, None)
        if waiter is not None:
            waiter.set()

    async def caught_up(self) -> bool:
        """Every partition read up to its end offset as the broker tells it now. (The high
        watermark of the last fetch is stale: records acked since then would be missed.)"""
        if self.error is not None:
            raise RuntimeError(f"the bus tail stopped: {self.error!r}")
        assert self._consumer is not None
        await self._follow_new_topics()
        ends = await self._consumer.end_offsets(self.tps) if self.tps else {}
        for tp in self.tps:
            if await self._consumer.position(tp) < ends[tp]:
                return False
        return True

    async def wait_for(self, key: str, found: Callable[[list[Rec]], Any], timeout: float) -> Any:
        """Until `found(records of this key)` is truthy; returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = found(self.by_key.get(key, []))
            if result:
                return result
            if self.error is not None:
                raise RuntimeError(f"the bus tail stopped: {self.error!r}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"nothing matching on the bus for {key} in the {timeout:.0f}s left")
            waiter = self._waiters.setdefault(key, asyncio.Event())
            try:
                await asyncio.wait_for(waiter.wait(), min(remaining, 5.0))
            except TimeoutError:
                pass

    # -- views

    def dead_letters(self) -> list[Rec]:
        return [r for r in self.records if r.dead_letter]

    def distinct(self, *types: str, key: str | None = None) -> list[Rec]:
        """Records of these types (not dead letters), the first of each ce_id, in (topic, partition, offset) order."""
        source = self.by_key.get(key, []) if key is not None else self.records
        chosen = sorted((r for r in source if not r.dead_letter and r.type in types),
                        key=lambda r: (r.topic, r.partition, r.offset))
        seen: set[str] = set()
        out = []
        for r in chosen:
            if r.ce_id not in seen:
                seen.add(r.ce_id)
                out.append(r)
        return out


def by_type(records: Iterable[Rec], type_name: str) -> list[Rec]:
    return [r for r in records if r.type == type_name]


class GroupOffsets:
    """Committed offsets of consumer groups, read without joining them (as `brobygger lag` does)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumers: dict[str, AIOKafkaConsumer] = {}

    async def committed(self, group: str, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        consumer = self._consumers.get(group)
        if consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            self._consumers[group] = consumer
        out = {}
        for tp in tps:
            offset = await consumer.committed(tp)
            out[tp] = offset if offset is not None else 0
        return out

    async def lag(self, bus: BusTail, group: str, services: set[str]) -> int:
        """How many of the partnership's records on the topics of `services` lie at or after the group's committed offset."""
        tps = [tp for tp in bus.tps if (name := parse_topic(tp.topic)) and not name.is_dead_letter
               and name.service in services]
        topics = {tp.topic for tp in tps}
        committed = await self.committed(group, tps)
        return sum(1 for r in bus.records
                   if r.topic in topics and r.offset >= committed[TopicPartition(r.topic, r.partition)])

    async def close(self) -> None:
        for consumer in self._consumers.values():
            await consumer.stop()
        self._consumers.clear()


# ---------------------------------------------------------------------------
# The databases


def pg_dsn(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        raise ValueError(f"the fault tests need PostgreSQL, not {database_url}")
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def database_name(database_url: str) -> str:
    return database_url.rsplit("/", 1)[1].split("?", 1)[0]


async def inbox_ids(database_url: str) -> set[str]:
    conn = await asyncpg.connect(pg_dsn(database_url))
    try:
        return {row[0] for row in await conn.fetch("SELECT event_id FROM inbox")}
    finally:
        await conn.close()


async def outbox_unsent(database_url: str) -> tuple[int, int]:
    """(unsent rows waiting for the relay, parked rows) of a service's outbox."""
    conn = await asyncpg.connect(pg_dsn(database_url))
    try:
        try:
            row = await conn.fetchrow("SELECT count(*) FILTER (WHERE parked_at IS NULL), count(*) FILTER (WHERE parked_at IS NOT NULL)"
                                      " FROM outbox WHERE sent_at IS NULL")
            return int(row[0]), int(row[1])
        except asyncpg.UndefinedColumnError:
            return int(await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")), 0
    finally:
        await conn.close()


@dataclass
class Cut:
    databases: list[str]
    started: float = 0.0
    """time.monotonic() when connections were cut."""
    ended: float = 0.0
    """time.monotonic() when connections were allowed again."""
    terminated: int = 0


async def cut_databases(admin_dsn: str, database_urls: Iterable[str], seconds: float, cut: Cut | None = None) -> Cut:
    """Terminate every connection to these databases and refuse new ones for `seconds`
    (ALLOW_CONNECTIONS false, then true), from a connection to the `postgres` database."""
    names = [database_name(u) for u in database_urls]
    cut = cut or Cut(names)
    cut.databases = names
    admin = await asyncpg.connect(admin_dsn)
    try:
        try:
            for name in names:  # refuse first, so no client reconnects between the two steps
                await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cut.started = time.monotonic()
            rows = await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()",
                names,
            )
            cut.terminated = sum(1 for r in rows if r[0])
            await asyncio.sleep(seconds)  # the length of the outage, not a wait for a condition
        finally:
            for name in names:
                await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            cut.ended = time.monotonic()
    finally:
        await admin.close()
    return cut


# ---------------------------------------------------------------------------
# Processes


def free_base_port() -> int:
    """A run of free ports for the instances (base, base+1 .. base+11)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + 12 > 65000:
            continue
        if all(_free(base + offset) for offset in (0, 1, 2, 3, 11)):
            return base
    raise RuntimeError("no run of free ports found")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass
class ChaosStack(EmbeddedStack):
    """The embedded stack with a few more settings for every service."""

    extra_env: dict[str, str] = field(default_factory=dict)

    def service_env(self, spec: InstanceSpec) -> dict[str, str]:
        return {**super().service_env(spec), **self.extra_env}


def chaos_instances() -> list[InstanceSpec]:
    return default_instances(base_port=free_base_port())


async def ready(http: httpx.AsyncClient, url: str, whole: bool) -> bool:
    try:
        response = await http.get(url + "/health/ready", params={"whole": "true"} if whole else None, timeout=3)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


@dataclass
class Kill:
    name: str
    at: float
    api_at: float | None = None
    """When /health/ready answered 200 again (the API serves)."""
    whole_at: float | None = None
    """When /health/ready?whole=true answered 200 (broker and consumer up too)."""
    failed_starts: int = 0
    """Starts that ended with the process exiting (e.g. its database refused connections)."""
    error: str | None = None


class Monkey:
    """SIGKILLs service processes at random moments and restarts each at once, as an orchestrator would."""

    def __init__(self, stack: EmbeddedStack, rng: random.Random, gap: tuple[float, float], max_down: int,
                 say: Callable[[str], None], recover_timeout: float = 240.0) -> None:
        self.stack = stack
        self.rng = rng
        self.gap = gap
        self.max_down = max_down
        self.say = say
        self.recover_timeout = recover_timeout
        self.kills: list[Kill] = []
        self.down: set[str] = set()
        self._order: list[str] = []
        self._tasks: list[asyncio.Task] = []
        self._http = httpx.AsyncClient()

    def _next_target(self) -> str | None:
        if len(self.down) >= self.max_down:
            return None
        for _ in range(2):
            if not self._order:  # every instance once per round, in a random order
                self._order = sorted(self.stack.services)
                self.rng.shuffle(self._order)
            for name in list(self._order):
                if name not in self.down:
                    self._order.remove(name)
                    return name
            self._order = []
        return None

    def kill(self, name: str) -> Kill:
        proc = self.stack.services[name]
        kill = Kill(name, time.monotonic())
        proc.kill()
        proc.start()
        self.down.add(name)
        self.kills.append(kill)
        self.say(f"  kill #{len(self.kills)}: SIGKILL {name}, restarted")
        self._tasks.append(asyncio.create_task(self._recover(kill)))
        return kill

    async def _recover(self, kill: Kill) -> None:
        proc = self.stack.services[kill.name]
        deadline = time.monotonic() + self.recover_timeout
        try:
            while time.monotonic() < deadline:
                if proc.process is None or proc.process.poll() is not None:
                    kill.failed_starts += 1
                    await asyncio.sleep(0.5)  # crash-loop back-off
                    proc.start()
                    continue
                if kill.api_at is None and await ready(self._http, proc.url, whole=False):
                    kill.api_at = time.monotonic()
                if kill.api_at is not None and await ready(self._http, proc.url, whole=True):
                    kill.whole_at = time.monotonic()
                    return
                await asyncio.sleep(0.1)
            kill.error = f"not ready within {self.recover_timeout:.0f}s"
        finally:
            self.down.discard(kill.name)

    async def run(self, keep_going: Callable[[], bool], min_kills: int) -> None:
        """Kill at random gaps while `keep_going()` or until `min_kills` kills were made."""
        while keep_going() or len(self.kills) < min_kills:
            await asyncio.sleep(self.rng.uniform(*self.gap))  # a random moment: the point of the monkey
            target = self._next_target()
            if target is not None:
                self.kill(target)

    async def settle(self) -> None:
        """Until every restarted process is up again."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        await self._http.aclose()


# ---------------------------------------------------------------------------
# The chaos run


@dataclass
class ChaosConfig:
    citizens: int = 30
    arrival_seconds: float = 40.0
    """Referrals arrive evenly over this long; faults happen meanwhile."""
    kill_gap: tuple[float, float] = (2.5, 5.0)
    """Seconds between kills, drawn uniformly; kills go on while referrals arrive, at least `min_kills`."""
    min_kills: int = 10
    max_down: int = 2
    """At most this many instances down at once."""
    cut_seconds: float = 6.0
    cut_window: tuple[float, float] = (0.3, 0.6)
    """The database cut starts at a random fraction of the arrival window."""
    cut_services: tuple[str, ...] = ("referral", "matching", "journey", "notify")
    """Whose databases are cut (every instance of these services): a PostgreSQL restart for all of them."""
    flow_timeout: float = 150.0
    """After the arrival window, how long flows may still take."""
    settle_timeout: float = 150.0
    """After the last fault, how long the system may take to come to rest."""
    http_concurrency: int = 20
    referrer_mails: bool = False
    """Also enter the referring organisation as a referrer contact (milestone e-mails to it)."""
    seed: int | None = None


CLARIFICATION = {"interests": ["walking"], "languages": ["da"], "wishes": ["activity"], "max_travel_km": 10,
                 "availability": [{"day": "wed", "part": "morning"}],
                 "baseline": {"lack_companionship": 2, "left_out": 2, "isolated": 2}}
EXPECTED_STEPS = ["open", "clarify", "propose", "accept", "plan_visit", "first_visit"]
"""JourneyStateChanged steps of a citizen played through the whole flow, in order."""
PER_CITIZEN_ONCE = ["ReferralReceived", "GuideAssigned", "NeedsClarified", "MatchProposed", "MatchAccepted",
                    "FirstVisitPlanned", "FirstVisitAccompanied"]
"""Events a completed citizen causes exactly once each (distinct ce_id)."""
OPERATOR = "chaos-operator"


def letters(n: int) -> str:
    word = ""
    for _ in range(3):
        n, digit = divmod(n, 26)
        word += "abcdefghijklmnopqrstuvwxyz"[digit]
    return word.capitalize()


def card(n: int) -> dict:
    return {
        "referrer": {"source": "home_care", "org": ORG},
        "citizen": {"name": f"Borger {letters(n)}sen", "birth_year": 1930 + n % 60, "postal_code": "6800",
                    "language": "da"},
        "reason": "Sidder meget alene.",
        "consent": {"given_by": "citizen", "given_at": datetime.now(UTC).isoformat(), "organisations": [ORG, "red-cross"]},
    }


class FlowError(Exception):
    """An answer the flow cannot go on from (not a fault the run injected)."""


@dataclass
class Flow:
    n: int
    started: float = 0.0
    finished: float | None = None
    referral_id: str | None = None
    citizen_id: str | None = None
    guide_id: str | None = None
    step: str = "referral"
    """The step reached; 'done' when the first visit was recorded."""
    error: str | None = None
    ambiguous_retries: int = 0


class Driver:
    """Plays citizens through the APIs like a guide and a citizen would, retrying across
    restarts; a non-idempotent request is repeated only after reading that it did not happen."""

    def __init__(self, urls: dict[str, str], bus: BusTail, concurrency: int, deadline: float) -> None:
        self.urls = urls
        self.bus = bus
        self.deadline = deadline
        self.limit = asyncio.Semaphore(concurrency)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=3.0), auth=staff_auth())

    async def close(self) -> None:
        await self.http.aclose()

    def _remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the flow deadline passed")
        return left

    async def _get(self, url: str, **params: Any) -> Any:
        backoff = 0.2
        while True:
            self._remaining()
            try:
                async with self.limit:
                    response = await self.http.get(url, params=params or None)
                if response.status_code == 200:
                    return response.json()
                if response.status_code == 404:
                    return None
            except httpx.TransportError:
                pass
            await asyncio.sleep(backoff)  # the service is restarting: try again
            backoff = min(2.0, backoff * 1.5)

    async def _post(self, flow: Flow, url: str, body: dict, *, done: Callable[[], Awaitable[bool]] | None = None,
                    headers: dict[str, str] | None = None) -> Any:
        backoff = 0.2
        while True:
            self._remaining()
            ambiguous = True
            try:
                async with self.limit:
                    response = await self.http.post(url, json=body, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                ambiguous = False  # nothing was sent
            except httpx.TransportError:
                pass  # sent, answer lost (the process was killed): it may have happened
            else:
                if response.status_code in (200, 201):
                    return response.json()
                if response.status_code == 409 and done is not None and await done():
                    return None
                if response.status_code < 500:
                    raise FlowError(f"POST {url} -> {response.status_code}: {response.text[:300]}")
            if ambiguous and done is not None:
                flow.ambiguous_retries += 1
                if await done():
                    return None
            await asyncio.sleep(backoff)
            backoff = min(2.0, backoff * 1.5)

    async def _journey(self, citizen: str) -> dict:
        return await self._get(f"{self.urls['journey']}/journeys/{citizen}") or {}

    async def play(self, flow: Flow, run_id: str) -> Flow:
        flow.started = time.monotonic()
        journey, matching = self.urls["journey"], self.urls["matching"]
        try:
            accepted = await self._post(flow, f"{self.urls['referral']}/referrals", card(flow.n),
                                        headers={"Idempotency-Key": f"{run_id}-{flow.n}"})
            flow.referral_id, citizen = accepted["referral_id"], accepted["citizen_id"]
            flow.citizen_id = citizen

            flow.step = "guide"
            assigned = await self.bus.wait_for(citizen, lambda rs: by_type(rs, "GuideAssigned"), self._remaining())
            flow.guide_id = assigned[0].body()["guide_id"]

            flow.step = "clarification"

            async def clarified() -> bool:
                return (await self._journey(citizen)).get("clarified_at") is not None

            await self._post(flow, f"{journey}/journeys/{citizen}/clarification", CLARIFICATION, done=clarified)

            flow.step = "proposal"
            proposed = await self.bus.wait_for(citizen, lambda rs: by_type(rs, "MatchProposed"), self._remaining())
            proposal_id = proposed[0].body()["proposal_id"]

            flow.step = "acceptance"

            async def accepted_already() -> bool:
                rows = await self._get(f"{matching}/proposals", citizen_id=citizen) or []
                return any(r["proposal_id"] == proposal_id and r["status"] == "accepted" for r in rows)

            await self._post(flow, f"{matching}/proposals/{proposal_id}/accept", {}, done=accepted_already)

            flow.step = "match_accepted"
            await self.bus.wait_for(citizen, lambda rs: [r for r in by_type(rs, "JourneyStateChanged")
                                                         if r.body()["to_state"] == "match_accepted"], self._remaining())

            flow.step = "plan_visit"

            async def planned() -> bool:
                return (await self._journey(citizen)).get("first_visit_planned_for") is not None

            visit_at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
            await self._post(flow, f"{journey}/journeys/{citizen}/first-visit/plan",
                             {"visit_at": visit_at, "proposal_id": proposal_id}, done=planned)

            flow.step = "first_visit"

            async def visited() -> bool:
                return (await self._journey(citizen)).get("first_visit_at") is not None

            await self._post(flow, f"{journey}/journeys/{citizen}/first-visit",
                             {"proposal_id": proposal_id, "companion": "guide", "companion_id": flow.guide_id, "hours": 0},
                             done=visited)
            flow.step = "done"
            flow.finished = time.monotonic()
        except (TimeoutError, FlowError) as exc:
            flow.error = f"{type(exc).__name__}: {exc}"
        return flow


async def seed(urls: dict[str, str], citizens: int, referrer_mails: bool) -> list[str]:
    """Guides with room for every citizen, their e-mail, an operator, the walking activity."""
    guides = [f"chaos-guide-{k}" for k in range(citizens // 400 + 1)]
    walking = next(a for a in load_partnership()["activities"] if "gåtur" in a["interests"])
    async with httpx.AsyncClient(timeout=30, auth=staff_auth()) as http:
        for guide in guides:
            (await http.post(f"{urls['journey']}/guides", json={"guide_id": guide, "capacity": 500})).raise_for_status()
            (await http.post(f"{urls['notify']}/contacts", json={
                "recipient_id": guide, "role": "guide", "display_name": guide, "email": f"{guide}@varde.example",
                "language": "da", "preferred_channel": "email"})).raise_for_status()
        (await http.post(f"{urls['notify']}/contacts", json={
            "recipient_id": OPERATOR, "role": "operator", "display_name": "Drift", "email": "drift@varde.example",
            "preferred_channel": "email"})).raise_for_status()
        if referrer_mails:
            (await http.post(f"{urls['notify']}/contacts", json={
                "recipient_id": ORG, "role": "referrer", "display_name": "Hjemmeplejen", "email": "hjemmeplejen@varde.example",
                "preferred_channel": "email"})).raise_for_status()
        body = {k: v for k, v in walking.items() if k != "org"}
        (await http.post(f"{urls['matching']}/activities", json=body)).raise_for_status()
    return guides


@dataclass
class ChaosReport:
    citizens: int
    referrals_accepted: int = 0
    journeys_opened: int = 0
    """Distinct journeys opened on the bus (JourneyStateChanged `open`)."""
    journeys_in_api: int = 0
    """Journeys journey's API lists for the run's citizens."""
    completed: int = 0
    stuck: dict[str, int] = field(default_factory=dict)
    """Flows that did not finish, by the step they stopped at."""
    flow_errors: list[str] = field(default_factory=list)
    kills: int = 0
    kills_per_service: dict[str, int] = field(default_factory=dict)
    failed_starts: int = 0
    api_back_seconds: list[float] = field(default_factory=list)
    """Per kill: from SIGKILL to /health/ready 200 (the API serves)."""
    whole_back_seconds: list[float] = field(default_factory=list)
    """Per kill: from SIGKILL to /health/ready?whole=true 200."""
    not_recovered: list[str] = field(default_factory=list)
    cut_databases: int = 0
    cut_seconds: float = 0.0
    cut_terminated: int = 0
    lost_events: list[str] = field(default_factory=list)
    """Expected events missing on the bus."""
    lost_by_consumer: dict[str, int] = field(default_factory=dict)
    """Per instance: the partnership's events of types it consumes that are not in its inbox."""
    duplicated: list[str] = field(default_factory=list)
    """Effects seen more than once (distinct event ids where one was expected)."""
    inversions: list[str] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)
    emails_expected: int = 0
    emails_ok: int = 0
    emails_uncertain: int = 0
    emails_lost: list[str] = field(default_factory=list)
    emails_not_planned: list[str] = field(default_factory=list)
    """Expected (event, recipient) pairs notify never made a delivery for."""
    emails_duplicated: list[str] = field(default_factory=list)
    emails_failed: int = 0
    emails_unexpected: int = 0
    outbox_parked: int = 0
    ambiguous_retries: int = 0
    lag_to_zero_seconds: float | None = None
    """From the last fault (kill, or the database opening again) to: every group's lag 0, every outbox empty,
    no delivery pending or sending."""
    rest_detail: str = ""
    wall_seconds: float = 0.0
    flow_seconds: list[float] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.lost_events) + sum(self.lost_by_consumer.values()) + len(self.emails_lost) + len(self.emails_not_planned)

    @property
    def duplicates(self) -> int:
        return len(self.duplicated) + len(self.emails_duplicated)

    def rows(self) -> list[tuple[str, str]]:
        def median(xs: list[float]) -> str:
            return f"{statistics.median(xs):.1f}" if xs else "-"

        def p90(xs: list[float]) -> str:
            return f"{sorted(xs)[max(0, int(round(0.9 * len(xs))) - 1)]:.1f}" if xs else "-"

        return [
            ("citizens (N)", str(self.citizens)),
            ("referrals accepted", str(self.referrals_accepted)),
            ("journeys opened (bus / API)", f"{self.journeys_opened} / {self.journeys_in_api}"),
            ("flows completed", f"{self.completed}" + (f" (stuck: {self.stuck})" if self.stuck else "")),
            ("kills (SIGKILL)", f"{self.kills} {dict(sorted(self.kills_per_service.items()))}"),
            ("restart -> API serves, s (median / p90)", f"{median(self.api_back_seconds)} / {p90(self.api_back_seconds)}"),
            ("restart -> consuming, s (median / p90)", f"{median(self.whole_back_seconds)} / {p90(self.whole_back_seconds)}"),
            ("starts that crashed", str(self.failed_starts)),
            ("database cut", f"{self.cut_databases} databases, {self.cut_seconds:.1f} s, {self.cut_terminated} connections"),
            ("lost", f"{self.lost} (events {len(self.lost_events)}, by consumers {sum(self.lost_by_consumer.values())},"
                     f" e-mails {len(self.emails_lost)}, e-mails never planned {len(self.emails_not_planned)})"),
            ("duplicated", f"{self.duplicates} (effects {len(self.duplicated)}, e-mails {len(self.emails_duplicated)})"),
            ("order inversions", str(len(self.inversions))),
            ("dead letters", str(len(self.dead_letters))),
            ("e-mails expected / once / uncertain", f"{self.emails_expected} / {self.emails_ok} / {self.emails_uncertain}"),
            ("e-mails failed / unexpected", f"{self.emails_failed} / {self.emails_unexpected}"),
            ("outbox rows parked", str(self.outbox_parked)),
            ("ambiguous client retries", str(self.ambiguous_retries)),
            ("lag to zero after last fault, s", f"{self.lag_to_zero_seconds:.1f}" if self.lag_to_zero_seconds is not None else "never"),
            ("referral -> first visit, s (median / p90)", f"{median(self.flow_seconds)} / {p90(self.flow_seconds)}"),
            ("wall time, s", f"{self.wall_seconds:.1f}"),
        ]

    def table(self) -> str:
        width = max(len(k) for k, _ in self.rows())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self.rows())

    def details(self, limit: int = 10) -> str:
        lines = []
        for title, items in (("stuck flows", self.flow_errors), ("lost events", self.lost_events),
                             ("duplicated", self.duplicated), ("inversions", self.inversions),
                             ("dead letters", self.dead_letters), ("e-mails lost", self.emails_lost),
                             ("e-mails never planned", self.emails_not_planned),
                             ("e-mails duplicated", self.emails_duplicated), ("not recovered", self.not_recovered)):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines += [f"  {item}" for item in items[:limit]]
        if any(self.lost_by_consumer.values()):
            lines.append(f"lost by consumers: {self.lost_by_consumer}")
        if self.rest_detail:
            lines.append(f"at rest: {self.rest_detail}")
        return "\n".join(lines)


async def system_at_rest(stack: EmbeddedStack, bus: BusTail, offsets: GroupOffsets, databases: dict[str, str],
                         http: httpx.AsyncClient) -> str | None:
    """None when nothing is left to do: the tail read everything, every group's lag is 0,
    every outbox is sent, notify has nothing pending or sending. Else what is still busy."""
    if not await bus.caught_up():
        return "the bus tail is still reading"
    for name, proc in stack.services.items():
        group = f"{stack.partnership_id}.{proc.org_id}.{proc.package}"
        behind = await offsets.lag(bus, group, services_consumed(proc.package))
        if behind:
            return f"{group} lags {behind}"
    for name, url in databases.items():
        unsent, _parked = await outbox_unsent(url)
        if unsent:
            return f"{name} has {unsent} unsent outbox rows"
    notify = stack.url("notify")
    for status in ("pending", "sending", "awaiting_recipient"):
        try:
            response = await http.get(f"{notify}/deliveries", params={"status": status, "limit": 1})
        except httpx.HTTPError as exc:
            return f"notify does not answer: {exc!r}"
        if response.status_code != 200:
            return f"notify answers {response.status_code}"
        if response.json():
            return f"notify has deliveries {status}"
    # Rows marked sent above were acked before: the tail must have read them too.
    if not await bus.caught_up():
        return "the bus tail is still reading what the outboxes sent"
    return None


async def run_chaos(stack: EmbeddedStack, databases: dict[str, str], admin_dsn: str, cfg: ChaosConfig,
                    say: Callable[[str], None] = print) -> ChaosReport:
    """Plays `cfg.citizens` citizens through the running stack under SIGKILLs and one database cut.

    `databases`: the database URL per instance name (`package@org`), PostgreSQL.
    """
    wall_start = time.monotonic()
    rng = random.Random(cfg.seed)
    run_id = uuid.uuid4().hex[:8]
    urls = {"referral": stack.url("referral"), "journey": stack.url("journey"), "notify": stack.url("notify"),
            "matching": stack.url("matching", ORG)}
    report = ChaosReport(citizens=cfg.citizens)
    bus = await BusTail(stack.kafka_bootstrap_servers or "", stack.partnership_id).start()
    offsets = GroupOffsets(stack.kafka_bootstrap_servers or "")
    monkey = Monkey(stack, rng, cfg.kill_gap, cfg.max_down, say)
    http = httpx.AsyncClient(timeout=10, auth=staff_auth())
    driver: Driver | None = None
    flow_tasks: list[asyncio.Task] = []
    cut_task: asyncio.Task | None = None
    try:
        guides = await seed(urls, cfg.citizens, cfg.referrer_mails)
        say(f"seeded {len(guides)} guides, an operator and the walking activity; {cfg.citizens} citizens over "
            f"{cfg.arrival_seconds:.0f}s, kills every {cfg.kill_gap[0]}-{cfg.kill_gap[1]}s (at least {cfg.min_kills}),"
            f" one database cut of {cfg.cut_seconds:.0f}s")
        started = time.monotonic()
        driver = Driver(urls, bus, cfg.http_concurrency, started + cfg.arrival_seconds + cfg.flow_timeout)
        flows = [Flow(n) for n in range(cfg.citizens)]

        async def arrive(flow: Flow) -> Flow:
            await asyncio.sleep(flow.n * cfg.arrival_seconds / max(1, cfg.citizens))  # the arrival schedule
            return await driver.play(flow, run_id)

        flow_tasks = [asyncio.create_task(arrive(f)) for f in flows]
        cut_targets = [url for name, url in databases.items() if name.split("@")[0] in cfg.cut_services]
        cut = Cut([])

        async def cut_later() -> None:
            await asyncio.sleep(rng.uniform(*cfg.cut_window) * cfg.arrival_seconds)  # a random moment
            say(f"  database cut: {len(cut_targets)} databases refuse connections for {cfg.cut_seconds:.0f}s")
            await cut_databases(admin_dsn, cut_targets, cfg.cut_seconds, cut)
            say(f"  database cut over ({cut.terminated} connections were terminated)")

        cut_task = asyncio.create_task(cut_later())

        async def progress() -> None:
            while True:
                await asyncio.sleep(10)  # a progress line, nothing depends on it
                done = sum(f.step == "done" for f in flows)
                say(f"  {time.monotonic() - started:5.0f}s: {done}/{cfg.citizens} citizens through, "
                    f"{len(monkey.kills)} kills, down now: {sorted(monkey.down) or '-'}")

        progress_task = asyncio.create_task(progress())
        try:
            # Faults while referrals arrive (and until the minimum number of kills); the flows then finish.
            window_end = started + cfg.arrival_seconds
            await monkey.run(lambda: (time.monotonic() < window_end and not all(t.done() for t in flow_tasks))
                             or not cut_task.done(), cfg.min_kills)
            await asyncio.gather(*flow_tasks)
            await cut_task
            await monkey.settle()
        finally:
            progress_task.cancel()
        last_fault = max([k.at for k in monkey.kills] + [cut.ended])
        say(f"faults over: {len(monkey.kills)} kills, database cut {cut.ended - cut.started:.1f}s; waiting for rest")

        rest_deadline = time.monotonic() + cfg.settle_timeout
        busy: str | None = "not looked yet"
        while time.monotonic() < rest_deadline:
            busy = await system_at_rest(stack, bus, offsets, databases, http)
            if busy is None:
                report.lag_to_zero_seconds = time.monotonic() - last_fault
                break
            await asyncio.sleep(0.3)  # poll interval of a condition
        report.rest_detail = busy or ""
        if busy:
            say(f"the system did not come to rest within {cfg.settle_timeout:.0f}s: {busy}")

        # ---- figures
        report.kills = len(monkey.kills)
        report.kills_per_service = dict(Counter(k.name for k in monkey.kills))
        report.failed_starts = sum(k.failed_starts for k in monkey.kills)
        report.api_back_seconds = [k.api_at - k.at for k in monkey.kills if k.api_at]
        report.whole_back_seconds = [k.whole_at - k.at for k in monkey.kills if k.whole_at]
        report.not_recovered = [f"{k.name}: {k.error}" for k in monkey.kills if k.error]
        report.cut_databases, report.cut_seconds, report.cut_terminated = len(cut.databases), cut.ended - cut.started, cut.terminated
        report.ambiguous_retries = sum(f.ambiguous_retries for f in flows)
        await verify(report, stack, bus, databases, flows, cfg, http)
    finally:
        for task in flow_tasks + ([cut_task] if cut_task else []):
            task.cancel()
        if driver:
            await driver.close()
        await monkey.settle()
        await monkey.close()
        await offsets.close()
        await bus.stop()
        await http.aclose()
    report.wall_seconds = time.monotonic() - wall_start
    return report


async def verify(report: ChaosReport, stack: EmbeddedStack, bus: BusTail, databases: dict[str, str],
                 flows: list[Flow], cfg: ChaosConfig, http: httpx.AsyncClient) -> None:
    citizens = {f.citizen_id: f for f in flows if f.citizen_id}
    report.referrals_accepted = len({f.referral_id for f in flows if f.referral_id})
    report.completed = sum(f.step == "done" for f in flows)
    report.stuck = dict(Counter(f.step for f in flows if f.step != "done"))
    report.flow_errors = [f"citizen {f.n} ({f.citizen_id}) at {f.step}: {f.error}" for f in flows if f.step != "done"]
    report.flow_seconds = [f.finished - f.started for f in flows if f.finished]

    # Dead letters of the partnership on any .dlt topic.
    for r in bus.dead_letters():
        h = r.headers
        report.dead_letters.append(f"{r.topic}: {r.type or '?'} {r.ce_id} by {h.get('dlt_consumer')}: "
                                   f"{h.get('dlt_cause')}: {h.get('dlt_reason', '')[:200]}")

    # Journeys opened = referrals accepted.
    jsc = bus.distinct("JourneyStateChanged")
    opened = {r.body()["journey_id"] for r in jsc if r.body()["step"] == "open" and r.key in citizens}
    report.journeys_opened = len(opened)
    listed = await all_journeys(http, stack.url("journey"))
    report.journeys_in_api = sum(1 for j in listed if j["citizen_id"] in citizens)

    # Each expected event once per citizen; the journey's steps in a valid order.
    for citizen, flow in citizens.items():
        own = bus.by_key.get(citizen, [])
        for type_name in PER_CITIZEN_ONCE:
            ids = {r.ce_id for r in own if r.type == type_name and not r.dead_letter}
            reached = flow.step == "done" or PER_CITIZEN_ONCE.index(type_name) < _reached_index(flow.step)
            if len(ids) > 1:
                report.duplicated.append(f"{type_name} x{len(ids)} for citizen {citizen}")
            elif not ids and reached:
                report.lost_events.append(f"no {type_name} for citizen {citizen} (flow at {flow.step})")
        steps = bus.distinct("JourneyStateChanged", key=citizen)
        names = [r.body()["step"] for r in steps]
        expected = EXPECTED_STEPS if flow.step == "done" else EXPECTED_STEPS[:_steps_reached(flow.step)]
        for step, count in Counter(names).items():
            if count > 1:
                report.duplicated.append(f"JourneyStateChanged {step} x{count} for citizen {citizen}")
            elif step not in EXPECTED_STEPS:
                report.duplicated.append(f"JourneyStateChanged {step} (not a step the flow takes) for citizen {citizen}")
        for step in Counter(expected) - Counter(names):
            report.lost_events.append(f"no JourneyStateChanged {step} for citizen {citizen}")
        previous = ""
        for r in steps:  # each transition must start where the one before it ended
            body = r.body()
            if body["from_state"] != previous:
                report.inversions.append(f"citizen {citizen}: {body['step']} from {body['from_state']!r} after a step to "
                                         f"{previous!r} ({r.topic}/{r.partition}@{r.offset}); steps {names}")
            previous = body["to_state"]
        proposed = [r.offset for r in own if r.type == "MatchProposed" and not r.dead_letter]
        accepted = [r.offset for r in own if r.type == "MatchAccepted" and not r.dead_letter]
        if proposed and accepted and min(accepted) < min(proposed):
            report.inversions.append(f"citizen {citizen}: MatchAccepted before MatchProposed on the matching topic")

    # Every consumer handled every event of the partnership it consumes (its inbox holds the id).
    for name, proc in stack.services.items():
        wanted = {r.ce_id for r in bus.records if not r.dead_letter and r.type in CONSUMES[proc.package]}
        report.lost_by_consumer[name] = len(wanted - await inbox_ids(databases[name]))
        report.outbox_parked += (await outbox_unsent(databases[name]))[1]

    # Notifications: each NotificationSent once per notification id.
    sent = bus.distinct("NotificationSent")
    by_notification: dict[str, set[str]] = defaultdict(set)
    pair_of: dict[str, tuple[str, str]] = {}
    for r in sent:
        body = r.body()
        by_notification[body["notification_id"]].add(r.ce_id)
        pair_of[body["notification_id"]] = (body["source_event_id"], body["recipient_id"])
    for nid, ids in by_notification.items():
        if len(ids) > 1:
            report.duplicated.append(f"NotificationSent x{len(ids)} for notification {nid}")

    # E-mails per (event, recipient): exactly once, or uncertain.
    notify = stack.url("notify")
    deliveries: dict[str, list[dict]] = {}
    for status in ("uncertain", "failed"):
        deliveries[status] = await all_pages(http, f"{notify}/deliveries", status=status)
        for d in deliveries[status]:
            if d["notification_id"]:
                pair_of.setdefault(d["notification_id"], (d["source_event_id"], d["recipient_id"]))
    uncertain_pairs = {(d["source_event_id"], d["recipient_id"]) for d in deliveries["uncertain"]}
    failed_pairs = {(d["source_event_id"], d["recipient_id"]) for d in deliveries["failed"]}
    report.emails_failed = len(deliveries["failed"])
    mails = Counter(str(m.message["X-Brobygger-Notification"]) for m in stack.smtp.messages) if stack.smtp else Counter()
    guide_of = {r.key: r.body()["guide_id"] for r in bus.distinct("GuideAssigned")}
    expected: set[tuple[str, str]] = set()
    for r in bus.distinct("MatchProposed", "MatchAccepted", "FirstVisitAccompanied", "GuideAssigned"):  # the guide hears of each new citizen too
        if r.key in citizens and r.key in guide_of:
            expected.add((r.ce_id, guide_of[r.key]))
        if cfg.referrer_mails and r.type == "FirstVisitAccompanied" and r.key in citizens:
            expected.add((r.ce_id, ORG))
    if cfg.referrer_mails:
        for r in jsc:
            body = r.body()
            if r.key in citizens and body["to_state"] == "match_accepted" and body["from_state"] in ("clarified", "matching"):
                expected.add((r.ce_id, ORG))
    for r in bus.distinct("NotificationFailed"):
        body = r.body()
        if body["recipient_id"] != OPERATOR:
            expected.add((r.ce_id, OPERATOR))
    notifications_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for nid, pair in pair_of.items():
        notifications_of[pair].add(nid)
    report.emails_expected = len(expected)
    accounted: set[str] = set()
    for pair in sorted(expected):
        nids = notifications_of.get(pair, set())
        accounted |= nids
        count = sum(mails[n] for n in nids)
        if count > 1:
            report.emails_duplicated.append(f"{count} e-mails for event {pair[0]} to {pair[1]}")
        elif pair in uncertain_pairs:
            report.emails_uncertain += 1
        elif count == 1:
            report.emails_ok += 1
        elif pair in failed_pairs:
            report.emails_lost.append(f"event {pair[0]} to {pair[1]}: delivery failed")
        elif nids:
            report.emails_lost.append(f"event {pair[0]} to {pair[1]}: NotificationSent but no e-mail arrived")
        else:
            found = await http.get(f"{notify}/deliveries", params={"source_event_id": pair[0]})
            rows = [d for d in found.json() if d["recipient_id"] == pair[1]] if found.status_code == 200 else []
            if rows:
                report.emails_lost.append(f"event {pair[0]} to {pair[1]}: delivery {rows[0]['status']}, no e-mail")
            else:
                report.emails_not_planned.append(f"event {pair[0]} to {pair[1]}: notify made no delivery for it")
    report.emails_unexpected = sum(count for nid, count in mails.items() if nid not in accounted)


def _reached_index(step: str) -> int:
    """How many of PER_CITIZEN_ONCE a flow stopped at `step` must have caused."""
    return {"referral": 0, "guide": 1, "clarification": 2, "proposal": 3, "acceptance": 4, "match_accepted": 5,
            "plan_visit": 5, "first_visit": 6, "done": 7}[step]


def _steps_reached(step: str) -> int:
    """How many of EXPECTED_STEPS a flow stopped at `step` must have caused."""
    return {"referral": 0, "guide": 1, "clarification": 1, "proposal": 2, "acceptance": 3, "match_accepted": 3,
            "plan_visit": 4, "first_visit": 5, "done": 6}[step]


def make_stack(workdir: Path, partnership: str, kafka: str | None, databases: dict[str, str],
               instances: list[InstanceSpec], extra_env: dict[str, str]) -> ChaosStack:
    return ChaosStack(workdir=workdir, partnership_id=partnership, kafka_bootstrap_servers=kafka,
                      database_url_for=databases, instances=instances, extra_env=extra_env,
                      identity=embedded_identity())
