"""docker-compose.yml cannot run here (no Docker engine); this keeps it consistent with the code."""

from __future__ import annotations

import yaml

from streamapp.settings import Settings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_service_of_the_design_is_there() -> None:
    assert set(SERVICES) >= {"redis", "redpanda", "postgres", "chroma", "worker", "api"}


def test_ports_match_the_settings() -> None:
    defaults = Settings()
    assert "6379:6379" in SERVICES["redis"]["ports"]
    assert "5432:5432" in SERVICES["postgres"]["ports"]
    assert f"{defaults.web_port}:{defaults.web_port}" in SERVICES["worker"]["ports"]
    assert f"{defaults.api_port}:{defaults.api_port}" in SERVICES["api"]["ports"]
    assert any(p.endswith(":9092") for p in SERVICES["redpanda"]["ports"])


def test_app_services_use_only_real_setting_names() -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name in ("worker", "api"):
        env = SERVICES[name]["environment"]
        assert set(env) <= known, set(env) - known
        for required in ("KAFKA_BROKER_URL", "REDIS_URL", "DATABASE_URL", "CHROMA_URL"):
            assert required in env
        assert env["KAFKA_BROKER_URL"].startswith("kafka://redpanda:")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert "@postgres:" in env["DATABASE_URL"]


def test_worker_runs_the_faust_worker_and_api_the_api() -> None:
    assert SERVICES["worker"]["command"][:3] == ["faust", "-A", "streamapp"]
    assert SERVICES["api"]["command"] == ["streamapp", "api"]
