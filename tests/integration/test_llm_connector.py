"""The LLM connector against the local OpenAI-compatible double, shaped like OpenAI and like Ollama.

Every test runs on both shapes unless it exercises something only one server does (OpenAI's auth,
quota, Retry-After and strict-schema refusals; Ollama's busy 503 and `:latest` tags).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from connectors.embeddings_openai import OpenAIEmbedder
from connectors.llm import LLMConnector, RetryPolicy, UnusableAnswer
from connectors.llm_health import LLMHealth
from streamapp.errors import AuthFailed, ConfigError, ExternalAPIError, RateLimited, TransientError
from streamapp.processes import free_port
from streamapp.settings import load_settings
from streamapp.taxonomy import FailureType
from streamapp.verdicts import VERDICT_SCHEMA, InvalidVerdict, parse_verdict
from tests.doubles.llm_double import LLMDouble
from tests.support.streams import eventually
from tests.support.waits import Sleep, Waits

SYSTEM = "You triage log incidents. Classify the lines."
DISK = "Dec  1 10:00:01 db1 kernel: sd 0:0:0:0: [sda] I/O error, dev sda, sector 2048\n"
OOM = "Dec  1 10:00:02 app3 kernel: Out of memory: Killed process 4242 (java)\n"
HYDE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["lines"],
    "properties": {"lines": {"type": "array", "items": {"type": "string"}}},
}

openai_only = pytest.mark.parametrize("double", ["openai"], indirect=True)
ollama_only = pytest.mark.parametrize("double", ["ollama"], indirect=True)


@pytest.fixture(scope="module", params=["openai", "ollama"])
def double(request: pytest.FixtureRequest) -> Iterator[LLMDouble]:
    with LLMDouble(request.param, slow_sec=3.0) as llm:
        yield llm


@pytest.fixture
def llm(double: LLMDouble) -> LLMDouble:
    double.reset()
    double.retry_after_sec = 1.0
    return double


Connect = Callable[..., LLMConnector]


@pytest.fixture
async def connect(llm: LLMDouble) -> AsyncIterator[Connect]:
    """Connectors built from settings, as the app builds them; fast backoff so tests stay short."""
    made: list[LLMConnector] = []

    def make(*, tries: int = 3, timeout: float = 2.0, cap: float = 2.0, sleep: Sleep = asyncio.sleep,
             **settings: Any) -> LLMConnector:
        values = {
            "llm_provider": llm.flavor, "llm_base_url": llm.url, "llm_model": llm.model,
            "llm_api_key": llm.api_key if llm.flavor == "openai" else "", "llm_timeout_sec": timeout, **settings,
        }
        connector = LLMConnector.from_settings(
            load_settings(**values), policy=RetryPolicy(tries=tries, base_sec=0.05, cap_sec=cap), sleep=sleep
        )
        assert connector is not None
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


def check_verdict(obj: dict[str, Any]) -> object:
    return parse_verdict(obj, classifier="llm")


# --- answers -----------------------------------------------------------------------------------


async def test_structured_output_answers_with_the_schema(llm: LLMDouble, connect: Connect) -> None:
    answer, usage = await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA, name="verdict", check=check_verdict)
    assert parse_verdict(answer, classifier="llm").failure_type is FailureType.HARDWARE_DISK
    [call] = llm.calls
    fmt = call.body["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {"name": "verdict", "schema": VERDICT_SCHEMA, "strict": True}}
    assert call.body["temperature"] == 0
    assert usage.requests == 1 and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    if llm.flavor == "openai":
        assert call.headers["authorization"] == f"Bearer {llm.api_key}"


async def test_answers_are_deterministic_and_follow_the_lines(connect: Connect) -> None:
    connector = connect()
    first, _ = await connector.chat_json(SYSTEM, OOM, VERDICT_SCHEMA, name="verdict")
    again, _ = await connector.chat_json(SYSTEM, OOM, VERDICT_SCHEMA, name="verdict")
    assert first == again and first["failure_type"] == "os_oom"
    hyde, _ = await connector.chat_json("Write log lines this failure would print.", OOM, HYDE_SCHEMA, name="hyde")
    assert hyde["lines"] and all(isinstance(line, str) for line in hyde["lines"])


@openai_only
async def test_server_without_structured_output_gets_the_schema_in_the_prompt(
    llm: LLMDouble, connect: Connect
) -> None:
    llm.scenario = "no_json_schema"
    connector = connect()
    answer, usage = await connector.chat_json(SYSTEM, DISK, VERDICT_SCHEMA, name="verdict", check=check_verdict)
    assert answer["failure_type"] == "hardware_disk"
    refused, fallback = llm.calls
    assert "response_format" in refused.body and "response_format" not in fallback.body
    assert '"failure_type"' in fallback.body["messages"][0]["content"]  # the schema, in the system prompt
    assert usage.requests == 2
    # Remembered per schema: the next call asks in the prompt straight away.
    await connector.chat_json(SYSTEM, OOM, VERDICT_SCHEMA, name="verdict")
    assert len(llm.calls) == 3 and "response_format" not in llm.calls[-1].body


@openai_only
async def test_schema_refused_by_strict_rules_falls_back_to_the_prompt(llm: LLMDouble, connect: Connect) -> None:
    loose = {**HYDE_SCHEMA, "additionalProperties": True}
    answer, _ = await connect().chat_json(SYSTEM, OOM, loose, name="hyde")
    assert answer["lines"]
    assert [("response_format" in c.body) for c in llm.calls] == [True, False]


# --- retries -----------------------------------------------------------------------------------


@openai_only
async def test_rate_limit_waits_at_least_retry_after(llm: LLMDouble, connect: Connect) -> None:
    """The one wait between the 429 and the retry is the Retry-After (1 s), not the shorter backoff."""
    llm.enqueue("rate_limit")
    waits = Waits(llm)
    answer, usage = await connect(sleep=waits).chat_json(SYSTEM, DISK, VERDICT_SCHEMA, name="verdict")
    assert answer["failure_type"] == "hardware_disk"
    assert [c.scenario for c in llm.calls] == ["rate_limit", "ok"]
    assert waits.taken == [(1.0, 1)], "waited Retry-After after the 429, before the retry"
    assert usage.requests == 2


@openai_only
async def test_rate_limit_longer_than_the_cap_is_raised_at_once(llm: LLMDouble, connect: Connect) -> None:
    """A Retry-After past the cap is the caller's to honour: raised without waiting or retrying."""
    llm.scenario, llm.retry_after_sec = "rate_limit", 30
    waits = Waits(llm)
    with pytest.raises(RateLimited) as limited:
        await connect(cap=2.0, sleep=waits).chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert limited.value.retry_after == 30
    assert len(llm.calls) == 1 and waits.taken == []


@openai_only
async def test_persistent_rate_limit_gives_up_after_the_tries(llm: LLMDouble, connect: Connect) -> None:
    llm.scenario, llm.retry_after_sec = "rate_limit", 0.1
    with pytest.raises(RateLimited):
        await connect(tries=3).chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert len(llm.calls) == 3


@ollama_only
async def test_busy_ollama_is_retried_with_backoff(llm: LLMDouble, connect: Connect) -> None:
    llm.enqueue("busy", "busy")
    await connect(tries=3).chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert [c.scenario for c in llm.calls] == ["busy", "busy", "ok"]


async def test_server_errors_are_retried_then_succeed(llm: LLMDouble, connect: Connect) -> None:
    llm.enqueue("server_error", "server_error")
    _, usage = await connect(tries=3).chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert usage.requests == 3 and len(llm.calls) == 3


async def test_persistent_server_errors_give_up_after_the_tries(llm: LLMDouble, connect: Connect) -> None:
    llm.scenario = "server_error"
    with pytest.raises(ExternalAPIError) as failed:
        await connect(tries=3).chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert failed.value.status == 500 and len(llm.calls) == 3


async def test_slow_server_times_out_after_the_tries(llm: LLMDouble, connect: Connect) -> None:
    """Each try is given up at the client's timeout (0.3 s): the double, holding every answer for
    `slow_sec`, sees the client hang up on both requests before answering either."""
    llm.scenario = "slow"
    connector = connect(tries=2, timeout=0.3)
    with pytest.raises(TransientError, match="timed out"):
        await connector.chat_json(SYSTEM, DISK, VERDICT_SCHEMA)

    async def both_abandoned() -> bool:
        return len(llm.abandoned) == 2

    await eventually(both_abandoned, timeout=10, interval=0.05)
    assert llm.abandoned == llm.calls, "two tries, each hung up on before its answer"
    assert (connector.totals.requests, connector.totals.failures) == (2, 1)


async def test_client_errors_are_not_retried(llm: LLMDouble, connect: Connect) -> None:
    llm.scenario = "bad_request"
    with pytest.raises(ExternalAPIError) as bad:
        await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert bad.value.status == 400 and not isinstance(bad.value, RateLimited | AuthFailed)
    llm.reset()
    with pytest.raises(ExternalAPIError) as unknown:
        await connect(llm_model="no-such-model").chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert unknown.value.status == 404 and "no-such-model" in unknown.value.detail
    assert len(llm.calls) == 1


@openai_only
async def test_wrong_key_and_exhausted_quota_are_not_retried(llm: LLMDouble, connect: Connect) -> None:
    with pytest.raises(AuthFailed) as refused:
        await connect(llm_api_key="sk-wrong-000000000000").chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert refused.value.status == 401 and "sk-wrong-000000000000" not in str(refused.value)
    assert len(llm.calls) == 1
    llm.reset()
    llm.scenario = "insufficient_quota"
    with pytest.raises(ExternalAPIError, match="insufficient_quota") as quota:
        await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert quota.value.status == 429 and not isinstance(quota.value, RateLimited)
    assert len(llm.calls) == 1


@openai_only
async def test_the_api_key_is_never_logged(
    llm: LLMDouble, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm.enqueue("rate_limit", "server_error", "malformed_json")
    llm.retry_after_sec = 0.1
    await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert "try 2 of 3" in caplog.text  # retries are logged...
    assert llm.api_key not in caplog.text  # ...without the key


# --- unusable answers ----------------------------------------------------------------------------


async def test_malformed_json_is_asked_again_once(llm: LLMDouble, connect: Connect) -> None:
    llm.enqueue("malformed_json")
    answer, usage = await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA, name="verdict")
    assert answer["failure_type"] == "hardware_disk" and usage.requests == 2
    reask = llm.calls[1].body["messages"]
    assert [m["role"] for m in reask] == ["system", "user", "assistant", "user"]
    assert "not usable" in reask[-1]["content"]
    llm.reset()
    llm.scenario = "malformed_json"
    with pytest.raises(UnusableAnswer) as invalid:
        await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert invalid.value.reason == "invalid_json" and len(llm.calls) == 2


async def test_an_answer_failing_the_callers_check_is_invalid(llm: LLMDouble, connect: Connect) -> None:
    def reject(obj: dict[str, Any]) -> None:
        raise InvalidVerdict("confidence too low to be believed")

    with pytest.raises(UnusableAnswer, match="confidence too low") as invalid:
        await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA, check=reject)
    assert invalid.value.reason == "invalid_json" and len(llm.calls) == 2


async def test_truncated_answer_is_an_error(llm: LLMDouble, connect: Connect) -> None:
    llm.scenario = "length"
    with pytest.raises(UnusableAnswer, match="token limit") as cut:
        await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert cut.value.reason == "length" and len(llm.calls) == 1


@openai_only
async def test_refusal_is_an_error_carrying_the_models_words(llm: LLMDouble, connect: Connect) -> None:
    llm.scenario = "refusal"
    with pytest.raises(UnusableAnswer, match="can't assist") as refused:
        await connect().chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    assert refused.value.reason == "refusal" and len(llm.calls) == 1


# --- usage ---------------------------------------------------------------------------------------


async def test_usage_totals_count_tokens_calls_requests_and_failures(llm: LLMDouble, connect: Connect) -> None:
    connector = connect()
    llm.enqueue("server_error")
    _, first = await connector.chat_json(SYSTEM, DISK, VERDICT_SCHEMA)
    _, second = await connector.chat_json(SYSTEM, OOM, VERDICT_SCHEMA)
    llm.scenario = "length"
    with pytest.raises(UnusableAnswer):
        await connector.chat_json(SYSTEM, OOM, VERDICT_SCHEMA)
    totals = connector.totals
    assert (totals.calls, totals.failures, totals.requests) == (3, 1, 4)
    assert totals.prompt_tokens > first.prompt_tokens + second.prompt_tokens  # the failed call spent tokens too
    assert totals.completion_tokens > first.completion_tokens + second.completion_tokens


# --- health --------------------------------------------------------------------------------------


async def test_health_reports_the_model_served(llm: LLMDouble, connect: Connect) -> None:
    assert await connect().health() == (True, f"model {llm.model!r} is served")
    [call] = llm.calls
    assert (call.method, call.path) == ("GET", "/v1/models")
    ok, detail = await connect(llm_model="no-such-model").health()
    assert not ok and "'no-such-model' is not served" in detail and llm.model in detail


async def test_health_reports_an_unreachable_server(connect: Connect) -> None:
    ok, detail = await connect(llm_base_url=f"http://127.0.0.1:{free_port()}/v1").health()
    assert not ok and "Connection error" in detail


@openai_only
async def test_health_reports_a_refused_key(connect: Connect) -> None:
    ok, detail = await connect(llm_api_key="sk-wrong-000000000000").health()
    assert not ok and "401" in detail


@ollama_only
async def test_health_accepts_an_untagged_ollama_model(connect: Connect) -> None:
    assert (await connect(llm_model="all-minilm").health())[0]


async def test_health_service_checks_at_start_and_then_periodically(llm: LLMDouble, connect: Connect) -> None:
    service = LLMHealth(connect(), interval_sec=0.2)
    await service.start()
    try:
        assert service.status.state == "reachable" and service.status.ok
        llm.scenario = "server_error"
        deadline = time.monotonic() + 5
        while service.status.state == "reachable" and time.monotonic() < deadline:
            await service.sleep(0.05)
        body = service.status.as_json()
        assert body["ok"] is False and body["state"] == "unavailable" and "500" in body["detail"]
    finally:
        await service.stop()


async def test_health_service_of_a_disabled_llm_is_ok_without_calls(llm: LLMDouble) -> None:
    settings = load_settings(llm_provider="none")
    assert LLMConnector.from_settings(settings) is None
    service = LLMHealth(None, interval_sec=0.05)
    await service.start()
    await service.sleep(0.2)
    await service.stop()
    assert service.status.as_json() == {"ok": True, "state": "disabled", "detail": "LLM_PROVIDER=none",
                                        "checked_at": None}
    assert llm.calls == []


# --- the double's own contract, configuration, policy ---------------------------------------------


def test_double_answers_auth_and_unknown_models_like_its_server(llm: LLMDouble) -> None:
    chat = {"model": llm.model, "messages": [{"role": "user", "content": DISK}]}
    anonymous = httpx.post(f"{llm.url}/chat/completions", json=chat)
    unknown = httpx.post(f"{llm.url}/chat/completions", json={**chat, "model": "nope"},
                         headers={"Authorization": f"Bearer {llm.api_key}"})
    assert set(unknown.json()["error"]) == {"message", "type", "param", "code"}
    if llm.flavor == "openai":
        assert anonymous.status_code == 401 and "didn't provide an API key" in anonymous.json()["error"]["message"]
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    else:
        assert anonymous.status_code == 200  # a local Ollama has no authentication
        assert unknown.status_code == 404 and unknown.json()["error"]["message"].startswith('model "nope" not found')
    with pytest.raises(ValueError, match="no scenario"):
        llm.scenario = "insufficient_quota" if llm.flavor == "ollama" else "busy"



def test_openai_without_a_key_fails_fast() -> None:
    with pytest.raises(ConfigError, match="LLM_API_KEY"):
        LLMConnector.from_settings(load_settings(llm_provider="openai", llm_api_key=""))


def test_backoff_doubles_with_jitter_up_to_the_cap_and_never_undercuts_retry_after() -> None:
    policy = RetryPolicy(tries=5, base_sec=1.0, cap_sec=8.0)
    boom = ExternalAPIError("llm", 500, "boom")
    assert [policy.wait(n, boom, lambda: 0.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [policy.wait(n, boom, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.wait(1, RateLimited("llm", 429, "slow down", retry_after=3.0), lambda: 0.0) == 3.0
    with pytest.raises(ValueError):
        RetryPolicy(tries=0)


async def test_embeddings_from_the_double_come_back_in_input_order(llm: LLMDouble) -> None:
    settings = load_settings(llm_provider=llm.flavor, llm_base_url=llm.url, llm_api_key=llm.api_key)
    embedder = OpenAIEmbedder.from_settings(settings, model=llm.models[1])
    try:
        texts = [DISK, OOM, DISK]
        vectors = await embedder.embed(texts)
    finally:
        await embedder.aclose()
    assert vectors.shape == (3, 8)
    np.testing.assert_allclose(vectors[0], vectors[2])
    assert not np.allclose(vectors[0], vectors[1])
