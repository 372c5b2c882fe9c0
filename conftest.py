"""Fixtures shared by every test in the repository (DESIGN.md section 7).

Broker: `KAFKA_BOOTSTRAP_SERVERS` if set, else Kafka in testcontainers where a
Docker engine answers, else an embedded Tansu started here.
Database: `TEST_DATABASE_URL`/local PostgreSQL if it answers, else
testcontainers PostgreSQL, else SQLite. In CI (`BROBYGGER_REQUIRE_POSTGRES=1`)
falling back to SQLite is an error, not a silent skip.
"""

from hypothesis import HealthCheck, settings

pytest_plugins = ["brobygger_stack.testing"]

# Property tests judge what is generated, not how fast: on a shared 2-core
# machine running tests in parallel, Hypothesis's timing checks (slow input
# generation, a per-example deadline) fail by chance. The number of examples
# and every other setting stay as each test says.
settings.register_profile("brobygger", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("brobygger")
