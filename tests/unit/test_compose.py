"""docker-compose.yml cannot run here (no Docker engine); this keeps it consistent with the code and
checks that it would start safely: health-ordered, restarted, only the API published and on
loopback, no default admin token, Redpanda reachable from containers and from the host."""

from __future__ import annotations

import re
from importlib.metadata import version
from urllib.parse import urlsplit

import pytest
import yaml

from streamapp.settings import Settings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
HOST = yaml.safe_load((REPO / "docker-compose.host.yml").read_text())
SERVICES = COMPOSE["services"]
APP = ("worker", "api")
_VAR = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` (which refuses to start)."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.groups()
        if env.get(name):
            return env[name]
        if op == ":?":
            raise ValueError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return _VAR.sub(one, text)


def test_every_service_of_the_design_is_there() -> None:
    assert set(SERVICES) >= {"redis", "redpanda", "postgres", "chroma", "otel-collector", *APP}


def test_no_default_admin_token_compose_refuses_to_start_without_one() -> None:
    for name in APP:
        assert re.fullmatch(r"\$\{ADMIN_TOKEN:\?.+\}", SERVICES[name]["environment"]["ADMIN_TOKEN"])
    text = (REPO / "docker-compose.yml").read_text()
    with pytest.raises(ValueError, match="ADMIN_TOKEN"):
        interpolate(text, {})
    assert "change-me" not in interpolate(text, {"ADMIN_TOKEN": "x" * 32})


def test_only_the_api_is_published_and_only_on_loopback() -> None:
    published = {name for name, svc in SERVICES.items() if svc.get("ports")}
    assert published == {"api"}
    api_port = Settings().api_port
    for port in SERVICES["api"]["ports"]:
        assert interpolate(port, {}) == f"127.0.0.1:{api_port}:{api_port}"
    for svc in HOST["services"].values():  # the opt-in host file publishes on loopback too
        assert all(interpolate(p, {}).startswith("127.0.0.1:") for p in svc["ports"])


def test_every_service_restarts_and_has_a_healthcheck_but_the_distroless_collector() -> None:
    for name, svc in SERVICES.items():
        assert svc.get("restart") == "unless-stopped", name
        assert ("healthcheck" in svc) == (name != "otel-collector"), name


def test_dependencies_wait_for_health() -> None:
    for name in APP:
        deps = SERVICES[name]["depends_on"]
        assert isinstance(deps, dict), f"{name}: depends_on needs conditions"
        for dep, spec in deps.items():
            wanted = "service_healthy" if "healthcheck" in SERVICES[dep] else "service_started"
            assert spec == {"condition": wanted}, (name, dep)
    assert set(SERVICES["worker"]["depends_on"]) >= {"redis", "redpanda", "postgres", "chroma", "otel-collector"}
    assert set(SERVICES["api"]["depends_on"]) >= {"redis", "redpanda", "postgres", "worker"}


def test_app_services_use_only_real_setting_names() -> None:
    known = {name.upper() for name in Settings.model_fields}
    for name in APP:
        env = SERVICES[name]["environment"]
        assert set(env) <= known, set(env) - known
        for required in ("KAFKA_BROKER_URL", "REDIS_URL", "DATABASE_URL", "CHROMA_URL"):
            assert required in env
        assert env["KAFKA_BROKER_URL"] == "kafka://redpanda:9092"
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert "@postgres:" in env["DATABASE_URL"]
        assert env["CHROMA_URL"] == "http://chroma:8000"


def test_the_api_reads_the_workers_views_inside_the_network() -> None:
    worker = SERVICES["worker"]["environment"]
    assert SERVICES["api"]["environment"]["WORKER_URL"] == f"http://worker:{worker['WEB_PORT']}"
    assert worker["WEB_HOST"] == "0.0.0.0"


def test_redpanda_advertises_an_internal_and_a_host_listener() -> None:
    args = dict(a.split("=", 1) for a in SERVICES["redpanda"]["command"] if a.startswith("--") and "=" in a)
    listen = dict(x.split("://") for x in args["--kafka-addr"].split(","))
    advertised = dict(x.split("://") for x in args["--advertise-kafka-addr"].split(","))
    host_default = Settings().kafka_broker_url.split("://")[1]  # what a tool on the host uses
    assert advertised == {"internal": "redpanda:9092", "external": host_default}
    assert listen == {"internal": "0.0.0.0:9092", "external": f"0.0.0.0:{host_default.split(':')[1]}"}
    port = host_default.split(":")[1]
    assert HOST["services"]["redpanda"]["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_chroma_server_matches_the_client() -> None:
    image, tag = SERVICES["chroma"]["image"].split(":")
    assert image == "chromadb/chroma" and tag == version("chromadb")


def test_the_otlp_endpoint_is_a_collector_of_the_compose_file() -> None:
    endpoint = interpolate(SERVICES["worker"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"], {})
    parts = urlsplit(endpoint)
    assert parts.hostname == "otel-collector"
    mount = SERVICES["otel-collector"]["volumes"][0].split(":")
    config = yaml.safe_load((REPO / mount[0]).read_text())
    http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert http.endswith(f":{parts.port}")
    assert "otlp" in config["service"]["pipelines"]["metrics"]["receivers"]


def test_worker_runs_the_faust_worker_and_api_the_api() -> None:
    assert SERVICES["worker"]["command"][:3] == ["faust", "-A", "streamapp"]
    assert SERVICES["api"]["command"] == ["streamapp", "api"]
