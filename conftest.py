"""Fixtures shared by every test in the repository (DESIGN.md section 7).

Broker: `KAFKA_BOOTSTRAP_SERVERS` if set, else Kafka in testcontainers where a
Docker engine answers, else an embedded Tansu started here.
Database: `TEST_DATABASE_URL`/local PostgreSQL if it answers, else
testcontainers PostgreSQL, else SQLite. In CI (`BROBYGGER_REQUIRE_POSTGRES=1`)
falling back to SQLite is an error, not a silent skip.
"""

pytest_plugins = ["brobygger_stack.testing"]
