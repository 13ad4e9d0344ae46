"""Chat completions as validated JSON, from an OpenAI-compatible endpoint (OpenAI, or Ollama's `/v1`).

`LLMConnector.chat_json` asks for structured output (`response_format` json_schema, strict). A server
that refuses it (400/422 naming `response_format`) is asked again with the schema in the prompt, and
the first JSON object of the text is taken, fenced or not. Requests that may succeed later (429, 5xx,
timeouts, refused connections) are retried with capped exponential backoff and jitter, never sooner
than the server asked; the openai client's own retries are off, so these are the only ones. Answers
that cannot be used raise `UnusableAnswer` with a reason; invalid JSON gets one re-ask first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from openai import NOT_GIVEN, AsyncOpenAI
from openai.types.chat import ChatCompletion

from connectors.openai_errors import is_retryable, typed_error
from streamapp.errors import ConfigError, ExternalAPIError, RateLimited
from streamapp.settings import Settings

log = logging.getLogger(__name__)

SYSTEM = "llm"
OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"
# Statuses with which OpenAI-compatible servers refuse a `response_format` they do not support.
_FORMAT_REFUSED_STATUSES = (400, 422)
_JSON_INSTRUCTIONS = "\n\nReply with exactly one JSON object, no prose, that validates against this JSON schema:\n"


class UnusableAnswer(ExternalAPIError):
    """The model answered (HTTP 200) but the answer cannot be used. ``reason`` is one of `refusal`
    (``detail`` is the model's refusal), `length` (cut at the token limit), `content_filter`, or
    `invalid_json` (no JSON object, or one missing required keys or failing the caller's check)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(SYSTEM, 200, f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``tries`` requests per call; waits double from ``base_sec`` up to ``cap_sec`` (equal
    jitter), and are never shorter than the server's Retry-After. A server asking for more than
    ``cap_sec`` gets its `RateLimited` raised at once: the caller backs off, the stream is not held."""

    tries: int = 5
    base_sec: float = 1.0
    cap_sec: float = 60.0

    def __post_init__(self) -> None:
        if self.tries < 1 or self.base_sec < 0 or self.cap_sec < self.base_sec:
            raise ValueError(f"invalid retry policy {self}")

    def wait(self, tried: int, error: Exception, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after ``error`` ended request number ``tried`` (1-based)."""
        ceiling = min(self.cap_sec, self.base_sec * 2 ** (tried - 1))
        backoff = ceiling / 2 + rand() * ceiling / 2
        asked = error.retry_after if isinstance(error, RateLimited) else 0.0
        if asked > self.cap_sec:
            raise error
        return max(asked, backoff)


@dataclass(frozen=True)
class Usage:
    """What one `chat_json` call spent, over all its requests (retries, fallback and re-ask included)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0


@dataclass
class UsageTotals:
    """Running totals of a connector: tokens, `chat_json` calls, HTTP requests, calls that raised."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    requests: int = 0
    failures: int = 0


class _FormatRefused(Exception):
    """The server does not take this `response_format`."""


class LLMConnector:
    """One model behind an OpenAI-compatible endpoint. ``totals`` counts what it spent; ``sleep``
    waits between tries (injected, so tests see the waits without taking them)."""

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        policy: RetryPolicy | None = None,
        health_timeout_sec: float = 3.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.model = model
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.totals = UsageTotals()
        self._client = client
        self._health_timeout = health_timeout_sec
        # Schema names the server refused as structured output; they go in the prompt from then on.
        self._in_prompt: set[str] = set()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> LLMConnector | None:
        """The configured connector, or None when `LLM_PROVIDER=none`. Each request is bounded by
        `LLM_TIMEOUT_SEC` (connecting by at most 5 s of it)."""
        if settings.llm_provider == "none":
            return None
        key = settings.llm_api_key.get_secret_value()
        if settings.llm_provider == "openai" and not key:
            raise ConfigError("LLM_API_KEY: required when LLM_PROVIDER=openai")
        timeout = settings.llm_timeout_sec
        client = AsyncOpenAI(
            base_url=settings.llm_base_url or (OLLAMA_BASE_URL if settings.llm_provider == "ollama" else None),
            # Ollama ignores the key, but the client refuses to start without one.
            api_key=key or "ollama",
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            max_retries=0,
        )
        return cls(client, model=settings.llm_model, policy=policy, sleep=sleep)

    async def chat_json(
        self,
        system: str,
        user: str,
        schema: Mapping[str, Any],
        *,
        name: str = "answer",
        check: Callable[[dict[str, Any]], object] | None = None,
    ) -> tuple[dict[str, Any], Usage]:
        """The model's answer to ``user`` as a JSON object fitting ``schema`` (named ``name``, which
        must match `[A-Za-z0-9_-]{1,64}`). ``check`` may validate further by raising ValueError (e.g.
        `parse_verdict`); a failed check counts as invalid JSON. Raises `UnusableAnswer`, or the typed
        errors of `connectors.openai_errors` once retries are spent or pointless."""
        spent = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0}
        self.totals.calls += 1
        try:
            answer = await self._answer(system, user, schema, name, check, spent)
        except Exception:
            self.totals.failures += 1
            raise
        finally:
            self.totals.prompt_tokens += spent["prompt_tokens"]
            self.totals.completion_tokens += spent["completion_tokens"]
            self.totals.requests += spent["requests"]
        return answer, Usage(**spent)

    async def health(self) -> tuple[bool, str]:
        """Whether the endpoint answers `GET /models` within the health timeout and serves the model."""
        try:
            page = await self._client.with_options(timeout=self._health_timeout).models.list()
        except openai.APIError as exc:
            return False, str(typed_error(SYSTEM, exc))
        served = [m.id for m in page.data]
        # Ollama lists untagged models as `name:latest`.
        if self.model not in served and f"{self.model}:latest" not in served:
            return False, f"model {self.model!r} is not served (served: {', '.join(served[:10]) or 'none'})"
        return True, f"model {self.model!r} is served"

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    async def _answer(
        self,
        system: str,
        user: str,
        schema: Mapping[str, Any],
        name: str,
        check: Callable[[dict[str, Any]], object] | None,
        spent: dict[str, int],
    ) -> dict[str, Any]:
        messages, fmt = _request(system, user, schema, name, in_prompt=name in self._in_prompt)
        try:
            completion = await self._complete(messages, fmt, spent)
        except _FormatRefused as exc:
            log.warning("llm: the server refuses structured output for %r (%s); asking in the prompt", name, exc)
            self._in_prompt.add(name)
            messages, fmt = _request(system, user, schema, name, in_prompt=True)
            completion = await self._complete(messages, fmt, spent)
        content = _content(completion)
        try:
            return _parse(content, schema, check)
        except UnusableAnswer as exc:
            log.info("llm: re-asking once: %s", exc.detail)
            reask = f"Your reply was not usable ({exc.detail}). Reply again with only the JSON object."
            messages += [{"role": "assistant", "content": content}, {"role": "user", "content": reask}]
            return _parse(_content(await self._complete(messages, fmt, spent)), schema, check)

    async def _complete(
        self, messages: list[dict[str, str]], fmt: dict[str, Any] | None, spent: dict[str, int]
    ) -> ChatCompletion:
        tried = 0
        while True:
            tried += 1
            spent["requests"] += 1
            try:
                completion = await self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=0,
                    response_format=fmt if fmt is not None else NOT_GIVEN,  # type: ignore[arg-type]
                )
            except openai.APIError as exc:
                if fmt is not None and _refuses_format(exc):
                    raise _FormatRefused(typed_error(SYSTEM, exc)) from exc
                error = typed_error(SYSTEM, exc)
                if not is_retryable(error) or tried >= self.policy.tries:
                    raise error from exc
                wait = self.policy.wait(tried, error)
                log.warning("llm: %s; try %d of %d in %.2fs", error, tried + 1, self.policy.tries, wait)
                await self.sleep(wait)
                continue
            if completion.usage is not None:
                spent["prompt_tokens"] += completion.usage.prompt_tokens
                spent["completion_tokens"] += completion.usage.completion_tokens
            return completion


def _request(
    system: str, user: str, schema: Mapping[str, Any], name: str, *, in_prompt: bool
) -> tuple[list[dict[str, str]], dict[str, Any] | None]:
    """Messages and `response_format`: the schema as structured output, or (for servers refusing
    that) in the system prompt with the request to answer in JSON."""
    if in_prompt:
        system = f"{system}{_JSON_INSTRUCTIONS}{json.dumps(schema)}"
        fmt = None
    else:
        fmt = {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], fmt


def _refuses_format(exc: openai.APIError) -> bool:
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in _FORMAT_REFUSED_STATUSES:
        return False
    text = f"{exc.param} {exc.message}".lower()
    return "response_format" in text or "json_schema" in text


def _content(completion: ChatCompletion) -> str:
    if not completion.choices:
        raise UnusableAnswer("invalid_json", "the answer has no choices")
    choice = completion.choices[0]
    if choice.message.refusal:
        raise UnusableAnswer("refusal", choice.message.refusal[:500])
    if choice.finish_reason == "length":
        raise UnusableAnswer("length", "the answer was cut at the token limit")
    if choice.finish_reason == "content_filter":
        raise UnusableAnswer("content_filter", "the answer was withheld by the server's content filter")
    return choice.message.content or ""


def _parse(
    content: str, schema: Mapping[str, Any], check: Callable[[dict[str, Any]], object] | None
) -> dict[str, Any]:
    obj = first_json_object(content)
    if obj is None:
        raise UnusableAnswer("invalid_json", f"no JSON object in {content[:80]!r}")
    missing = [key for key in schema.get("required", ()) if key not in obj]
    if missing:
        raise UnusableAnswer("invalid_json", f"missing required keys {missing}")
    if check is not None:
        try:
            check(obj)
        except ValueError as exc:
            raise UnusableAnswer("invalid_json", str(exc)) from exc
    return obj


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, wherever it starts (so prose and ```json fences around it
    do not matter); None if there is none."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None
