"""The console in a real browser (Debian's Chromium, headless, through Playwright) against the API
and a worker on the real Linux log: log in, read the alerts the pipeline raised, give feedback and
see it stored, see a new pattern appear, flip a toggle and a source; attacker-controlled log text
stays inert on every page; 10,000 stored alerts page with bounded reads. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis.asyncio as aioredis

from connectors.redis_streams import StreamWriter
from streamapp.api.alerts import SCAN_BUDGET
from streamapp.automations.records import AutomationEvent
from streamapp.console.pages_alerts import PAGE_SIZE
from streamapp.processes import Proc, start_worker
from streamapp.records import Alert, IssueCandidate
from streamapp.settings import Settings, settings_for_env
from streamapp.taxonomy import FailureType, Severity
from tests.browser.conftest import ADMIN_TOKEN, Api, base_env, http_login, login_page, shot, start_api
from tests.support.fixtures import cleanup
from tests.support.streams import accounted_lines, eventually, xadd_lines

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

LINUX_LINES = 600
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_ATTR = '"><img src=x onerror=window.__xss=2>'
PATTERNS = {"PATTERN_WARMUP_SEC": "5", "PATTERN_WARMUP_LINES": "100", "PATTERN_BUCKET_SEC": "5"}  # a short warm-up


def xss_lines(host: str = "xsshost") -> list[str]:
    """A failing disk whose device name an attacker chose: an issue, an alert and a prototype of its own."""
    return [
        f"Jun 20 03:40:{10 + i:02d} {host} kernel: end_request: I/O error, dev {XSS_SCRIPT}, sector {1000 + i} "
        f"{XSS_ATTR}"
        for i in range(4)
    ]


@dataclass
class Stack:
    env: dict[str, str]
    settings: Settings
    redis: aioredis.Redis
    api: Api
    worker: Proc
    line_ids: list[str]


async def _settled(redis: aioredis.Redis, settings: Settings, n_lines: int) -> None:
    """Every line is in a closed issue, then the alert count stays put for a few seconds."""

    async def accounted() -> bool:
        return await accounted_lines(redis, settings) >= n_lines

    await eventually(accounted, timeout=240)
    key, last, since = settings.redis_key("alerts"), -1, time.monotonic()
    while time.monotonic() - since < 4:
        n = await redis.xlen(key)
        if n != last:
            last, since = n, time.monotonic()
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
async def stack(services: None, tmp_path_factory: pytest.TempPathFactory, loghub_dir: Path) -> AsyncIterator[Stack]:
    """A worker and the API on the first lines of the real Linux log plus the attacker's lines."""
    tmp = tmp_path_factory.mktemp("console")
    env = {**base_env(tmp), "ISSUE_INACTIVITY_SEC": "3", "SOURCE_FORMATS": '{"*": "linux"}', "LLM_PROVIDER": "none",
           **PATTERNS}
    settings = settings_for_env(env)
    redis = aioredis.from_url(settings.redis_url, decode_responses=False)
    worker = start_worker(env, tmp / "worker.log")
    api: Api | None = None
    try:
        api = start_api(env, tmp / "api.log")
        lines = (loghub_dir / "Linux" / "Linux_2k.log").read_text().splitlines()[:LINUX_LINES] + xss_lines()
        ids = await xadd_lines(redis, settings.redis_key("logs"), lines, "Linux.log")
        await _settled(redis, settings, len(ids))
        stack = Stack(env, settings, redis, api, worker, ids)

        async def attacker_alerted() -> bool:
            return any(a.host == "xsshost" for a in await _alerts(stack))

        await eventually(attacker_alerted, timeout=60)
        yield stack
    finally:
        if api is not None:
            api.proc.terminate()
        worker.terminate()
        await redis.aclose()
        await cleanup(settings)


async def _alerts(stack: Stack) -> list[Alert]:
    return [Alert.from_redis(f) for _, f in await stack.redis.xrange(stack.settings.redis_key("alerts"))]


# ------------------------------------------------------------------------------------------ login
async def test_login_refuses_a_wrong_token_then_admits_the_right_one(
    browser: Any, stack: Stack, screenshots: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    await page.goto(f"{stack.api.url}/alerts")
    assert "/console/login" in page.url, "the console needs a login"
    await page.fill("#token", "not-the-token")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=Wrong admin token.")
    assert "/console/login" in page.url
    await shot(page, "01-login-refused")
    cookie = next(c for c in await context.cookies() if c["name"] == "streamapp_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"

    await page.fill("#token", ADMIN_TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/console/alerts$"))
    assert await page.locator("#alert-rows tr").count() > 0
    assert await page.evaluate("document.cookie") == "", "the session cookie is not readable by scripts"
    await context.close()


# ----------------------------------------------------------------------------------------- alerts
async def test_alerts_from_the_pipeline_and_feedback_is_stored(browser: Any, stack: Stack, screenshots: Path) -> None:
    alerts = await _alerts(stack)
    assert alerts, "the pipeline raised alerts"
    page = await login_page(browser, stack.api.url)
    rows = page.locator("#alert-rows tr")
    assert await rows.count() == min(len(alerts), 50)
    newest = alerts[-1]
    assert newest.summary in await rows.first.inner_text(), "newest first"
    await shot(page, "02-alerts")
    # The live refresh asks for the rows only, and puts them in place.
    async with page.expect_response(lambda r: r.request.headers.get("x-console-partial") == "rows") as live:
        await page.check("#live")
    assert (await live.value).ok
    await page.uncheck("#live")
    assert await rows.count() == min(len(alerts), 50)

    # Filter by failure type: only that type is listed.
    await page.select_option("select[name=failure_type]", "security_auth")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url(re.compile(r".*failure_type=security_auth.*"))
    listed = await page.locator("#alert-rows tr td:nth-child(3)").all_inner_texts()
    assert listed and set(listed) == {"security_auth"}
    expected = sum(1 for a in alerts if a.failure_type == "security_auth")
    assert len(listed) == min(expected, 50)

    # Open one: evidence lines with marked parameters, hypothesis, recommended action.
    target = next(a for a in reversed(alerts) if a.failure_type == "security_auth")
    href = f"/alerts/{quote(target.id, safe='')}"
    await page.click(f"a[href$='{href}']")
    await page.wait_for_url(re.compile(re.escape(href) + "$"))
    assert target.summary in await page.inner_text("main")
    assert target.result["recommended_action"] in await page.inner_text("main")
    evidence = page.locator("ol.evidence li")
    assert await evidence.count() >= 1
    marked = await page.locator("ol.evidence mark.param").all_inner_texts()
    assert marked, "template parameters are marked"
    await shot(page, "03-alert")

    # Feedback through the page's form: the type was wrong, it is network_link.
    await page.select_option("select[name=failure_type]", "network_link")
    form = page.locator("form", has=page.locator("button[value=incorrect]"))
    await form.locator("input[name=note]").fill("seen from the console")
    await form.locator("button[value=incorrect]").click()
    await page.wait_for_selector("text=Feedback saved.")
    assert "incorrect" in await page.inner_text("#current-feedback")
    await shot(page, "04-feedback-saved")

    s, r = stack.settings, stack.redis
    stored = json.loads(await r.hget(s.redis_key(f"alert:{target.id}"), "feedback"))
    assert stored["verdict"] == "incorrect" and stored["failure_type"] == "network_link"
    assert stored["note"] == "seen from the console"
    assert await r.sismember(s.redis_key("alerts:feedback:incorrect"), target.id)
    entries = [f for _, f in await r.xrange(s.redis_key(s.stream_feedback))]
    assert any(e[b"alert_id"].decode() == target.id and e[b"verdict"] == b"incorrect" for e in entries)

    # The list shows it too.
    await page.goto(f"{stack.api.url}/alerts")
    assert "incorrect → network_link" in await page.inner_text("#alert-rows")
    await page.context.close()


async def test_issues_and_prototypes_pages(browser: Any, stack: Stack, screenshots: Path) -> None:
    s = stack.settings
    page = await login_page(browser, stack.api.url)
    # A few fresh lines make an issue that stays open for ISSUE_INACTIVITY_SEC.
    fresh = [f"Jun 21 10:00:0{i} combo sshd(pam_unix)[4242]: session opened for user u{i} by (uid=0)" for i in range(3)]
    await xadd_lines(stack.redis, s.redis_key("logs"), fresh, "Linux.log")

    async def open_issue_listed() -> bool:
        await page.goto(f"{stack.api.url}/issues")
        return "linux|sshd(pam_unix)|4242" in await page.inner_text("main")

    try:
        await eventually(open_issue_listed, timeout=30, interval=0.3)
    except AssertionError:
        raise AssertionError(f"open issue not listed; page: {await page.inner_text('main')}") from None
    assert await page.locator("table.candidates tbody tr").count() >= 1
    await shot(page, "05-issues")

    await page.goto(f"{stack.api.url}/prototypes")
    rows = page.locator("main table tbody tr")
    assert await rows.count() >= 1 and "No prototypes" not in await rows.first.inner_text()
    assert await page.locator("svg.chart rect.bar").count() == 30
    assert await page.locator("svg.chart rect.bar[height]:not([height='0.0'])").count() >= 1, "alerts were counted"
    await shot(page, "06-prototypes")
    await rows.first.locator("a").click()
    await page.wait_for_selector("text=Templates")
    await shot(page, "07-prototype")
    await page.context.close()


async def test_patterns_page_shows_a_new_pattern(browser: Any, stack: Stack, screenshots: Path) -> None:
    page = await login_page(browser, stack.api.url)
    await page.goto(f"{stack.api.url}/patterns")
    before = await page.inner_text("main")
    assert "warmed up" in before and "widget frobnication" not in before, before
    assert await page.locator("#patterns tbody tr").count() >= 10, before
    novel = [f"Jun 21 11:00:0{i} gremlinhost frobd[77]: widget frobnication limit reached for tenant acme"
             for i in range(3)]
    await xadd_lines(stack.redis, stack.settings.redis_key("logs"), novel, "Linux.log")

    row = page.locator("#patterns tr.pattern-new", has_text="widget frobnication")

    async def shown() -> str:  # counts arrive batch by batch: the row may show 1 before it shows 3
        await page.goto(f"{stack.api.url}/patterns?os=linux&status=new")
        return "shown" if await row.count() == 1 and await row.locator("td").nth(4).inner_text() == "3" else ""

    try:
        await eventually(shown, timeout=60, interval=0.5)
    except AssertionError:
        raise AssertionError(f"no new pattern counted 3 times; page: {await page.inner_text('main')}") from None
    await shot(page, "08-patterns-new")
    await page.goto(f"{stack.api.url}/patterns?os=linux&host=gremlinhost")
    assert await page.locator("#patterns tbody tr").count() == 1, "one host's patterns"
    await page.goto(f"{stack.api.url}/patterns?status=sideways")
    assert "status: one of" in await page.inner_text("main"), "a bad parameter is a message on the page"
    await page.context.close()


async def test_toggle_automations(browser: Any, stack: Stack, screenshots: Path) -> None:
    key = stack.settings.redis_key("toggles")
    page = await login_page(browser, stack.api.url)
    await page.goto(f"{stack.api.url}/toggles")
    row = page.locator("#toggle-automations")
    assert await row.locator(".state").inner_text() == "off"
    await row.locator("button").click()
    await page.wait_for_selector("text=automations saved.")
    assert await page.locator("#toggle-automations .state").inner_text() == "on"
    assert await stack.redis.hget(key, "automations") == b"true"
    await shot(page, "08-toggles")
    await page.locator("#toggle-automations button").click()
    await page.wait_for_selector("text=automations saved.")
    assert await stack.redis.hget(key, "automations") == b"false"
    await page.context.close()


# -------------------------------------------------------------------------------------------- XSS
async def _plant_attacker_text(stack: Stack) -> tuple[str, str]:
    """Beside the pipeline's own alert on the attacker's lines: an alert and a candidate written as
    the outbound bridge writes them, and a data source whose name and status carry the text.
    Returns the written alert's id and the source's id."""
    s = stack.settings
    text = f"{XSS_SCRIPT} {XSS_ATTR}"
    writer = StreamWriter(stack.redis, s)
    alert = Alert(
        id="alert-xss-written", type="cluster", os="linux", failure_type="app_crash", confidence=0.5,
        result={"summary": text, "root_cause_hypothesis": text, "recommended_action": text,
                "extra": {"neighbours": [text], "rules": [text]}},
        host=f"h{XSS_ATTR}", component=text, severity="error", summary=f"crash {text}", classifier=text,
        cluster_id=text, prototype_id=text,
        evidence_logs=[{"id": "1-0", "templated": f"crash in <*> {XSS_ATTR}",
                        "raw": f"crash in {XSS_SCRIPT} {XSS_ATTR}", "source": text, "os": "linux", "env_id": "1-0"}],
        log_ids=["1-0"], created_at=time.time(),
    )
    # An issue alert whose candidate is not on Redis: its evidence comes from `logs` by line id.
    orphan = Alert(id="alert-orphan", type="issue", os="linux", failure_type="hardware_disk", confidence=0.5,
                   result={}, host="xsshost", summary="orphan", log_ids=stack.line_ids[-2:], created_at=time.time())
    await writer.write(s.stream_alerts, [alert, orphan], hash_prefix="alert:")
    event = AutomationEvent(id=f"{alert.id}|restart|dry_run", alert_id=alert.id, rule_id=f"restart{XSS_ATTR}",
                            decision="dry_run", provider="awx", reason=text, at=time.time())
    await writer.write("automation_events", [event])
    candidate = IssueCandidate(
        id="xss-candidate", os="linux", issue_key=f"linux|{text}|nopid", templated_summary=text,
        logs=[{"id": "1-0", "templated": f"<*> {XSS_ATTR}", "raw": f"{XSS_SCRIPT} {XSS_ATTR}"}], host=text,
        severity="error",
    )
    await writer.write(s.stream_issues_candidates, [candidate])
    async with httpx.AsyncClient(timeout=10) as http:
        made = await http.post(
            stack.api.url.removesuffix("/console") + "/sources", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            json={"name": f"{XSS_SCRIPT}{XSS_ATTR}"[:100], "type": "telegraf"},
        )
    assert made.status_code == 201, made.text
    source_id = made.json()["source"]["id"]
    status = {"state": "backoff", "last_error": text, "lines": 3}
    await stack.redis.set(s.redis_key(f"source:{source_id}:status"), json.dumps(status))
    return alert.id, source_id


async def _assert_inert(
    page: Any, url: str, *, expect_text: bool, name: str, texts: tuple[str, ...] = (XSS_SCRIPT, XSS_ATTR)
) -> None:
    await page.goto(url)
    await page.wait_for_load_state("load")
    assert await page.evaluate("typeof window.__xss") == "undefined", f"script ran on {url}"
    assert await page.locator("img[src='x']").count() == 0, f"markup injected on {url}"
    assert not await page.evaluate("[...document.scripts].some(s => s.textContent.includes('__xss'))")
    if expect_text:
        body = await page.evaluate("document.body.innerText")
        assert all(t in body for t in texts), f"the text is shown literally on {url}"
    await shot(page, name)


async def test_log_text_is_inert_on_every_page(browser: Any, stack: Stack, screenshots: Path) -> None:
    written_id, source_id = await _plant_attacker_text(stack)
    piped = [a for a in await _alerts(stack) if a.host == "xsshost"]  # raised by the pipeline (see `stack`)
    # Without the CSP, escaping is the only defence left: that is what this test checks.
    page = await login_page(browser, stack.api.url, bypass_csp=True)
    console = stack.api.url
    await _assert_inert(page, f"{console}/alerts", expect_text=True, name="09-xss-alerts")
    await _assert_inert(page, f"{console}/alerts?host={quote('h' + XSS_ATTR)}", expect_text=True,
                        name="10-xss-alerts-filtered")
    await _assert_inert(page, f"{console}/alerts/{written_id}", expect_text=True, name="11-xss-alert-written")
    assert "dry_run" in await page.inner_text("main"), "the alert's automation events are listed"
    await _assert_inert(page, f"{console}/alerts/{piped[0].id}", expect_text=True, name="12-xss-alert-pipeline")
    assert await page.locator("ol.evidence mark.param").count() >= 1
    await _assert_inert(page, f"{console}/alerts/alert-orphan", expect_text=True, name="12-xss-alert-orphan")
    assert "shown without their templates" in await page.inner_text("main")
    assert await page.locator("ol.evidence li").count() == 2
    await _assert_inert(page, f"{console}/issues", expect_text=False, name="13-xss-issues")
    await page.locator("table.candidates details").first.locator("summary").click()
    body = await page.evaluate("document.body.innerText")
    assert XSS_SCRIPT in body and XSS_ATTR in body
    await _assert_inert(page, f"{console}/prototypes", expect_text=False, name="14-xss-prototypes")
    proto = piped[0].prototype_id
    await _assert_inert(page, f"{console}/prototypes/linux/{quote(proto, safe='')}", expect_text=True,
                        name="15-xss-prototype")
    await _assert_inert(page, f"{console}/patterns?os=linux&host=xsshost", expect_text=False, name="15-xss-patterns")
    assert "end_request" in await page.inner_text("#patterns"), "the attacker's template is listed"
    await _assert_inert(page, f"{console}/sources", expect_text=True, name="16-xss-sources")
    await _assert_inert(page, f"{console}/toggles", expect_text=False, name="17-xss-toggles")
    # An id in the path is echoed by the 'no such alert' page (a path segment cannot hold the `/` of `</script>`).
    await _assert_inert(page, f"{console}/alerts/{quote(XSS_ATTR, safe='')}", expect_text=True,
                        name="18-xss-missing-alert", texts=(XSS_ATTR,))

    # The source's switch works from the page.
    await page.goto(f"{console}/sources")
    row = page.locator(f"tr[data-source='{source_id}']")
    await row.locator("button", has_text="Disable").click()
    await page.wait_for_selector("text=Saved.")
    assert await page.locator(f"tr[data-source='{source_id}'] td:nth-child(3)").inner_text() == "no"
    await page.context.close()


# ------------------------------------------------------------------------------------------ scale
def _shown(page_html: str) -> list[int]:
    """The scale alerts a page lists, in its order."""
    return [int(n) for n in re.findall(r"scale alert (\d+)<", page_html)]


def _entries_read(page_html: str) -> int:
    found = re.search(r"(\d+) entries read for this page", page_html)
    assert found, "the page says how many stream entries it read"
    return int(found[1])


async def test_ten_thousand_alerts_page_with_bounded_reads(
    browser: Any, services: None, tmp_path: Path, screenshots: Path
) -> None:
    """With 10,000 stored alerts each page reads a bounded number of stream entries, whatever the
    stream holds: its 50 rows when unfiltered, at most the scan budget when a filter matches little
    (and then exactly the matches among the entries read); the chart stops at its own budget."""
    env = base_env(tmp_path)
    settings = settings_for_env(env)
    redis = aioredis.from_url(settings.redis_url, decode_responses=False)
    api = start_api(env, tmp_path / "api.log")
    try:
        writer, now = StreamWriter(redis, settings), time.time()
        types, severities = [str(f) for f in FailureType if f != "benign"], [str(s) for s in Severity]
        for start in range(0, 10_000, 1000):
            await writer.write(settings.stream_alerts, [
                Alert(id=f"alert-scale-{i}", type="issue", os="linux", failure_type=types[i % len(types)],
                      confidence=0.7, result={"summary": f"alert {i}"}, host=f"host-{i % 97}",
                      severity=severities[i % len(severities)], summary=f"scale alert {i}",
                      classifier="offline-v1", log_ids=[f"{i}-0"], created_at=now - 10_000 + i)
                for i in range(start, start + 1000)
            ], hash_prefix="alert:")
        assert await redis.xlen(settings.redis_key("alerts")) == 10_000
        assert SCAN_BUDGET < 10_000, "the scan budget bounds a page below what the stream holds"

        async with httpx.AsyncClient(timeout=30) as http:
            await http_login(http, api.url)

            async def page(url: str) -> tuple[str, str | None]:
                answer = await http.get(url)
                assert answer.status_code == 200
                found = re.search(r'href="([^"]+)" rel="next"', answer.text)
                return answer.text, str(httpx.URL(api.url).join(html.unescape(found[1]))) if found else None

            url: str | None = f"{api.url}/alerts"
            for first in (9999, 9949):  # newest first, and the pages continue
                assert url
                text, url = await page(url)
                assert _shown(text) == list(range(first, first - PAGE_SIZE, -1))
                assert _entries_read(text) == PAGE_SIZE, "an unfiltered page reads its rows and no more"

            matching = [i for i in range(9999, -1, -1) if i % 97 == 7 and severities[i % len(severities)] == "error"]
            url, newest = f"{api.url}/alerts?host=host-7&severity=error", 9999
            while newest >= 0:  # the pages go on through the whole stream, each entry read once
                assert url, f"no next page, though alerts 0..{newest} were not read"
                text, url = await page(url)
                read = _entries_read(text)
                assert read == min(SCAN_BUDGET, newest + 1), "a filter matching little reads the scan budget"
                assert _shown(text) == [i for i in matching if newest - read < i <= newest], "the matches read"
                newest -= read

            prototypes = await http.get(api.url + "/prototypes")
            assert prototypes.status_code == 200
            assert "Busy streams: only minutes from" in prototypes.text, "the chart stopped at its read budget"
            assert (await http.get(api.url + "/issues")).status_code == 200

        page_ = await login_page(browser, api.url)
        await page_.click("a[rel=next]")
        await page_.wait_for_url(re.compile(r".*before=.*"))
        assert await page_.locator("#alert-rows tr").count() == PAGE_SIZE
        shown = _shown(await page_.content())
        assert shown[0] == 9949 and shown[-1] == 9900, "the second page, newest first"
        assert await page_.locator(f"text={PAGE_SIZE} entries read for this page").count() == 1
        await shot(page_, "19-ten-thousand-alerts-page-2")
        await page_.context.close()
    finally:
        api.proc.terminate()
        await redis.aclose()
        await cleanup(settings)
