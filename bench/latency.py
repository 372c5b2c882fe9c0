"""Latency through the four service processes: from a guide's clarification to
the match proposal on the bus and to the guide's e-mail.

Starts the embedded stack (Tansu, SMTP catcher, five service processes on
SQLite, or with --postgres a fresh database per service on the local
PostgreSQL, TEST_POSTGRES_DSN or postgresql://postgres@127.0.0.1:5432/postgres)
and seeds the demo partnership as bench/slice.py does.

Preparation (not measured): refers rate x seconds citizens, waits until every
one has a guide and every consumer group has caught up.

Measured: clarifications are POSTed to journey's
`/journeys/{citizen}/clarification` on a fixed schedule (open loop: the i-th is
sent at t0 + i/rate, each in its own task, whatever the earlier ones took). For
each, the time from sending the POST to
  (a) the first `MatchProposed` for that citizen on the bus (a plain aiokafka
      consumer of the matching topic, assigned and positioned at the end before
      the first POST, in its own thread; `ce_subject` is the citizen), and
  (b) the e-mail about it arriving at the SMTP catcher (the template puts the
      first 8 characters of the citizen id in the subject; the arrival time is
      taken in the catcher's thread as the message is handed over).
Percentiles are over every clarification whose POST was accepted; one that never
arrived within --grace seconds after the last POST counts as slower than every
other, so a percentile that falls among them reads "never". At most
--max-in-flight POSTs are open at once; one that waits for a slot counts the
wait as latency.

Also printed: each service's CPU per clarification (over what it burns idle),
and where the time went, stage by stage (bench/latency_stages.py: the services'
outbox and inbox moments between NeedsClarified and MatchProposed seen on the bus).

    python bench/latency.py [--rate 50] [--seconds 60] [--postgres] [--keep-logs DIR]

Aim (issue 11): 99th percentile under 250 ms to MatchProposed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from brobygger_contracts.events.journey import NeedsClarified
from brobygger_contracts.events.matching import MatchProposed
from brobygger_stack.identity.test_tokens import TestTokens
from brobygger_stack.demo import DemoEndpoints, load_partnership, seed
from brobygger_stack.testing import partnership_topics_on
from brobygger_stack.embedded_kafka import free_port
from brobygger_stack.operations import consumer_lag
from brobygger_stack.smtp_catcher import SmtpCatcher
from brobygger_stack.stack import EmbeddedStack, InstanceSpec, default_instances
from brobygger_stack.testing import LOCAL_POSTGRES, _async_url, create_database, drop_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))
import latency_stages  # noqa: E402
from chaos_kit import all_journeys  # noqa: E402
from slice import CLARIFICATION, card  # noqa: E402 - the slice benchmark's referral card and clarification

PARTNERSHIP = "latency"
GUIDE_CAPACITY = 500  # journey's upper bound per guide
REFERRAL_CONCURRENCY = 20
AIM_P99_MS = 250.0
IDLE_SAMPLE_SECONDS = 3.0

clock = time.perf_counter  # one monotonic clock for every thread of this process


# --- (a) MatchProposed on the bus ------------------------------------------------------------

class BusWatch:
    """Reads the matching and journey topics from their end in a thread of its
    own (so the sender's event loop cannot delay the timestamps) and keeps the
    time each citizen's first MatchProposed (and NeedsClarified) was seen."""

    def __init__(self, bootstrap: str, partnership: str) -> None:
        self.bootstrap = bootstrap
        self.partnership = partnership.encode()
        self.first: dict[str, float] = {}
        """Citizen -> when its first MatchProposed was seen."""
        self.clarified: dict[str, float] = {}
        """Citizen -> when its first NeedsClarified was seen (for the breakdown of where the time went)."""
        self.ready = threading.Event()
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bus-watch", daemon=True)

    def start(self, timeout: float = 60.0) -> "BusWatch":
        self._thread.start()
        if not self.ready.wait(timeout) or self.error:
            self.stop()
            raise RuntimeError(f"the bus watcher did not start within {timeout:.0f}s: {self.error!r}")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def _run(self) -> None:
        try:
            asyncio.run(self._watch())
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            self.error = exc
            self.ready.set()

    async def _watch(self) -> None:
        seen_at = {MatchProposed.event_type().encode(): self.first, NeedsClarified.event_type().encode(): self.clarified}
        # every organisation's matching topic and journey's, as the stack created them
        topics = await partnership_topics_on(self.bootstrap, self.partnership.decode(), services={"matching", "journey"},
                                             dead_letters=False)
        # a short fetch wait: the broker holds a fetch for up to this long, which would count as latency
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                    auto_offset_reset="latest", fetch_max_wait_ms=10)
        await consumer.start()
        try:
            deadline = clock() + 30
            while not all(consumer.partitions_for_topic(t) for t in topics):
                if clock() > deadline:
                    raise TimeoutError(f"topics {topics} not found")
                await consumer.topics()
                await asyncio.sleep(0.1)
            partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t))]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)  # resolves "end" now, before the first POST
            self.ready.set()
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=100)
                seen = clock()
                for records in batch.values():
                    for record in records:
                        headers = dict(record.headers or ())
                        found = seen_at.get(headers.get("ce_type"))
                        if found is not None and headers.get("ce_partnership") == self.partnership:
                            found.setdefault(headers.get("ce_subject", b"").decode(), seen)
        finally:
            await consumer.stop()


# --- (b) the e-mail at the SMTP catcher ------------------------------------------------------

class _TimedMail(list):
    """The catcher's list of caught mail, noting when each one was handed over
    (called in the catcher's thread, under its lock)."""

    def __init__(self, items: list, arrivals: list[tuple[float, str]]) -> None:
        super().__init__(items)
        self.arrivals = arrivals

    def append(self, item) -> None:  # noqa: ANN001 - a CaughtMail
        self.arrivals.append((clock(), item.subject))
        super().append(item)


def time_mail(catcher: SmtpCatcher) -> list[tuple[float, str]]:
    """(arrival time, subject) of every message the catcher receives from now on.
    Reaches into the catcher's handler: it keeps no arrival times of its own."""
    arrivals: list[tuple[float, str]] = []
    handler = catcher._handler  # noqa: SLF001
    with handler.lock:
        handler.caught = _TimedMail(handler.caught, arrivals)
    return arrivals


HEX8 = re.compile(r"\b[0-9a-f]{8}\b")


def first_mail(arrivals: list[tuple[float, str]], citizens: list[str]) -> tuple[dict[str, float], int]:
    """Per citizen, when the first e-mail naming it (by the 8 characters the
    template shows) arrived; citizens sharing those 8 characters cannot be told apart
    and are left out (returned as the second value)."""
    by_prefix: dict[str, list[str]] = {}
    for citizen in citizens:
        by_prefix.setdefault(citizen[:8], []).append(citizen)
    ambiguous = sum(len(v) for v in by_prefix.values() if len(v) > 1)
    first: dict[str, float] = {}
    for at, subject in list(arrivals):
        for prefix in HEX8.findall(subject):
            owners = by_prefix.get(prefix)
            if owners and len(owners) == 1:
                first.setdefault(owners[0], at)
    return first, ambiguous


# --- preparation -----------------------------------------------------------------------------

async def register_guides(http: httpx.AsyncClient, eps: DemoEndpoints, citizens: int) -> int:
    count = math.ceil(citizens / GUIDE_CAPACITY)
    for g in range(count):
        guide = f"guide-bench-{g}"
        (await http.post(f"{eps.journey}/guides", json={"guide_id": guide, "capacity": GUIDE_CAPACITY})).raise_for_status()
        (await http.post(f"{eps.notify}/contacts", json={
            "recipient_id": guide, "role": "guide", "display_name": f"Bench {g}",
            "email": f"{guide}@varde.example"})).raise_for_status()
    return count


async def refer_all(http: httpx.AsyncClient, eps: DemoEndpoints, n: int, timeout: float) -> list[str]:
    limit = asyncio.Semaphore(REFERRAL_CONCURRENCY)

    async def one(i: int) -> str:
        async with limit:
            response = await http.post(f"{eps.referral}/referrals", json=card(i))
            response.raise_for_status()
            return response.json()["citizen_id"]

    return list(await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout))


async def wait_for_guides(http: httpx.AsyncClient, eps: DemoEndpoints, citizens: list[str], timeout: float) -> None:
    """Until journey shows a guide for every citizen (its caseload list: one
    request instead of one per citizen)."""
    pending = set(citizens)
    deadline = clock() + timeout
    while pending:
        if clock() > deadline:
            raise TimeoutError(f"{len(pending)} of {len(citizens)} citizens still without a guide after {timeout:.0f}s")
        await asyncio.sleep(0.5)
        pending -= {j["citizen_id"] for j in await all_journeys(http, eps.journey) if j.get("guide_id")}


async def settle(stack: EmbeddedStack, timeout: float) -> bool:
    """Until every service's consumer group has committed up to the end of
    every topic it reads, twice in a row: the preparation's events are all handled."""
    groups = [f"{PARTNERSHIP}.{p.org_id}.{p.package}" for p in stack.services.values()]
    deadline = clock() + timeout
    quiet = 0
    while clock() < deadline:
        lags = [sum((await consumer_lag(stack.kafka_bootstrap_servers, g)).values()) for g in groups]
        quiet = quiet + 1 if not any(lags) else 0
        if quiet >= 2:
            return True
        await asyncio.sleep(0.5)
    return False


# --- the measured phase ----------------------------------------------------------------------

class Posters:
    """Several small HTTP clients and a bound on POSTs in flight. One httpx
    client's pool costs time quadratic in its connections (it rescans them all
    on every request); with hundreds of connections in one pool the bench itself
    took the CPU. A POST that finds every slot taken waits for one, and that
    wait counts as its latency, as it would for a client without a bound."""

    PER_CLIENT = 25

    def __init__(self, max_in_flight: int, staff: httpx.Auth) -> None:
        count = max(1, math.ceil(max_in_flight / self.PER_CLIENT))
        limits = httpx.Limits(max_connections=self.PER_CLIENT, max_keepalive_connections=self.PER_CLIENT)
        self.clients = [httpx.AsyncClient(timeout=30, limits=limits, auth=staff) for _ in range(count)]
        self.slots = asyncio.Semaphore(max_in_flight)
        self.waited = 0
        """POSTs that found every slot taken."""
        self._next = 0

    async def post(self, url: str, body: dict) -> httpx.Response:
        if self.slots.locked():
            self.waited += 1
        async with self.slots:
            self._next = (self._next + 1) % len(self.clients)
            return await self.clients[self._next].post(url, json=body)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


async def clarify_open_loop(posters: Posters, eps: DemoEndpoints, citizens: list[str], rate: float,
                            sent: dict[str, float], answers: dict[str, tuple[str, float]],
                            late: list[float]) -> list[asyncio.Task]:
    """Sends the i-th clarification at t0 + i/rate, each in its own task; `late`
    gets how far behind its moment each one actually went out."""
    async def one(citizen: str, due: float) -> None:
        started = clock()
        sent[citizen] = started
        late.append(started - due)
        try:
            response = await posters.post(f"{eps.journey}/journeys/{citizen}/clarification", CLARIFICATION)
            answers[citizen] = (str(response.status_code), clock() - started)
        except httpx.HTTPError as exc:
            answers[citizen] = (type(exc).__name__, clock() - started)

    tasks = []
    t0 = clock() + 0.05
    for i, citizen in enumerate(citizens):
        delay = t0 + i / rate - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(citizen, t0 + i / rate)))
    return tasks


def cpu_seconds(stack: EmbeddedStack) -> dict[str, float]:
    """User plus system CPU time each service process has used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, proc in stack.services.items():
        try:
            fields = Path(f"/proc/{proc.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, AttributeError, IndexError, ValueError):
            pass
    return used


# --- figures ---------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest rank over `values` sorted, math.inf standing for "never arrived"."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)]


def ms(value: float) -> str:
    return "never" if math.isinf(value) else f"{value * 1000:.0f} ms"


def summary(label: str, latencies: list[float], counted: str = "arrived") -> str:
    arrived = [v for v in latencies if not math.isinf(v)]
    if not latencies:
        return f"{label}: nothing measured"
    return (f"{label}: median {ms(percentile(latencies, 50))}, p90 {ms(percentile(latencies, 90))}, "
            f"p99 {ms(percentile(latencies, 99))}, max {ms(max(arrived)) if arrived else 'never'}; "
            f"{counted} {len(arrived)} of {len(latencies)}, never {len(latencies) - len(arrived)}")


# --- the run ---------------------------------------------------------------------------------

async def run(stack: EmbeddedStack, args: argparse.Namespace, database: str) -> None:
    n = max(1, round(args.rate * args.seconds))
    eps = DemoEndpoints.of_stack(stack)
    staff = TestTokens(stack.identity).auth("coordinator")  # the municipality's coordinator does the guide's part too
    arrivals = time_mail(stack.smtp)
    await asyncio.to_thread(seed, eps, load_partnership(), lambda _line: None)
    limits = httpx.Limits(max_connections=REFERRAL_CONCURRENCY, max_keepalive_connections=REFERRAL_CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, limits=limits, auth=staff) as http:
        prepared = clock()
        guides = await register_guides(http, eps, n)
        print(f"preparing: {n} referrals, {guides} bench guides ...", flush=True)
        citizens = await refer_all(http, eps, n, timeout=max(300.0, n / 2))
        await wait_for_guides(http, eps, citizens, timeout=max(120.0, n / 5))
        settled = await settle(stack, timeout=120.0)
        print(f"prepared in {clock() - prepared:.1f} s" + ("" if settled else
              " (the consumer groups had not caught up within 120 s; measuring anyway)"), flush=True)

        idle_from, idle_before = clock(), cpu_seconds(stack)
        await asyncio.sleep(IDLE_SAMPLE_SECONDS)  # what the services burn doing nothing, to tell apart
        idle = {name: (used - idle_before[name]) / (clock() - idle_from)
                for name, used in cpu_seconds(stack).items() if name in idle_before}

        mails_before = len(arrivals)
        watch = await asyncio.to_thread(BusWatch(stack.kafka_bootstrap_servers, PARTNERSHIP).start)
        posters = Posters(args.max_in_flight, staff)
        try:
            sent: dict[str, float] = {}
            answers: dict[str, tuple[str, float]] = {}
            late: list[float] = []
            print(f"measuring: {n} clarifications at {args.rate:g}/s ...", flush=True)
            cpu_before, measuring_from, load = cpu_seconds(stack), clock(), os.getloadavg()[0]
            tasks = await clarify_open_loop(posters, eps, citizens, args.rate, sent, answers, late)
            _, unanswered_tasks = await asyncio.wait(tasks, timeout=60)  # httpx gives up after 30 s anyway
            for task in unanswered_tasks:
                task.cancel()
            last_send = max(sent.values())
            accepted = [c for c in citizens if answers.get(c, ("",))[0].startswith("2")]
            deadline = last_send + args.grace
            while clock() < deadline:
                mailed, _ = first_mail(arrivals[mails_before:], accepted)
                if all(c in watch.first for c in accepted) and all(c in mailed for c in accepted):
                    break
                await asyncio.sleep(0.1)
            cpu_after, measured_for = cpu_seconds(stack), clock() - measuring_from
        finally:
            await posters.aclose()
            await asyncio.to_thread(watch.stop)

    mailed, ambiguous = first_mail(arrivals[mails_before:], accepted)
    shown = Counter(c[:8] for c in accepted)
    mail_pop = [c for c in accepted if shown[c[:8]] == 1]
    to_bus = [watch.first[c] - sent[c] if c in watch.first else math.inf for c in accepted]
    to_mail = [mailed[c] - sent[c] if c in mailed else math.inf for c in mail_pop]
    spread = last_send - min(sent.values())
    achieved = (len(sent) - 1) / spread if spread > 0 else float("nan")
    failed = {c: a for c, a in answers.items() if not a[0].startswith("2")}
    unanswered = len(sent) - len(answers)
    post_times = [answers[c][1] for c in accepted]

    print()
    print(f"database:                {database}")
    print(f"machine:                 {os.cpu_count()} cores, load average {load:.1f} when measuring began")
    print(f"offered:                 {args.rate:g} clarifications/s for {args.seconds:g} s = {n}")
    print(f"achieved POST rate:      {achieved:.2f}/s ({len(sent)} sent over {spread:.2f} s; behind schedule: "
          f"median {percentile(late, 50) * 1000:.1f} ms, max {max(late) * 1000:.1f} ms)")
    print(f"POST answered 2xx:       {len(accepted)}; failed {len(failed)}"
          + (f" ({', '.join(sorted({a[0] for a in failed.values()}))})" if failed else "")
          + (f"; unanswered after 60 s {unanswered}" if unanswered else "")
          + (f"; {posters.waited} waited for one of the {args.max_in_flight} slots in flight" if posters.waited else ""))
    print(summary("POST response time      ", post_times, counted="answered"))
    print(summary("POST -> MatchProposed   ", to_bus))
    print(summary("POST -> e-mail at catcher", to_mail)
          + (f" ({ambiguous} citizens left out: their ids share the 8 characters the e-mail shows)" if ambiguous else ""))
    print(f"CPU while measuring ({measured_for:.1f} s; per clarification, after what the service burns idle):")
    for name in cpu_after:
        if name in cpu_before and name in idle:
            used = cpu_after[name] - cpu_before[name]
            work = max(0.0, used - idle[name] * measured_for)
            print(f"    {name:24s} {used:6.1f} s ({used / measured_for:4.0%} of a core; idle {idle[name]:.0%}), "
                  f"{work / max(1, len(accepted)) * 1000:5.1f} ms per clarification")
    if to_bus:
        p99 = percentile(to_bus, 99)
        print(f"aim p99 to MatchProposed < {AIM_P99_MS:.0f} ms: {'met' if p99 * 1000 < AIM_P99_MS else 'NOT met'} ({ms(p99)})")
    print(f"(waited up to {args.grace:g} s after the last POST for what had not arrived)")
    if watch.error:
        print(f"the bus watcher failed during the run, figures on the bus are incomplete: {watch.error!r}")

    # where the time went, from what each service wrote down in its database
    wall = time.time() - clock()
    moments = {c: {"post": sent[c] + wall} for c in accepted}
    for c in accepted:
        if c in watch.first:
            moments[c]["mp_seen"] = watch.first[c] + wall
        if c in watch.clarified:
            moments[c]["nc_seen"] = watch.clarified[c] + wall
        if c in mailed and shown[c[:8]] == 1:
            moments[c]["mail"] = mailed[c] + wall
    data = stack.workdir / "data"
    urls = {name: stack.database_url_for.get(name) or f"sqlite+aiosqlite:///{data}/{p.org_id}-{p.package}.db"
            for name, p in stack.services.items()}
    try:
        await latency_stages.collect(urls, moments)
        print()
        print("where the time went (per citizen; the services' outbox and inbox moments between the bench's own):")
        print(latency_stages.table(moments))
    except Exception as exc:  # noqa: BLE001 - the figures above stand without this
        print(f"(could not read the services' moments: {exc!r})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0, help="clarifications per second (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="for this long (default 60)")
    parser.add_argument("--postgres", action="store_true",
                        help="a fresh database per service on the local PostgreSQL instead of SQLite")
    parser.add_argument("--grace", type=float, default=30.0,
                        help="how long after the last POST to wait for proposals and e-mails (default 30)")
    parser.add_argument("--max-in-flight", type=int, default=200, help="POSTs in flight at most (default 200)")
    parser.add_argument("--keep-logs", default=None, help="a directory for the stack's logs, mail and SQLite files, kept")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.max_in_flight < 1:
        parser.error("--rate, --seconds and --max-in-flight must be positive")
    n = max(1, round(args.rate * args.seconds))

    def stop_on_sigterm(*_: object) -> None:
        raise KeyboardInterrupt  # the stack below is stopped on the way out
    signal.signal(signal.SIGTERM, stop_on_sigterm)

    with tempfile.TemporaryDirectory(prefix="brobygger-latency-") as scratch:
        workdir = Path(args.keep_logs) if args.keep_logs else Path(scratch) / "stack"
        # free ports: another stack (make demo, a test, a colleague's bench) may hold the default ones
        instances = [InstanceSpec(i.package, i.org_id, free_port()) for i in default_instances()]
        stack = EmbeddedStack(workdir=workdir, partnership_id=PARTNERSHIP, instances=instances)
        databases: list[str] = []
        database = "SQLite (a file per service)"
        # Every wait inside has a deadline; this is the last resort should the
        # bench itself stop answering (it once spent its CPU in the HTTP client).
        budget = 300 + max(300.0, n / 2) + max(120.0, n / 5) + 120 + args.seconds + 60 + args.grace + 120
        watchdog = threading.Timer(budget, give_up, args=(stack, databases, budget))
        watchdog.daemon = True
        watchdog.start()
        try:
            if args.postgres:
                database = "PostgreSQL (a fresh database per service)"
                for spec in instances:
                    databases.append(asyncio.run(create_database(LOCAL_POSTGRES)))
                    stack.database_url_for[f"{spec.package}@{spec.org_id}"] = _async_url(LOCAL_POSTGRES, databases[-1])
            print(f"starting the embedded stack (Tansu, SMTP catcher, {len(instances)} services on {database}) ...",
                  flush=True)
            with stack:
                asyncio.run(run(stack, args, database))
        except KeyboardInterrupt:
            print("interrupted; the stack is stopped", file=sys.stderr)
            sys.exit(130)
        finally:
            watchdog.cancel()
            drop_databases(databases)


def drop_databases(databases: list[str]) -> None:
    while databases:
        try:
            asyncio.run(drop_database(LOCAL_POSTGRES, databases[-1]))
        except Exception as exc:  # noqa: BLE001 - tell, and go on with the others
            print(f"could not drop database {databases[-1]}: {exc!r}", file=sys.stderr)
        databases.pop()


def give_up(stack: EmbeddedStack, databases: list[str], budget: float) -> None:
    print(f"the bench did not finish within {budget:.0f} s; stopping the stack and giving up", file=sys.stderr, flush=True)
    try:
        stack.stop()
        drop_databases(databases)
    finally:
        os._exit(3)


if __name__ == "__main__":
    main()
