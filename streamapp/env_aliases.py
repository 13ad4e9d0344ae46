"""The original system's environment names, read as aliases of our settings (with a one-line
deprecation warning each), and a warning for any other `ENABLE_*` or `*_STREAM` variable that no
setting reads: a migrated deployment must not run with half its configuration silently ignored.

Pure: `translate(env, fields)` takes the environment (names upper-cased) and the settings' field
names, and returns the values to apply and the warnings to print. A setting given under its own
name always wins over an alias. See the README's "Coming from the original".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Convert = Callable[[str], str]


def _same(value: str) -> str:
    return value


def _distance_to_similarity(value: str) -> str:
    """The original's thresholds were cosine distances; ours are similarities (1 - distance)."""
    try:
        return repr(round(1.0 - float(value), 6))
    except ValueError:
        return value  # left as it is: validation then names the variable and the value


def _total_to_each_end(value: str) -> str:
    """The original capped the lines sent to the LLM in total; we keep N from the head and N from
    the tail of an issue."""
    try:
        return str(max(1, math.ceil(int(value) / 2)))
    except ValueError:
        return value


def _openai_base_url(value: str) -> str:
    """Ollama's native base URL (`http://host:11434`) as its OpenAI-compatible one (`.../v1`)."""
    value = value.rstrip("/")
    return value if value.endswith("/v1") else value + "/v1"


def _chroma_url(value: str) -> str:
    """A Chroma server host (`chroma` or `chroma:8000` or a URL) as a URL."""
    if "://" in value:
        return value.rstrip("/")
    return f"http://{value}" if ":" in value else f"http://{value}:8000"


@dataclass(frozen=True)
class Alias:
    setting: str  # field name in streamapp.settings.Settings
    convert: Convert = _same
    note: str = ""  # what the conversion does, for the warning


# The original's names that map one to one (after a conversion) onto one of our settings.
# EMBEDDING_PROVIDER and OTEL_SERVICE_NAME are not here: they are our settings' own names.
ALIASES: dict[str, Alias] = {
    "OPENAI_API_KEY": Alias("llm_api_key"),
    "OLLAMA_BASE_URL": Alias("llm_base_url", _openai_base_url, "with /v1, Ollama's OpenAI-compatible API"),
    "CHROMA_PERSIST_DIRECTORY": Alias("chroma_path"),
    "NEAREST_PROTO_THRESHOLD": Alias("cluster_sim_threshold", _distance_to_similarity, "as 1 - distance"),
    "ONLINE_CLUSTER_DISTANCE_THRESHOLD": Alias("cluster_sim_threshold", _distance_to_similarity,
                                               "as 1 - distance"),
    "CLUSTER_MIN_LOGS_FOR_CLASSIFICATION": Alias("cluster_min_size"),
    "ISSUE_MAX_LOGS_FOR_LLM": Alias("issue_sample_lines", _total_to_each_end, "half of it from each end"),
    "TOWER_TOKEN": Alias("awx_token"),
    "SN_USER": Alias("servicenow_username"),
    "SN_PASSWORD": Alias("servicenow_password"),
    "REQUEST_LOGS_ENABLED": Alias("api_request_logs"),
    "ENABLE_PRODUCER": Alias("enable_sources"),
}
# Names read together, below: the chat model per provider, and Chroma's mode with its server host.
MODEL_NAMES = {"openai": "OPENAI_CHAT_MODEL", "ollama": "OLLAMA_CHAT_MODEL"}
CHROMA_EMBEDDED_MODES = frozenset({"persistent", "embedded", "local"})
CHROMA_SERVER_MODES = frozenset({"http", "server", "client", "remote"})


@dataclass
class Translation:
    values: dict[str, str] = field(default_factory=dict)  # setting -> value (text, validated later)
    origin: dict[str, str] = field(default_factory=dict)  # setting -> the original name it came from
    warnings: list[str] = field(default_factory=list)

    def take(self, name: str, setting: str, value: str, note: str = "") -> None:
        how = f" ({note})" if note else ""
        if setting in self.values:
            self.warnings.append(f"{name} is deprecated and ignored: {self.origin[setting]} already sets "
                                 f"{setting.upper()}")
            return
        self.values[setting], self.origin[setting] = value, name
        self.warnings.append(f"{name} is deprecated: read as {setting.upper()}{how}; rename it")


def translate(env: Mapping[str, str], fields: set[str]) -> Translation:
    """Values for settings from the original's names in `env` (upper-case names), and warnings."""
    out = Translation()

    def given(setting: str) -> bool:  # set under its own name: that wins over any alias
        return setting.upper() in env

    def alias(name: str, setting: str, value: str, note: str = "") -> None:
        if given(setting):
            out.warnings.append(f"{name} is deprecated and ignored: {setting.upper()} is set")
        else:
            out.take(name, setting, value, note)

    provider = _provider(env, out, given)
    for name, spec in ALIASES.items():
        if name in env and spec.setting in fields and name.lower() not in fields:
            note = spec.note
            if out.origin.get("llm_provider") == name:
                note = "; ".join(x for x in (note, f"and LLM_PROVIDER={provider}, as LLM_PROVIDER is unset") if x)
            alias(name, spec.setting, spec.convert(env[name]), note)
    for model_provider, name in MODEL_NAMES.items():
        if name not in env:
            continue
        if model_provider == (provider or "openai"):
            alias(name, "llm_model", env[name])
        else:
            out.warnings.append(f"{name} is deprecated and ignored: the LLM provider is {provider or 'none'}")
    _chroma(env, out, alias)
    for name in sorted(env):
        if name.endswith("_STREAM") and name.lower() not in fields:
            setting = "stream_" + name[: -len("_STREAM")].lower()
            if setting in fields:
                alias(name, setting, env[name])
            else:
                out.warnings.append(f"{name} is not a setting and is ignored (streams are STREAM_<NAME>)")
        elif name.startswith("ENABLE_") and name.lower() not in fields and name not in ALIASES:
            flags = ", ".join(sorted(f.upper() for f in fields if f.startswith("enable_")))
            out.warnings.append(f"{name} is not a setting and is ignored (flags: {flags})")
    return out


def _provider(env: Mapping[str, str], out: Translation, given: Callable[[str], bool]) -> str:
    """The LLM provider: LLM_PROVIDER when set; else the original's choice by the variables it
    found (OLLAMA_BASE_URL meant Ollama, an OPENAI_API_KEY OpenAI), recorded as a value."""
    if given("llm_provider"):
        return env["LLM_PROVIDER"].strip().lower()
    for name, guess in (("OLLAMA_BASE_URL", "ollama"), ("OPENAI_API_KEY", "openai")):
        if name in env:
            out.values["llm_provider"], out.origin["llm_provider"] = guess, name
            return guess
    return ""


def _chroma(env: Mapping[str, str], out: Translation, alias: Callable[..., None]) -> None:
    """CHROMA_MODE said whether CHROMA_SERVER_HOST was used; embedded is CHROMA_URL empty here."""
    mode = env.get("CHROMA_MODE", "").strip().lower()
    host = env.get("CHROMA_SERVER_HOST", "").strip()
    if mode and mode not in CHROMA_EMBEDDED_MODES | CHROMA_SERVER_MODES:
        out.warnings.append(f"CHROMA_MODE={mode!r} is not understood and is ignored (CHROMA_URL decides)")
        mode = ""
    if mode in CHROMA_EMBEDDED_MODES:
        alias("CHROMA_MODE", "chroma_url", "", "embedded: CHROMA_URL empty")
        if host:
            out.warnings.append("CHROMA_SERVER_HOST is deprecated and ignored: CHROMA_MODE is embedded")
    elif host:
        alias("CHROMA_SERVER_HOST", "chroma_url", _chroma_url(host), "as a URL")
        if mode:
            out.warnings.append("CHROMA_MODE is deprecated: CHROMA_URL set means a server, empty embedded")
    elif mode:
        out.warnings.append("CHROMA_MODE is deprecated and ignored: no CHROMA_SERVER_HOST; set CHROMA_URL")
