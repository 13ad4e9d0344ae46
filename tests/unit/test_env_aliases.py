"""The original system's environment names: each is read as its setting with one deprecation
line; a setting under its own name wins; unknown ENABLE_* / *_STREAM names are warned about."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from streamapp.env_aliases import ALIASES, translate
from streamapp.errors import ConfigError
from streamapp.settings import Settings, load_settings
from tests.conftest import REPO

FIELDS = set(Settings.model_fields)
ORIGINAL_NAMES = [
    "OPENAI_API_KEY", "OLLAMA_BASE_URL", "OPENAI_CHAT_MODEL", "OLLAMA_CHAT_MODEL", "EMBEDDING_PROVIDER",
    "CHROMA_MODE", "CHROMA_PERSIST_DIRECTORY", "CHROMA_SERVER_HOST", "LOGS_STREAM", "NEAREST_PROTO_THRESHOLD",
    "ONLINE_CLUSTER_DISTANCE_THRESHOLD", "CLUSTER_MIN_LOGS_FOR_CLASSIFICATION", "ISSUE_MAX_LOGS_FOR_LLM",
    "TOWER_TOKEN", "SN_USER", "SN_PASSWORD", "REQUEST_LOGS_ENABLED", "ENABLE_PRODUCER", "OTEL_SERVICE_NAME",
]

# (original name, value) -> (setting, value as read); one case per name of the issue's list.
CASES = [
    ({"OPENAI_API_KEY": "sk-test"}, "llm_api_key", "sk-test"),
    ({"OLLAMA_BASE_URL": "http://127.0.0.1:11434/"}, "llm_base_url", "http://127.0.0.1:11434/v1"),
    ({"OPENAI_CHAT_MODEL": "gpt-4.1-mini"}, "llm_model", "gpt-4.1-mini"),
    ({"OLLAMA_BASE_URL": "http://o:11434", "OLLAMA_CHAT_MODEL": "llama3.1"}, "llm_model", "llama3.1"),
    ({"CHROMA_PERSIST_DIRECTORY": "/var/lib/chroma"}, "chroma_path", "/var/lib/chroma"),
    ({"CHROMA_MODE": "http", "CHROMA_SERVER_HOST": "chroma"}, "chroma_url", "http://chroma:8000"),
    ({"CHROMA_SERVER_HOST": "chroma:9000"}, "chroma_url", "http://chroma:9000"),
    ({"CHROMA_MODE": "persistent", "CHROMA_SERVER_HOST": "chroma"}, "chroma_url", ""),
    ({"LOGS_STREAM": "raw_logs"}, "stream_logs", "raw_logs"),
    ({"ALERTS_STREAM": "alerts2"}, "stream_alerts", "alerts2"),
    ({"ISSUES_CANDIDATES_STREAM": "ic"}, "stream_issues_candidates", "ic"),
    ({"NEAREST_PROTO_THRESHOLD": "0.25"}, "cluster_sim_threshold", "0.75"),
    ({"ONLINE_CLUSTER_DISTANCE_THRESHOLD": "0.3"}, "cluster_sim_threshold", "0.7"),
    ({"CLUSTER_MIN_LOGS_FOR_CLASSIFICATION": "5"}, "cluster_min_size", "5"),
    ({"ISSUE_MAX_LOGS_FOR_LLM": "50"}, "issue_sample_lines", "25"),
    ({"TOWER_TOKEN": "t0k"}, "awx_token", "t0k"),
    ({"SN_USER": "svc"}, "servicenow_username", "svc"),
    ({"SN_PASSWORD": "pw"}, "servicenow_password", "pw"),
    ({"REQUEST_LOGS_ENABLED": "false"}, "api_request_logs", "false"),
    ({"ENABLE_PRODUCER": "false"}, "enable_sources", "false"),
]


def test_every_name_of_the_original_is_handled() -> None:
    handled = set(ALIASES) | {"OPENAI_CHAT_MODEL", "OLLAMA_CHAT_MODEL", "CHROMA_MODE", "CHROMA_SERVER_HOST",
                              "EMBEDDING_PROVIDER"}  # the embedding provider's setting has the same name
    for name in ORIGINAL_NAMES:
        assert name in handled or name.endswith("_STREAM") or name.lower() in FIELDS, name
    assert "otel_service_name" in FIELDS  # the standard name is the setting's own: no alias needed


@pytest.mark.parametrize(("env", "setting", "value"), CASES, ids=[next(iter(c[0])) + "-" + c[1] for c in CASES])
def test_each_alias_is_read_as_its_setting_with_one_warning(env: dict[str, str], setting: str, value: str) -> None:
    out = translate(env, FIELDS)
    assert out.values[setting] == value
    names = [line.split()[0] for line in out.warnings]
    assert set(names) == set(env), out.warnings  # one line per variable given, no more
    assert all("\n" not in line and "deprecated" in line for line in out.warnings)
    assert not any(v in line for line in out.warnings for v in env.values() if len(v) > 3), "values never shown"


def test_embedding_provider_is_the_settings_own_name_not_an_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "EMBEDDING_PROVIDER" not in ALIASES
    assert translate({"EMBEDDING_PROVIDER": "openai"}, FIELDS).warnings == []
    if "embedding_provider" in FIELDS:  # read by the setting itself
        monkeypatch.setenv("EMBEDDING_PROVIDER", "openai")
        assert load_settings().embedding_provider == "openai"  # type: ignore[attr-defined]


def test_the_provider_follows_the_original_choice_unless_llm_provider_is_set() -> None:
    assert translate({"OPENAI_API_KEY": "k"}, FIELDS).values["llm_provider"] == "openai"
    assert translate({"OLLAMA_BASE_URL": "http://o", "OPENAI_API_KEY": "k"}, FIELDS).values["llm_provider"] == "ollama"
    out = translate({"LLM_PROVIDER": "none", "OPENAI_API_KEY": "k", "OLLAMA_CHAT_MODEL": "m"}, FIELDS)
    assert "llm_provider" not in out.values and "llm_model" not in out.values
    assert any(w.startswith("OLLAMA_CHAT_MODEL is deprecated and ignored") for w in out.warnings)


def test_a_setting_under_its_own_name_wins_over_the_alias() -> None:
    out = translate({"TOWER_TOKEN": "old", "AWX_TOKEN": "new"}, FIELDS)
    assert "awx_token" not in out.values
    assert out.warnings == ["TOWER_TOKEN is deprecated and ignored: AWX_TOKEN is set"]


def test_two_aliases_of_one_setting_the_first_wins_and_the_other_is_named() -> None:
    out = translate({"NEAREST_PROTO_THRESHOLD": "0.2", "ONLINE_CLUSTER_DISTANCE_THRESHOLD": "0.4"}, FIELDS)
    assert out.values["cluster_sim_threshold"] == "0.8"
    assert any("ONLINE_CLUSTER_DISTANCE_THRESHOLD is deprecated and ignored" in w for w in out.warnings)


def test_unknown_enable_and_stream_variables_are_warned_about() -> None:
    out = translate({"ENABLE_TURBO": "true", "WIDGETS_STREAM": "w", "ENABLE_ENRICHER": "true"}, FIELDS)
    assert out.values == {}
    assert sorted(w.split()[0] for w in out.warnings) == ["ENABLE_TURBO", "WIDGETS_STREAM"]
    assert all("not a setting and is ignored" in w for w in out.warnings)


def test_load_settings_applies_aliases_and_names_the_alias_of_a_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SN_PASSWORD", "s3cret")
    monkeypatch.setenv("ENABLE_PRODUCER", "false")
    monkeypatch.setenv("ISSUE_MAX_LOGS_FOR_LLM", "40")
    s = load_settings()
    assert s.servicenow_password == SecretStr("s3cret") and s.enable_sources is False and s.issue_sample_lines == 20
    monkeypatch.setenv("CLUSTER_MIN_LOGS_FOR_CLASSIFICATION", "many")
    with pytest.raises(ConfigError, match=r"CLUSTER_MIN_LOGS_FOR_CLASSIFICATION \(read as CLUSTER_MIN_SIZE\)"):
        load_settings()


def test_the_warnings_are_printed_once_at_start_one_line_each() -> None:
    env = {"PATH": "/usr/bin:/bin", "TOWER_TOKEN": "tok-123456", "LOGS_STREAM": "l", "ENABLE_TURBO": "1"}
    out = subprocess.run([sys.executable, "-c", "from streamapp.settings import get_settings as g; g(); g()"],
                         env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    lines = out.stderr.strip().splitlines()
    assert sorted(line.split()[0] for line in lines) == ["ENABLE_TURBO", "LOGS_STREAM", "TOWER_TOKEN"], lines
    assert "tok-123456" not in out.stderr


def test_request_logs_can_be_switched_off() -> None:
    from streamapp.api.app import create_api
    from streamapp.api.request_log import RequestLogging

    def middlewares(**kw: object) -> list[type]:
        return [m.cls for m in create_api(load_settings(**kw), probes={}).user_middleware]  # type: ignore[misc]

    assert RequestLogging in middlewares()
    assert RequestLogging not in middlewares(api_request_logs=False)
