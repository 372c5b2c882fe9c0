"""What every service's HTTP side gets from the runtime: no start without a
trust configuration, a body cap checked before a body is read whole, and the
access log with its route for the data owner's coordinators."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
from fastapi import APIRouter, Depends, Request

from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, Role, requires
from brobygger_runtime.db import new_metadata
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings

ORG = "varde-kommune"


def test_a_service_without_trusted_issuers_refuses_to_start_and_says_why(tmp_path):
    env = {**os.environ, "TRUSTED_ISSUERS": "", "DATA_DIR": str(tmp_path), "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", "journey"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "journey cannot start" in done.stderr and "TRUSTED_ISSUERS is empty" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def _runtime(kafka: str, database_url: str, **settings) -> ServiceRuntime:  # noqa: ANN003
    config = ServiceSettings(service_name="journey", org_id=ORG, partnership_id=f"guard{uuid.uuid4().hex[:8]}",
                             kafka_bootstrap_servers=kafka, database_url=database_url, **settings)
    return ServiceRuntime(config, new_metadata(), service_package=None)


def _routes() -> APIRouter:
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request, _caller: Caller = Depends(requires(Role.coordinator))) -> dict:  # noqa: B008
        return {"bytes": len(await request.body())}

    @router.get("/people/{citizen_id}")
    async def read_person(citizen_id: str, caller: Caller = Depends(requires(Role.coordinator)),  # noqa: B008
                          runtime=Depends(runtime_of)) -> dict:  # noqa: ANN001, B008
        async with runtime.db.transaction() as session:
            await access_log.record(session, runtime.tables.access_log, caller, citizen_id,
                                    fields=("name", "phone"), purpose="test read", allowed=True)
        return {"citizen_id": citizen_id}

    return router


async def test_bodies_over_the_cap_get_413_declared_or_streamed(kafka_bootstrap, database_url, identity):  # noqa: ANN001
    runtime = _runtime(kafka_bootstrap, database_url, http_max_body_bytes=4096)
    app = runtime.http_app("guard", routers=[_routes()])
    async with runtime.running(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                                    auth=identity.auth("coordinator")) as client:
        assert (await client.post("/echo", content=b"x" * 1000)).json() == {"bytes": 1000}
        declared = await client.post("/echo", content=b"x" * 5000)
        assert declared.status_code == 413 and declared.json()["detail"]["error"] == "body_too_large"

        async def chunks():  # no Content-Length: counted as it streams in
            for _ in range(10):
                yield b"y" * 1000

        streamed = await client.post("/echo", content=chunks())
        assert streamed.status_code == 413, streamed.text
        # Before authentication too: an anonymous caller cannot make the service read a huge body.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as anonymous:
            assert (await anonymous.post("/echo", content=b"x" * 5000)).status_code == 413
            assert (await anonymous.post("/echo", content=b"x" * 10)).status_code == 401


async def test_reads_are_logged_and_only_the_owning_coordinators_read_the_log(kafka_bootstrap, database_url, identity):  # noqa: ANN001
    runtime = _runtime(kafka_bootstrap, database_url)
    app = runtime.http_app("guard", routers=[_routes()])
    citizen = str(uuid.uuid4())
    async with runtime.running(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        mette = identity.auth("coordinator", subject="mette")
        assert (await client.get(f"/people/{citizen}", auth=mette)).status_code == 200
        log = await client.get(f"/citizens/{citizen}/access-log", auth=mette)
        assert log.status_code == 200, log.text
        first = log.json()["entries"][-1]
        assert first["caller"] == "mette" and first["organisation"] == ORG and first["fields"] == ["name", "phone"]
        assert first["purpose"] == "test read" and first["allowed"] is True and first["roles"] == ["coordinator"]
        # Reading the log is itself logged; other organisations and roles get nothing.
        assert (await client.get(f"/citizens/{citizen}/access-log", auth=mette)).json()["entries"][0]["fields"] == ["access_log"]
        other_org = await client.get(f"/citizens/{citizen}/access-log", auth=identity.auth("coordinator", org="red-cross"))
        assert other_org.status_code == 403
        assert (await client.get(f"/citizens/{citizen}/access-log", auth=identity.auth("guide"))).status_code == 403
        assert (await client.get(f"/citizens/{citizen}/access-log")).status_code == 401
        # Paging: a bound the database can hold, a clear 422 past it.
        assert (await client.get(f"/citizens/{citizen}/access-log", params={"before_id": 2**70}, auth=mette)).status_code == 422
        page = await client.get(f"/citizens/{citizen}/access-log", params={"limit": 1}, auth=mette)
        older = await client.get(f"/citizens/{citizen}/access-log", auth=mette,
                                 params={"limit": 1, "before_id": page.json()["next_before_id"]})
        assert older.json()["entries"][0]["id"] < page.json()["entries"][0]["id"]


async def test_a_nul_in_the_path_or_query_is_a_400_not_a_database_error(kafka_bootstrap, database_url, identity):  # noqa: ANN001
    runtime = _runtime(kafka_bootstrap, database_url)
    app = runtime.http_app("guard", routers=[_routes()])
    async with runtime.running(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                                    auth=identity.auth("coordinator")) as client:
        for url in ("/people/a%00b", "/people/x?filter=%00", "/citizens/a%00/access-log"):
            answer = await client.get(url)
            assert answer.status_code == 400 and answer.json()["detail"]["error"] == "nul_in_url", url
        assert (await client.get("/people/ok")).status_code == 200


async def test_a_trailing_slash_is_a_json_404_not_a_redirect(kafka_bootstrap, database_url, identity):  # noqa: ANN001
    """The fuzzer found `DELETE /citizens/<id>%2F` answered by an empty 307: every answer is JSON with a reason."""
    runtime = _runtime(kafka_bootstrap, database_url)
    app = runtime.http_app("guard", routers=[_routes()])
    async with runtime.running(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                                    auth=identity.auth("coordinator")) as client:
        for url in ("/people/ok/", "/people/ok%2F", "/citizens/x/access-log/"):
            answer = await client.get(url)
            assert answer.status_code == 404, (url, answer.status_code)
            assert answer.json()["detail"], url
