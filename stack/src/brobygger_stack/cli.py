"""`brobygger`: run the embedded stack, play the demo, operate topics and outboxes."""

from __future__ import annotations

import asyncio
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import typer

from brobygger_stack.demo import DemoEndpoints, play
from brobygger_stack.stack import EmbeddedStack

IDENTITY_PORT = 8090

app = typer.Typer(help="Brobygger: bridge-building services for lonely citizens.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics of the event catalogue.")
app.add_typer(topics_app, name="topics")
outbox_app = typer.Typer(help="A service's outbox: backlog, parked rows and republishing.")
app.add_typer(outbox_app, name="outbox")
dlt_app = typer.Typer(help="Dead-lettered events: list and replay after a fix.")
app.add_typer(dlt_app, name="dlt")


def _print_where(stack: EmbeddedStack) -> None:
    from brobygger_contracts import partnership_topics

    typer.echo(f"Kafka (embedded Tansu): {stack.kafka_bootstrap_servers} (loopback only: it enforces no ACLs)")
    topics = [t for t in partnership_topics(stack.partnership_id, stack.runs()) if not t.endswith(".dlt")]
    typer.echo(f"topics of partnership {stack.partnership_id} (each with its .dlt): {', '.join(topics)}")
    typer.echo(f"SMTP catcher: 127.0.0.1:{stack.smtp.port if stack.smtp else '?'}, mail kept in {stack.maildir}")
    for proc in stack.services.values():
        typer.echo(f"{proc.name:<26} API {proc.url}   docs {proc.url}/docs   metrics {proc.url}/metrics")
    typer.echo(f"logs: {stack.workdir / 'logs'}")
    if stack.identity is not None:
        typer.echo(f"\nidentity provider (embedded, one issuer per organisation): {stack.identity.base_url}")
        typer.echo(stack.identity.logins_table())
        typer.echo("A token for curl: TOKEN=$(brobygger token --org varde-kommune --user mette)")
    if stack.console is not None:
        typer.echo(f"\nweb console: {stack.console.url}  (log in with a login above: choose the organisation, "
                   f"then username and password; relatives refer at {stack.console.url}/refer/public)")


@app.command()
def up(
    demo: bool = typer.Option(False, "--demo", help="seed a demo partnership and play referrals through it"),
    exit_after_demo: bool = typer.Option(False, "--exit-after-demo", help="stop once the demo has played"),
    workdir: Path = typer.Option(Path(".brobygger"), help="databases, logs and caught mail"),
    base_port: int = typer.Option(8001, help="referral's port; the others follow"),
    kafka: str = typer.Option("", envvar="KAFKA_BOOTSTRAP_SERVERS", help="use this broker instead of embedded Tansu"),
    identity_port: int = typer.Option(IDENTITY_PORT, help="the embedded identity provider's port"),
    console_port: int = typer.Option(8000, help="the web console's port (-1: no console)"),
) -> None:
    """Start Tansu, an SMTP catcher and the services as separate processes; Ctrl-C stops all."""
    from brobygger_stack.stack import default_instances

    stack = EmbeddedStack(workdir=workdir.resolve(), instances=default_instances(base_port),
                          kafka_bootstrap_servers=kafka or None, identity_port=identity_port,
                          console_port=None if console_port < 0 else console_port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with stack:
        _print_where(stack)
        try:
            if demo:
                typer.echo("\n-- demo --")
                results = play(DemoEndpoints.of_stack(stack))
                for result in results:
                    typer.echo(f"{result.label}: referral to first proposal {result.seconds_to_proposal:.2f}s")
                memory = {name: proc.memory_rss_mb() for name, proc in stack.services.items()}
                typer.echo("memory at rest (RSS MB): " + ", ".join(f"{n} {m:.0f}" for n, m in memory.items() if m))
            if exit_after_demo:
                return
            typer.echo("\nrunning; Ctrl-C stops everything")
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            typer.echo("stopping…")


@app.command()
def token(
    org: str = typer.Option("varde-kommune", help="the organisation whose issuer you log in at"),
    user: str = typer.Option("mette", help="a username of the logins table `brobygger up` prints"),
    workdir: Path = typer.Option(Path(".brobygger"), help="the running stack's work directory"),
    identity_port: int = typer.Option(IDENTITY_PORT, help="the embedded identity provider's port"),
) -> None:
    """Log in at the running embedded stack's issuer (authorization code + PKCE) and print an access token."""
    import httpx

    from brobygger_stack.identity.login import LoginFailed, login
    from brobygger_stack.identity.seed import Credentials

    credentials = Credentials(workdir / "identity" / "logins.json")
    password = credentials.passwords.get(org, {}).get(user)
    if password is None:
        raise typer.BadParameter(f"no login {user!r} of {org!r} in {workdir}/identity/logins.json; is the stack up?")
    try:
        typer.echo(login(f"http://127.0.0.1:{identity_port}/realms/{org}", user, password))
    except (LoginFailed, httpx.HTTPError) as exc:
        typer.echo(f"login failed: {exc}", err=True)
        raise typer.Exit(1) from exc


def _client_options() -> dict:
    """SASL/TLS settings for operator commands, from the services' variables
    (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CAFILE); none for the embedded broker."""
    from brobygger_runtime.kafka_options import kafka_client_options
    from brobygger_runtime.settings import ServiceSettings

    return kafka_client_options(ServiceSettings(service_name="operator"))


def _partnership(partnership_file: Path | None, partnership: str | None):  # noqa: ANN202
    from brobygger_stack.partnership import Partnership

    described = Partnership.load(partnership_file)
    if partnership and partnership != described.id:
        from dataclasses import replace

        from brobygger_contracts.catalogue import check_id

        described = replace(described, id=check_id("partnership", partnership))
    return described


PARTNERSHIP_FILE = typer.Option(None, "--partnership-file", envvar="PARTNERSHIP_FILE",
                                help="JSON naming the partnership and which organisation runs which service; "
                                     "default the demo partnership's (demo_partnership.json)")
PARTNERSHIP_ID = typer.Option(None, "--partnership", envvar="PARTNERSHIP_ID", help="overrides the file's partnership id")


@topics_app.command("create")
def topics_create(
    bootstrap: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS"),
    partitions: int = 3,
    replication: int = 1,
    partnership_file: Path = PARTNERSHIP_FILE,
    partnership: str = PARTNERSHIP_ID,
) -> None:
    """Create every missing topic of the partnership: one per organisation and
    service it runs (brobygger.<partnership>.<service>.<org>.v1), each with its .dlt."""
    from brobygger_runtime.topics import ensure_topics

    described = _partnership(partnership_file, partnership)
    created = asyncio.run(ensure_topics(bootstrap, described.id, described.runs, partitions=partitions,
                                        replication=replication, **_client_options()))
    typer.echo(f"partnership {described.id}: created " + (", ".join(created) if created else "nothing, all topics exist"))


@topics_app.command("check")
def topics_check(
    bootstrap: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS"),
    partnership_file: Path = PARTNERSHIP_FILE,
    partnership: str = PARTNERSHIP_ID,
) -> None:
    """Exit 1 when a topic of the partnership is missing."""
    from brobygger_runtime.topics import missing_topics

    described = _partnership(partnership_file, partnership)
    missing = asyncio.run(missing_topics(bootstrap, described.topics(), **_client_options()))
    if missing:
        typer.echo("missing topics: " + ", ".join(missing), err=True)
        raise typer.Exit(1)
    typer.echo(f"all {len(described.topics())} topics of partnership {described.id} exist")


@outbox_app.command("backlog")
def outbox_backlog(database_url: str = typer.Option(..., envvar="DATABASE_URL", help="the service's database")) -> None:
    """Unsent outbox rows and the age of the oldest."""
    from brobygger_stack.operations import outbox_state, run

    state = run(outbox_state(database_url))
    age = f"{state.oldest_unsent_age_seconds:.1f}s" if state.oldest_unsent_age_seconds is not None else "-"
    typer.echo(f"unsent: {state.unsent}  oldest unsent age: {age}  parked: {state.parked}  rows kept: {state.total}")


@outbox_app.command("parked")
def outbox_parked(database_url: str = typer.Option(..., envvar="DATABASE_URL", help="the service's database")) -> None:
    """Rows the broker refused for good (too large, no such topic), parked so the rows behind them could go on."""
    from brobygger_stack.operations import parked_rows, run

    rows = run(parked_rows(database_url))
    for r in rows:
        typer.echo(f"{r.id}  {r.event_type}  to {r.topic}  key {r.key}  created {r.created_at.isoformat()}  "
                   f"parked {r.parked_at.isoformat()}: {r.reason}")
    typer.echo(f"{len(rows)} parked rows")


@outbox_app.command("release")
def outbox_release(
    row_ids: list[int] = typer.Argument(None, help="ids from `brobygger outbox parked`"),
    topic: str = typer.Option(None, help="release every parked row of this topic"),
    all_rows: bool = typer.Option(False, "--all", help="release every parked row"),
    database_url: str = typer.Option(..., envvar="DATABASE_URL"),
) -> None:
    """Put parked rows back in the queue once the cause is fixed; the service's relay sends them.
    A released row arrives after the later events of its key that went out meanwhile."""
    from brobygger_stack.operations import release_parked, run

    if not row_ids and topic is None and not all_rows:
        raise typer.BadParameter("name row ids, --topic or --all")
    count = run(release_parked(database_url, list(row_ids) if row_ids else None, topic))
    typer.echo(f"released {count} rows; the service's relay sends them now")


@outbox_app.command("republish")
def outbox_republish(
    since: datetime = typer.Option(..., help="republish rows created since this time (ISO 8601, UTC)"),
    database_url: str = typer.Option(..., envvar="DATABASE_URL"),
) -> None:
    """Send events again from a point in time (after the broker lost data); consumers' inboxes ignore repeats."""
    from brobygger_stack.operations import republish_outbox, run

    moment = since if since.tzinfo else since.replace(tzinfo=UTC)
    typer.echo(f"marked {run(republish_outbox(database_url, moment))} rows; the service's relay sends them now")


@dlt_app.command("list")
def dlt_list(topic: str = typer.Argument(..., help="e.g. brobygger.varde.referral.varde-kommune.v1.dlt"),
             bootstrap: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS")) -> None:
    """Dead-lettered records with their cause."""
    from brobygger_stack.operations import list_dead_letters, run

    for d in run(list_dead_letters(bootstrap, topic, **_client_options())):
        typer.echo(f"{d.partition}@{d.offset}  {d.cause:<14} {d.ce_type or '-'}  from {d.original} by {d.consumer}: {d.reason}")


@dlt_app.command("replay")
def dlt_replay(topic: str, partition: int, offset: int,
               bootstrap: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS")) -> None:
    """Send one dead-lettered record back to the topic its .dlt belongs to (never one the record names)."""
    from brobygger_stack.operations import replay_dead_letter, run

    typer.echo(f"replayed to {run(replay_dead_letter(bootstrap, topic, partition, offset, **_client_options()))}")


@app.command()
def lag(group: str = typer.Argument(..., help="<partnership>.<org>.<service>"),
        bootstrap: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS")) -> None:
    """Consumer lag of a group per partition."""
    from brobygger_stack.operations import consumer_lag, run

    for (topic, partition), behind in sorted(run(consumer_lag(bootstrap, group, **_client_options())).items()):
        typer.echo(f"{topic}[{partition}]  {behind}")


if __name__ == "__main__":
    app()
