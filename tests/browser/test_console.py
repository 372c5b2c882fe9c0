"""The console in headless Chromium against the embedded stack: a relative
refers from the public page; a Red Cross volunteer (Ole, with his own login)
applies and the coordinator makes him ready; a guide logs in at the
municipality's issuer, sees the day's tasks, records the first call and the
clarification with the UCLA-3 answers, chooses the volunteer friend with the
citizen; Ole logs in, answers yes, and the guide records an accompanied first
visit; Ole logs a meeting in two taps and pauses; the coordinator sees the
volunteers by status and the questions waiting; the steering view shows the
change, for a period, with each partner's contribution. Nobody without a
login, and nobody of another organisation, sees the citizen. Every page: a
screenshot and axe-core."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CITIZEN = f"Frida Browser {uuid.uuid4().hex[:6]}"
state: dict[str, str] = {}


def login(person, console: str, stack, org: str, username: str, next_path: str = "/") -> str:  # noqa: ANN001
    """Through the console's login: choose the organisation, log in at its issuer, come back."""
    driver = person.driver
    person.open(f"{console}/login?next={next_path}", "login")
    Select(driver.find_element(By.ID, "org")).select_by_value(org)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(stack.identity.password(org, username))
    person.look("issuer-login", check=False)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    return person.look(f"after-login-{username}")


def click_and_wait(driver, button) -> None:  # noqa: ANN001
    """Click and wait until the next page replaced this one (a form's redirects included)."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()

    def replaced(_driver) -> bool:  # noqa: ANN001
        try:
            page.is_enabled()
        except WebDriverException:  # stale, or (mid-navigation) "does not belong to the document"
            return True
        return False

    WebDriverWait(driver, 30).until(replaced)
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def submit(person, form_action: str, label: str) -> str:  # noqa: ANN001
    click_and_wait(person.driver, person.driver.find_element(By.CSS_SELECTOR, f"form[action$='{form_action}'] button[type=submit]"))
    return person.look(label)


def reload_until(person, url: str, locator: tuple[str, str], label: str, why: str, timeout: float = 90) -> None:  # noqa: ANN001
    """Open `url` again until `locator` is on it: the services work asynchronously, over the broker."""
    deadline = time.monotonic() + timeout
    while not person.driver.find_elements(*locator):
        assert time.monotonic() < deadline, why
        time.sleep(1)
        person.driver.get(url)
    person.look(label)


def type_over(driver, field_id: str, text: str) -> None:  # noqa: ANN001
    field = driver.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)


def test_a_relative_refers_from_the_public_page_and_gets_a_receipt(console_stack, browsers) -> None:  # noqa: ANN001
    console = console_stack.console.url
    relative = browsers.of("relative")
    relative.driver.set_window_size(390, 844)  # a phone
    page = relative.open(f"{console}/refer/public", "public-referral-phone")
    assert "Consent" in page or "Samtykke" in page
    relative.driver.set_window_size(1280, 1000)
    driver = relative.driver
    # keyboard first: the first Tab reaches the skip link, which leads to the content
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("href").endswith("#main")
    # Swedish and large text, remembered for the next page
    Select(driver.find_element(By.ID, "pref-lang")).select_by_value("sv")
    Select(driver.find_element(By.ID, "pref-text")).select_by_value("large")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/preferences'] button"))
    page = relative.look("public-referral-swedish-large")
    html = driver.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "sv" and "large" in html.get_attribute("class")
    assert "Be en brobyggare att höra av sig" in page
    Select(driver.find_element(By.ID, "pref-lang")).select_by_value("en")
    Select(driver.find_element(By.ID, "pref-text")).select_by_value("normal")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/preferences'] button"))
    driver.find_element(By.CSS_SELECTOR, "input[name='referrer.source'][value='relative']").click()
    driver.find_element(By.ID, "referrer-name").send_keys("Karen Browser")
    driver.find_element(By.ID, "referrer-relation").send_keys("daughter")
    driver.find_element(By.ID, "referrer-phone").send_keys("+45 20 30 40 50")
    driver.find_element(By.ID, "citizen-name").send_keys(CITIZEN)
    driver.find_element(By.ID, "citizen-birth_year").send_keys("19x2")  # a typo first: the API says why
    driver.find_element(By.ID, "citizen-address").send_keys("Storegade 12")
    driver.find_element(By.ID, "citizen-postal_code").send_keys("6800")
    driver.find_element(By.ID, "reason").send_keys("Mother has been alone since father died and no longer goes out.")
    Select(driver.find_element(By.ID, "consent-given_by")).select_by_value("relative")
    municipality = driver.find_element(By.CSS_SELECTOR, "input[name='consent.organisations'][value='varde-kommune']")
    assert municipality.is_selected()  # the municipality's guide calls: ticked unless the person says otherwise
    driver.find_element(By.CSS_SELECTOR, "input[name='consent.organisations'][value='red-cross']").click()
    refused = submit(relative, "/refer/public", "public-referral-refused")
    assert driver.find_element(By.ID, "citizen-birth_year").get_attribute("aria-invalid") == "true"
    assert "birth_year" in refused
    type_over(driver, "citizen-birth_year", "1942")
    receipt = submit(relative, "/refer/public", "public-referral-receipt")
    assert len(driver.find_elements(By.CSS_SELECTOR, "main ol li")) == 4, receipt  # what happens next
    assert "Referen" in receipt  # Reference / Referens
    assert CITIZEN not in receipt  # the receipt says what happens next, not whom it is about


def test_the_card_reached_the_journey_and_a_guide(console_stack, identity) -> None:  # noqa: ANN001
    """Where the citizen went, asked as the municipality's coordinator (to log in as the assigned guide)."""
    auth = identity.auth("coordinator", org="varde-kommune")
    deadline, seen = time.monotonic() + 60, "no card"
    while time.monotonic() < deadline:
        cards = httpx.get(f"{console_stack.url('referral')}/referrals", auth=auth, params={"limit": 500}).json()
        mine = [c for c in cards if c["citizen"]["name"] == CITIZEN]
        if mine:
            cid = str(mine[0]["citizen_id"])
            answer = httpx.get(f"{console_stack.url('journey')}/journeys/{cid}", auth=auth)
            seen = f"journey answers {answer.status_code}: {answer.text[:300]}"
            if answer.status_code == 200 and answer.json().get("guide_id"):
                state["citizen_id"], state["guide"] = cid, answer.json()["guide_id"]
                return
        time.sleep(0.5)
    pytest.fail(f"the public referral did not reach journey with a guide assigned ({seen})")


def test_without_a_login_nobody_sees_the_citizen(console_stack, browsers) -> None:  # noqa: ANN001
    console = console_stack.console.url
    stranger = browsers.of("stranger")
    for path in ("/guide", f"/guide/citizens/{state['citizen_id']}", "/steering", "/coordinator", "/volunteer"):
        page = stranger.open(console + path, "no-login" + path.replace("/", "-")[:20])
        assert "/login" in stranger.driver.current_url, path
        assert CITIZEN not in page and CITIZEN not in stranger.driver.page_source


def test_a_guide_of_another_organisation_sees_none_of_the_citizen(console_stack, browsers) -> None:  # noqa: ANN001
    console = console_stack.console.url
    other = browsers.of("abf-guide")
    page = login(other, console, console_stack, "abf", "sofie", "/guide")
    assert CITIZEN not in page
    page = other.open(f"{console}/guide/citizens/{state['citizen_id']}", "other-org-citizen")
    assert CITIZEN not in page and CITIZEN not in other.driver.page_source
    assert "Storegade" not in other.driver.page_source


def test_a_red_cross_volunteer_applies_with_his_login_and_is_made_ready(console_stack, identity) -> None:  # noqa: ANN001
    """Ole applies himself (his account is his login's subject); Red Cross's coordinator records the interview,
    the criminal record extract seen, the confidentiality agreement and the course: then he is proposed."""
    matching = console_stack.url("matching", "red-cross")
    today = datetime.now(UTC).date().isoformat()
    applied = httpx.post(f"{matching}/volunteers/applications", auth=identity.auth("volunteer", org="red-cross", subject="ole"),
                         json={"interests": ["gåtur", "bagning"], "languages": ["da"], "postal_code": "6800",
                               "max_travel_km": 25, "capacity": 5,
                               "availability": [{"day": d, "part": p} for d in ("mon", "tue", "wed", "thu", "fri")
                                                for p in ("morning", "afternoon")]})
    assert applied.status_code in (200, 201), applied.text
    state["ole"] = vid = str(applied.json()["volunteer_id"])
    coordinator = identity.auth("coordinator", org="red-cross")
    for step, body in (("interview", {"held_on": today, "outcome": "approved"}),
                       ("vetting", {"kind": "criminal_record_extract", "seen_on": today}),
                       ("confidentiality", {"signed_on": today}),
                       ("training", {"course": "friend_basics", "completed_on": today})):
        done = httpx.post(f"{matching}/volunteers/{vid}/{step}", auth=coordinator, json=body)
        assert done.status_code in (200, 201), f"{step}: {done.text}"
    record = httpx.get(f"{matching}/volunteers/{vid}", auth=coordinator).json()
    assert record["status"] == "ready", record


def test_the_steering_view_before_the_first_visit(console_stack, browsers, identity) -> None:  # noqa: ANN001
    coordinator = browsers.of("coordinator")
    login(coordinator, console_stack.console.url, console_stack, "varde-kommune", "mette", "/steering")
    state["first_visits_before"] = _first_visits(coordinator)
    # A walking group the municipality formed shows on the coordinator's page with its facilitator and meetings.
    formed = httpx.post(f"{console_stack.url('journey')}/groups", auth=identity.auth("coordinator", org="varde-kommune"),
                        json={"facilitator_id": "tovholder-karen", "interest": "walking", "postal_code": "6800"})
    assert formed.status_code == 201, formed.text
    page = coordinator.open(f"{console_stack.console.url}/coordinator", "coordinator")
    assert "Anne" in page or "anne" in page  # the guides the demo registered
    rows = coordinator.driver.find_elements(By.XPATH, "//h2[@id='groups']/following-sibling::table[1]/tbody/tr")
    assert any("tovholder-karen" in row.text and "6800" in row.text for row in rows), [r.text for r in rows]


def test_the_guide_clarifies_chooses_a_proposal_and_records_an_accompanied_first_visit(console_stack, browsers, identity) -> None:  # noqa: ANN001
    console = console_stack.console.url
    guide = browsers.of("guide")
    day = login(guide, console, console_stack, "varde-kommune", state["guide"], "/guide")
    assert CITIZEN in day
    driver = guide.driver
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, CITIZEN))
    page = guide.look("citizen")
    assert "Storegade 12" in page

    Select(driver.find_element(By.ID, "contact-kind")).select_by_value("call")
    driver.find_element(By.ID, "contact-note").send_keys("Called; she would like to walk with others.")
    submit(guide, "/contacts", "contact-recorded")

    driver.find_element(By.ID, "interests").send_keys("gåtur, bagning")
    for question in ("lack_companionship", "left_out", "isolated"):
        driver.find_element(By.CSS_SELECTOR, f"input[name='baseline.{question}'][value='3']").click()
    submit(guide, "/clarification", "clarification-recorded")
    assert not driver.find_elements(By.CSS_SELECTOR, ".notice.error")

    url = f"{console}/guide/citizens/{state['citizen_id']}"
    accept = ".kind-volunteer_friend form[action$='/proposal'] button[value=accept]"
    reload_until(guide, url, (By.CSS_SELECTOR, accept), "proposals", "no volunteer friend was proposed to the citizen")
    page = guide.look("proposals-to-choose-from")
    assert "Waiting time" in page  # each proposal says how long the area waits for it
    click_and_wait(driver, driver.find_elements(By.CSS_SELECTOR, accept)[0])
    page = guide.look("friend-chosen")
    assert "waits for the volunteer's answer" in page

    # Red Cross's coordinator sees the question waiting for Ole's answer, and Ole among the ready volunteers
    birgit = browsers.of("red-cross-coordinator")
    page = login(birgit, console, console_stack, "red-cross", "birgit", "/coordinator")
    assert CITIZEN not in page
    waiting_rows = birgit.driver.find_elements(By.XPATH, "//h2[@id='questions']/following-sibling::table[1]/tbody/tr")
    assert any(state["ole"][:8] in row.text for row in waiting_rows), page
    shown = {row.find_elements(By.TAG_NAME, "td")[0].text: int(row.find_elements(By.TAG_NAME, "td")[1].text)
             for row in birgit.driver.find_elements(By.CSS_SELECTOR, "table.by-status tbody tr")}
    report = httpx.get(f"{console_stack.url('matching', 'red-cross')}/volunteers/report",
                       auth=identity.auth("coordinator", org="red-cross")).json()
    assert shown["ready"] == report["by_status"]["ready"] >= 1, (shown, report["by_status"])  # Ole among them

    # Ole logs in at Red Cross's issuer, sees the question (never the citizen's name) and says yes
    volunteer = browsers.of("volunteer")
    mine = login(volunteer, console, console_stack, "red-cross", "ole", "/volunteer")
    assert CITIZEN not in mine and "Storegade" not in mine
    yes = "form[action='/volunteer/answer'] button[value=accept]"
    reload_until(volunteer, f"{console}/volunteer", (By.CSS_SELECTOR, yes), "volunteer-question",
                 "the question did not reach the volunteer")
    question = volunteer.driver.find_element(By.CSS_SELECTOR, ".question").text.lower()
    assert "walking" in question or "gåture" in question or "promenader" in question, question  # what they share
    click_and_wait(volunteer.driver, volunteer.driver.find_element(By.CSS_SELECTOR, yes))
    page = volunteer.look("volunteer-said-yes")
    assert volunteer.driver.find_elements(By.CSS_SELECTOR, ".notice.ok"), page

    reload_until(guide, url, (By.ID, "companion"), "match-accepted", "the volunteer's yes did not reach the journey")
    type_over(driver, "grant-hours", "4")
    submit(guide, "/grants", "hours-granted")
    Select(driver.find_element(By.ID, "companion")).select_by_value("guide")
    type_over(driver, "hours", "2")
    page = submit(guide, "/first-visit", "first-visit-recorded")
    assert not driver.find_elements(By.CSS_SELECTOR, ".notice.error"), page
    assert driver.find_elements(By.CSS_SELECTOR, ".notice.ok")
    assert "2 of 4 hours left" in page  # two hours drawn from the punch card for the guide's company


def test_the_steering_view_shows_the_first_visit(console_stack, browsers) -> None:  # noqa: ANN001
    coordinator = browsers.of("coordinator")
    deadline = time.monotonic() + 30
    while _first_visits(coordinator) != state["first_visits_before"] + 1:
        assert time.monotonic() < deadline, "the first visit did not show in the steering view"
        time.sleep(1)
    csv = httpx.get(f"{console_stack.console.url}/steering/funnel.csv",
                    cookies={c["name"]: c["value"] for c in coordinator.driver.get_cookies()})
    assert csv.status_code == 200 and "first_visit" in csv.text


def test_the_steering_group_sees_aggregates_only_for_a_period_with_each_partners_contribution(console_stack, browsers) -> None:  # noqa: ANN001
    steering = browsers.of("steering")
    page = login(steering, console_stack.console.url, console_stack, "varde-kommune", "peter", "/steering")
    assert CITIZEN not in page
    assert steering.driver.find_elements(By.CSS_SELECTOR, "svg[role=img]")
    driver = steering.driver
    today = datetime.now(UTC).date()
    for field, day in (("period-from", today), ("period-to", today)):  # a date field takes the locale's order:
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, field), day.isoformat())
    page = submit(steering, "/steering", "steering-period")
    assert f"from={today.isoformat()}" in driver.current_url, driver.current_url
    partners = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=c-partners]").text
    assert "red-cross" in partners and "varde-kommune" in partners, partners
    csv = httpx.get(f"{console_stack.console.url}/steering/partners.csv?from={today.isoformat()}&to={today.isoformat()}",
                    cookies={c["name"]: c["value"] for c in driver.get_cookies()})
    assert csv.status_code == 200 and "red-cross" in csv.text, csv.text


def test_the_volunteer_sees_the_friendship_logs_a_meeting_in_two_taps_and_pauses(console_stack, browsers) -> None:  # noqa: ANN001
    console = console_stack.console.url
    volunteer = browsers.of("volunteer")
    driver = volunteer.driver
    reload_until(volunteer, f"{console}/volunteer", (By.CSS_SELECTOR, ".friendship"), "volunteer-friendship",
                 "the friendship did not show on the volunteer's page")
    assert CITIZEN not in driver.page_source
    assert "0 meetings" in driver.find_element(By.CSS_SELECTOR, ".friendship").text
    # two taps: how they met, then "we met today"
    Select(driver.find_element(By.ID, "channel-1")).select_by_value("phone")
    page = submit(volunteer, "/volunteer/meeting", "volunteer-meeting-logged")
    assert driver.find_elements(By.CSS_SELECTOR, ".notice.ok"), page
    assert "1 meetings" in driver.find_element(By.CSS_SELECTOR, ".friendship").text
    Select(driver.find_element(By.ID, "pause-reason")).select_by_value("holiday")
    page = submit(volunteer, "/volunteer/pause", "volunteer-paused")
    assert driver.find_elements(By.CSS_SELECTOR, ".notice.ok"), page
    assert driver.find_elements(By.CSS_SELECTOR, "form[action='/volunteer/resume']")  # paused: "I am back" instead


def test_a_login_that_is_no_volunteer_yet_is_told_so(console_stack, browsers) -> None:  # noqa: ANN001
    jens = browsers.of("jens")
    page = login(jens, console_stack.console.url, console_stack, "varde-kommune", "jens", "/volunteer")
    assert "not registered as a volunteer friend yet" in page
    assert CITIZEN not in page


def _first_visits(person) -> int:  # noqa: ANN001
    """The funnel's first-visit bar, as the SVG's value text says (a coordinator of the municipality sees it all)."""
    scheme, _, host = person.driver.current_url.split("/", 3)[:3]
    person.driver.get(f"{scheme}//{host}/steering")
    person.look("steering")
    bars = person.driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=c-funnel] svg g")
    for bar in bars:
        texts = bar.find_elements(By.TAG_NAME, "text")
        if len(texts) == 2 and texts[0].text.strip().lower() in ("first visit", "første besøg", "första besök"):
            return int(texts[1].text.strip())
    raise AssertionError(f"no first-visit bar in {len(bars)} bars")


def test_the_guide_records_a_follow_up_ends_the_journey_and_does_the_task_it_leaves(console_stack, browsers) -> None:  # noqa: ANN001
    """A follow-up (still going), then the exit without the final UCLA-3 answers: journey makes the guide a task
    to ask them, which shows in the guide's day with "done"."""
    console = console_stack.console.url
    guide = browsers.of("guide")
    driver = guide.driver
    url = f"{console}/guide/citizens/{state['citizen_id']}"
    guide.open(url, "citizen-after-first-visit")
    driver.find_element(By.CSS_SELECTOR, "input[name=outcome][value=still_going]").click()
    page = submit(guide, "/follow-ups", "follow-up-recorded")
    assert driver.find_elements(By.CSS_SELECTOR, ".notice.ok"), page
    assert "still going" in page
    Select(driver.find_element(By.ID, "outcome")).select_by_value("completed")
    page = submit(guide, "/exit", "journey-ended")
    assert driver.find_elements(By.CSS_SELECTOR, ".notice.ok"), page
    done = "form[action$='/done'] button"
    reload_until(guide, f"{console}/guide", (By.XPATH, f"//ul[@class='tasks']/li[a[text()='{CITIZEN}']]"),
                 "guide-day-with-task", "the exit's ask-UCLA task did not reach the guide's day")
    task = driver.find_element(By.XPATH, f"//ul[@class='tasks']/li[a[text()='{CITIZEN}']]")
    assert "UCLA-3" in task.text, task.text
    before = len(driver.find_elements(By.CSS_SELECTOR, done))
    click_and_wait(driver, task.find_element(By.CSS_SELECTOR, done))
    page = guide.look("task-done")
    assert driver.find_elements(By.CSS_SELECTOR, ".notice.ok"), page
    assert len(driver.find_elements(By.CSS_SELECTOR, done)) == before - 1
    assert not driver.find_elements(By.XPATH, f"//ul[@class='tasks']/li[a[text()='{CITIZEN}'] and contains(., 'UCLA-3')]")
