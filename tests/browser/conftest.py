"""The console in a real browser: headless Debian Chromium driven by selenium
(through Debian's chromedriver, so nothing is downloaded), against the embedded
stack (every service its own process) and its identity provider; axe-core from
npm (`npm ci` in this folder, run by `make setup`) checks each page.

One stack for the module and one browser per person; every page visited is
saved as a screenshot under tests/browser/output/ (git-ignored)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

HERE = Path(__file__).parent
OUTPUT = HERE / "output"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


def _missing() -> str | None:
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.path.exists(path):
            return f"{what} is not installed (scripts/install-system-packages.sh installs it)"
    if not AXE.exists():
        return "axe-core is not installed (make setup runs npm ci in tests/browser)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browsers() -> Iterator["Browsers"]:
    problem = _missing()
    if problem:
        pytest.fail(problem)
    OUTPUT.mkdir(exist_ok=True)
    for old in [*OUTPUT.glob("*.png"), *OUTPUT.glob("timings.txt")]:
        old.unlink()
    made = Browsers()
    try:
        yield made
    finally:
        made.quit()


class Browsers:
    """One Chromium per person (its own profile, so its own cookies), made on first use."""

    def __init__(self) -> None:
        self._open: dict[str, "Person"] = {}
        self.shots = 0

    def of(self, name: str) -> "Person":
        if name not in self._open:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service

            os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must not look for a browser online
            profile = tempfile.mkdtemp(prefix=f"console-{name}-")
            options = webdriver.ChromeOptions()
            options.binary_location = CHROMIUM
            for flag in (*FLAGS, f"--user-data-dir={profile}"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
            driver.set_page_load_timeout(30)
            self._open[name] = Person(name, driver, profile, self)
        return self._open[name]

    def quit(self) -> None:
        for person in self._open.values():
            person.driver.quit()
            shutil.rmtree(person.profile, ignore_errors=True)


class Person:
    def __init__(self, name: str, driver, profile: str, browsers: Browsers) -> None:  # noqa: ANN001
        self.name, self.driver, self.profile, self.browsers = name, driver, profile, browsers

    def open(self, url: str, label: str) -> str:
        self.driver.get(url)
        return self.look(label)

    def look(self, label: str, *, check: bool = True) -> str:
        """Screenshot the page, check it with axe-core (`check`: the console's pages, not the issuer's),
        and give its text."""
        self.browsers.shots += 1
        safe = re.sub(r"[^a-z0-9-]+", "-", f"{self.name}-{label}".lower())
        served = self.driver.execute_script(  # request sent to last byte of the page, in ms
            "const t = performance.getEntriesByType('navigation')[0]; return t ? t.responseEnd - t.requestStart : null")
        with (OUTPUT / "timings.txt").open("a") as timings:
            timings.write(f"{self.browsers.shots:02d}-{safe}\t{served if served is None else round(served)} ms\n")
        size = self.driver.get_window_size()
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(size["width"], min(max(height, size["height"]), 8000))  # the whole page
        self.driver.save_screenshot(str(OUTPUT / f"{self.browsers.shots:02d}-{safe}.png"))
        self.driver.set_window_size(size["width"], size["height"])
        if check:
            assert_accessible(self.driver, label)
        return self.driver.find_element("tag name", "body").text


def assert_accessible(driver, label: str) -> None:  # noqa: ANN001
    """axe-core in the page: no serious or critical violation (WCAG 2.x A/AA and best practices)."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(AXE.read_text())
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe failed', impact: 'critical', help: String(e), nodes: []}]));")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n.get('target') for n in v.get('nodes', [])][:3]}"
           for v in violations if v.get("impact") in ("serious", "critical")]
    assert not bad, f"axe on {label}: " + "; ".join(bad)


@pytest_asyncio.fixture(scope="module")
async def console_stack(kafka_bootstrap, postgres_admin_dsn, tmp_path_factory):  # noqa: ANN001, ANN201
    """The embedded stack with the console, seeded with the demo partnership's guides, volunteers and activities."""
    import asyncio

    from brobygger_stack.demo import DemoEndpoints, load_partnership, seed
    from brobygger_stack.stack import default_instances
    from brobygger_stack.testing import database_factory
    from tests.e2e.conftest import free_base_port, running_stack

    workdir = tmp_path_factory.mktemp("console-stack")
    instances = default_instances(base_port=free_base_port())
    async with database_factory(postgres_admin_dsn, workdir, drop_in_background=True) as make:
        databases = {f"{i.package}@{i.org_id}": await make(i.package) for i in instances}
        async with running_stack(kafka_bootstrap, databases, workdir / "stack", instances, name="console",
                                 console_port=0) as running:
            await asyncio.to_thread(seed, DemoEndpoints.of_stack(running), load_partnership(), lambda _said: None)
            yield running
