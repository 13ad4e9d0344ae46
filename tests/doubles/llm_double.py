"""A local OpenAI-compatible server for tests, shaped like OpenAI or like Ollama's `/v1`.

    with LLMDouble() as llm:                  # or LLMDouble("ollama")
        client = AsyncOpenAI(base_url=llm.url, api_key=llm.api_key)
        llm.scenario = "rate_limit"           # every request from now on
        llm.enqueue("server_error", "slow")   # the next two requests, then `scenario` again
        llm.calls                             # every request received, in order
        llm.abandoned                         # `slow` ones the client hung up on before the answer

Routes: `POST /v1/chat/completions`, `GET /v1/models`, `POST /v1/embeddings`. Answers are built
from the request's JSON schema (`response_format` json_schema, or a schema quoted in the prompt when
there is none), enum values picked by keywords of the first user message, so they are deterministic.
Each flavor does what its server does: OpenAI checks the bearer token, enforces strict-schema rules,
throttles with 429 + `retry-after` + `x-ratelimit-*` and can set `refusal`; Ollama needs no key,
ignores `strict`, names unknown models `model "x" not found` and answers 503 when busy (no
Retry-After). Errors have OpenAI's `{"error": {"message", "type", "param", "code"}}` shape.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.doubles.serving import Scenarios, ServedApp

Flavor = Literal["openai", "ollama"]

DEFAULT_MODELS: dict[Flavor, tuple[str, ...]] = {
    "openai": ("gpt-4o-mini", "text-embedding-3-small"),
    "ollama": ("llama3.1:8b", "all-minilm:latest"),
}


@dataclass(frozen=True)
class _Failure:
    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None


# Scenarios answered with an error status, as each server words them.
_ERRORS: dict[Flavor, dict[str, _Failure]] = {
    "openai": {
        "rate_limit": _Failure(
            429, "requests", "Rate limit reached for {model} in organization org-double on requests per min (RPM): "
            "Limit 3, Used 3, Requested 1. Please try again in {wait}s.", "rate_limit_exceeded"),
        "insufficient_quota": _Failure(
            429, "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota"),
        "server_error": _Failure(
            500, "server_error", "The server had an error while processing your request. Sorry about that!"),
        "overloaded": _Failure(503, "server_error", "The engine is currently overloaded, please try again later."),
        "bad_request": _Failure(
            400, "invalid_request_error", "This model's maximum context length is 128000 tokens. Please reduce the "
            "length of the messages.", "context_length_exceeded", "messages"),
    },
    "ollama": {
        "busy": _Failure(503, "api_error", "server busy, please try again.  maximum pending requests exceeded"),
        "server_error": _Failure(500, "api_error", "llama runner process has terminated: signal: killed"),
        "bad_request": _Failure(400, "invalid_request_error", "invalid message content type: <nil>"),
    },
}
# Scenarios that shape a chat answer (other routes answer normally).
_ANSWERS: dict[Flavor, frozenset[str]] = {
    "openai": frozenset({"ok", "slow", "malformed_json", "length", "refusal", "no_json_schema"}),
    "ollama": frozenset({"ok", "slow", "malformed_json", "length"}),
}
# Words of a log excerpt that select an enum value; first match wins, so specific phrases come first.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "os_filesystem_full": ("no space left", "disk quota", "filesystem full", "read-only file system"),
    "os_oom": ("out of memory", "oom", "oom-killer"),
    "os_kernel_panic": ("kernel panic", "oops", "hung task", "soft lockup"),
    "hardware_disk": ("i/o error", "smart", "medium error", "raid", "bad sector"),
    "hardware_memory": ("ecc", "edac", "dimm"),
    "hardware_cpu": ("machine check", "mce"),
    "hardware_thermal": ("temperature", "thermal", "overheat"),
    "hardware_fan": ("fan",),
    "hardware_psu": ("power supply", "psu", "voltage"),
    "network_link": ("link down", "link is down", "carrier"),
    "network_dns": ("dns", "name resolution"),
    "network_routing": ("bgp", "ospf", "no route to host"),
    "app_crash": ("segfault", "core dumped", "crashed"),
    "app_config": ("invalid config", "configuration error"),
    "app_dependency": ("connection refused", "timed out"),
    "security_auth": ("authentication failure", "failed password", "permission denied", "invalid user"),
    "performance_degradation": ("latency", "backlog"),
    "critical": ("panic", "fatal", "critical", "emerg"),
    "error": ("error", "failed", "failure", "refused"),
    "warning": ("warn", "warning"),
}
_STRICT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Call:
    """One request as received, with the scenario picked for it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    scenario: str


class LLMDouble(Scenarios[Call], ServedApp):
    """The server, in a background thread on a loopback port; a context manager (or start/stop)."""

    def __init__(
        self,
        flavor: Flavor = "openai",
        *,
        models: tuple[str, ...] | None = None,
        api_key: str = "sk-double-0123456789",
        retry_after_sec: float = 1.0,
        slow_sec: float = 5.0,
    ) -> None:
        super().__init__()
        self.flavor = flavor
        self.name = flavor  # how its thread and its scenario errors name it
        self.scenarios = _ANSWERS[flavor] | frozenset(_ERRORS[flavor])
        self.models = models or DEFAULT_MODELS[flavor]
        # Ollama runs without authentication; clients still send some key.
        self.api_key = api_key if flavor == "openai" else "ollama"
        self.retry_after_sec = retry_after_sec
        self.slow_sec = slow_sec

    # --- test-facing controls --------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL for an OpenAI client (`.../v1`)."""
        return f"{self.root_url}/v1"

    @property
    def model(self) -> str:
        """The chat model it serves."""
        return self.models[0]

    # --- the server ------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/embeddings", self._embeddings, methods=["POST"]),
        ]

    async def _receive(self, request: Request) -> tuple[str, Any, JSONResponse | None]:
        """Log the call and pick its scenario; a response if auth or an error scenario settles it."""
        body = json.loads(await request.body() or b"null") if request.method == "POST" else None
        scenario = self._take()
        call = self._log(Call(request.method, request.url.path, dict(request.headers), body, scenario))
        if self.flavor == "openai":
            refused = self._auth(request.headers.get("authorization", ""))
            if refused is not None:
                return scenario, body, refused
        model = body.get("model") if isinstance(body, dict) else None
        if model is not None and model not in self.models:
            if self.flavor == "ollama":
                return scenario, body, _error(404, "not_found_error", None, None,
                                              f'model "{model}" not found, try pulling it first')
            return scenario, body, _error(404, "invalid_request_error", "model_not_found", None,
                                          f"The model `{model}` does not exist or you do not have access to it.")
        if scenario in _ERRORS[self.flavor] and (scenario != "bad_request" or request.method == "POST"):
            return scenario, body, self._scenario_error(scenario, model or self.model)
        if scenario == "slow":
            await self._stall(request, call, self.slow_sec)
        return scenario, body, None

    def _auth(self, header: str) -> JSONResponse | None:
        if not header.startswith("Bearer ") or not header[7:].strip():
            return _error(401, "invalid_request_error", None, None, "You didn't provide an API key. You need to "
                          "provide your API key in an Authorization header using Bearer auth "
                          "(i.e. Authorization: Bearer YOUR_KEY).")
        key = header[7:].strip()
        if key != self.api_key:
            masked = f"{key[:3]}{'*' * max(len(key) - 7, 0)}{key[-4:]}"
            return _error(401, "invalid_request_error", "invalid_api_key", None,
                          f"Incorrect API key provided: {masked}. You can find your API key at "
                          "https://platform.openai.com/account/api-keys.")
        return None

    def _scenario_error(self, scenario: str, model: str) -> JSONResponse:
        failure = _ERRORS[self.flavor][scenario]
        wait = self.retry_after_sec
        message = failure.message.format(model=model, wait=f"{wait:g}")
        response = _error(failure.status, failure.type, failure.code, failure.param, message)
        if scenario == "rate_limit":
            response.headers.update({
                "retry-after": f"{wait:g}", "x-ratelimit-limit-requests": "3", "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": f"{wait:g}s", "x-ratelimit-limit-tokens": "200000",
                "x-ratelimit-remaining-tokens": "199000", "x-ratelimit-reset-tokens": "300ms",
            })
        return response

    async def _models(self, request: Request) -> JSONResponse:
        _, _, refused = await self._receive(request)
        if refused is not None:
            return refused
        owner = "library" if self.flavor == "ollama" else "system"
        data = [{"id": m, "object": "model", "created": 1717000000, "owned_by": owner} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    async def _chat(self, request: Request) -> JSONResponse:
        scenario, body, refused = await self._receive(request)
        if refused is not None:
            return refused
        fmt = body.get("response_format") or {"type": "text"}
        user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
        if fmt.get("type") == "json_schema":
            if scenario == "no_json_schema":
                return _error(400, "invalid_request_error", None, "response_format",
                              "response_format of type 'json_schema' is not supported by this model")
            problem = _strict_problem(fmt["json_schema"]) if self.flavor == "openai" else None
            if problem:
                return _error(400, "invalid_request_error", None, "response_format", problem)
            content = json.dumps(_instance(fmt["json_schema"]["schema"], user, "answer"))
        else:
            content = _text_answer(_schema_in_prompt(body["messages"]), user)
        finish, refusal = "stop", ""
        if scenario == "malformed_json":
            content = content.replace('"', "'")
        elif scenario == "length":
            content, finish = content[: len(content) // 2], "length"
        elif scenario == "refusal":
            refusal = "I'm sorry, I can't assist with that request."
        message: dict[str, Any] = {"role": "assistant", "content": None if refusal else content}
        if self.flavor == "openai":
            message["refusal"] = refusal or None
        prompt = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4 + 1
        completion = len(refusal or content) // 4 + 1
        return JSONResponse({
            "id": f"chatcmpl-{len(self._calls)}", "object": "chat.completion", "created": 1717000000,
            "model": body["model"], "system_fingerprint": f"fp_{self.flavor}",
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        })

    async def _embeddings(self, request: Request) -> JSONResponse:
        _, body, refused = await self._receive(request)
        if refused is not None:
            return refused
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        dim = body.get("dimensions") or 8
        data = []
        for i, text in enumerate(texts):
            # Floats whatever `encoding_format` asks, as Ollama does (the openai client accepts both).
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
            data.append({"object": "embedding", "index": i, "embedding": vector.tolist()})
        data.reverse()  # clients must order by `index`
        tokens = sum(len(t) for t in texts) // 4 + 1
        return JSONResponse({"object": "list", "data": data, "model": body["model"],
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _error(status: int, kind: str, code: str | None, param: str | None, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status)


def _strict_problem(spec: dict[str, Any]) -> str | None:
    """What OpenAI's strict structured output refuses: a bad name, an object without
    `additionalProperties: false`, or a property missing from `required`."""
    name = str(spec.get("name", ""))
    if not _STRICT_NAME.fullmatch(name):
        return f"Invalid 'response_format.json_schema.name': {name!r} must match [a-zA-Z0-9_-]{{1,64}}."
    if not spec.get("strict"):
        return None
    stack: list[tuple[str, Any]] = [("()", spec.get("schema"))]
    while stack:
        where, node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") == "object":
            if node.get("additionalProperties") is not False:
                return (f"Invalid schema for response_format '{name}': In context={where}, 'additionalProperties' "
                        "is required to be supplied and to be false.")
            missing = sorted(set(node.get("properties", {})) - set(node.get("required", [])))
            if missing:
                return (f"Invalid schema for response_format '{name}': In context={where}, 'required' is required "
                        f"to be supplied and to be an array including every key in properties. Missing {missing[0]!r}.")
        stack += [(f"{where}.{key}", value) for key, value in node.get("properties", {}).items()]
        stack.append((f"{where}.items", node.get("items")))
    return None


def _schema_in_prompt(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first JSON schema quoted in a system message, as a model reading the prompt would find it."""
    decoder = json.JSONDecoder()
    for message in messages:
        text = str(message.get("content") or "") if message.get("role") == "system" else ""
        for match in re.finditer(r"\{", text):
            try:
                value, _ = decoder.raw_decode(text, match.start())
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict) and "properties" in value:
                return value
    return None


def _text_answer(schema: dict[str, Any] | None, user: str) -> str:
    """A chatty answer, as models give without structured output: the JSON fenced after some prose."""
    if schema is None:
        return "I am not sure what you would like me to do with these lines."
    return "Here is my answer:\n```json\n" + json.dumps(_instance(schema, user, "answer"), indent=2) + "\n```"


def _instance(schema: dict[str, Any], text: str, key: str) -> Any:
    """A value fitting ``schema``, chosen from ``text`` where the schema leaves a choice."""
    kinds = schema.get("type", "object")
    kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
    if "enum" in schema:
        return _pick(schema["enum"], text.lower())
    if kind == "object":
        return {k: _instance(v, text, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(schema.get("minItems", 0), 2)
        return [_instance(schema.get("items", {}), text, f"{key} {i + 1}") for i in range(count)]
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1)
        value = low + (high - low) * 0.85
        return round(value) if kind == "integer" else round(value, 2)
    if kind == "boolean":
        return True
    if kind == "string":
        head = text.strip().splitlines()[0][:60] if text.strip() else ""
        return f"{key}: {head}"
    return None


def _pick(values: list[Any], text: str) -> Any:
    for value, words in _KEYWORDS.items():
        if value in values and any(re.search(rf"\b{re.escape(w)}\b", text) for w in words):
            return value
    for value in values:
        if isinstance(value, str) and re.search(rf"\b{re.escape(value.lower())}\b", text):
            return value
    return "benign" if "benign" in values else values[0]
