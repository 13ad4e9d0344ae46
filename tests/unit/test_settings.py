"""Settings fail fast, naming the variable, and never echo secrets."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest

from streamapp.errors import ConfigError
from streamapp.settings import Settings, load_settings

FLAGS = [
    "ENABLE_ENRICHER", "ENABLE_CLUSTER_ENRICHER", "ENABLE_AUTOMATIONS", "ENABLE_PROTOTYPE_IMPROVER",
    "ENABLE_METRICS_NORMALIZATION", "ENABLE_OTEL_EXPORT", "ENABLE_PER_LINE_CANDIDATES",
]


@pytest.mark.parametrize("flag", FLAGS)
def test_invalid_flag_names_the_variable(flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(flag, "maybe")
    with pytest.raises(ConfigError, match=flag):
        load_settings()


def test_every_design_flag_is_declared_and_documented() -> None:
    for flag in FLAGS:
        field = Settings.model_fields[flag.lower()]
        assert isinstance(field.default, bool)
        assert field.description


def test_flags_parse_common_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLE_OTEL_EXPORT", "yes")
    monkeypatch.setenv("ENABLE_ENRICHER", "0")
    s = load_settings()
    assert s.enable_otel_export is True and s.enable_enricher is False


def test_bad_number_and_choice_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPIC_PARTITIONS", "0")
    monkeypatch.setenv("LLM_PROVIDER", "gpt")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "TOPIC_PARTITIONS" in str(err.value) and "LLM_PROVIDER" in str(err.value)


def test_comma_lists_are_parsed_once_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DENY_NETWORKS", raising=False)
    assert load_settings().source_deny_networks == ()
    monkeypatch.setenv("SOURCE_DENY_NETWORKS", " 169.254.0.0/16, 127.0.0.1/8,::1/128,")
    monkeypatch.setenv("ISSUE_KEY_FIELDS", "host, component")
    s = load_settings()
    assert s.source_deny_networks == (
        ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"),
    )
    assert s.issue_key_fields == ("host", "component")
    monkeypatch.setenv("SOURCE_DENY_NETWORKS", "10.0.0.0/8,10.0.0.300/32")
    with pytest.raises(ConfigError, match=r"SOURCE_DENY_NETWORKS: .*10\.0\.0\.300"):
        load_settings()


def test_secrets_are_not_echoed_in_errors_or_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("ADMIN_TOKEN", "admin-very-secret-0123456789abcdef")
    s = load_settings()
    assert "very-secret" not in repr(s) and "very-secret" not in str(s.model_dump())


def test_worker_refuses_to_start_with_invalid_flag(tmp_path) -> None:
    """The real entry point: `faust -A streamapp worker` exits non-zero with the variable's name."""
    faust = str(__import__("pathlib").Path(sys.executable).parent / "faust")
    proc = subprocess.run(
        [faust, "-A", "streamapp", "worker"], env={"ENABLE_AUTOMATIONS": "perhaps", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "ENABLE_AUTOMATIONS" in proc.stderr
    assert "Traceback" not in proc.stderr
