"""The one typed settings object, read once from the environment (and `.env`).

Every variable is documented where it is declared: default, unit and effect. The README's settings
table is generated from these declarations (`streamapp settings --markdown`), so it cannot drift.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values
from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from streamapp.auth import MIN_ADMIN_TOKEN_CHARS
from streamapp.env_aliases import Translation, translate
from streamapp.errors import ConfigError
from streamapp.shards import shard_of, stream_name

log = logging.getLogger(__name__)


def _items(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def comma_list(value: object) -> object:
    """`a, b,c` -> ("a", "b", "c"): a comma list from the environment, parsed once, here."""
    return _items(value) if isinstance(value, str) else value


# A tuple of names, written in the environment as a comma list (not JSON).
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(comma_list)]


def network_list(value: object) -> object:
    """`10.0.0.0/8, ::1/128` -> their networks (host bits allowed), parsed once, here."""
    return tuple(ipaddress.ip_network(n, strict=False) for n in _items(value)) if isinstance(value, str) else value


# Networks (CIDR), written in the environment as a comma list; a bad entry fails at start, named.
NetworkList = Annotated[
    tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode, BeforeValidator(network_list)
]

# The units settings are declared in, each with the bound every setting of it needs; a setting may raise the
# floor (`ge=`) or set a ceiling (`le=`) of its own.
Seconds = Annotated[float, Field(gt=0)]  # a duration or an interval
SecondsOrZero = Annotated[float, Field(ge=0)]  # a duration where 0 has a meaning of its own (off, at once)
WholeSeconds = Annotated[int, Field(ge=0)]  # a duration handed to Redis (TTLs, MINID ages)
Millis = Annotated[int, Field(ge=1)]
Bytes = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=1)]  # how many of something: at least one
Port = Annotated[int, Field(ge=1, le=65535)]
TakeSize = Annotated[int, Field(ge=1, le=1000)]  # records an agent handles together; each is a batch already


class Settings(BaseSettings):
    """All configuration of the worker, the API and the CLI; frozen once read (a copy with changes is
    `model_copy(update=...)`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False, frozen=True)

    # --- identity and infrastructure -------------------------------------------------------------
    streamapp_id: str = Field(
        "streamapp",
        description="Faust app id: names the Kafka consumer group and the changelog topics.",
    )
    kafka_broker_url: str = Field(
        "kafka://127.0.0.1:19092", description="Kafka bootstrap servers (`kafka://host:port[;host:port]`)."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How every Kafka client (worker, bridges, admin, benches) reaches the brokers: `SSL` "
        "verifies them and encrypts, `SASL_*` authenticates us (SASL_SSL: both). PLAINTEXT: a trusted network only.",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism with a `SASL_*` protocol (PLAIN sends the password: use it over SSL)."
    )
    kafka_sasl_username: str = Field("", description="SASL user; required with a `SASL_*` protocol.")
    kafka_sasl_password: SecretStr = Field(
        SecretStr(""), description="SASL password; required with a `SASL_*` protocol."
    )
    kafka_ssl_cafile: Path | None = Field(
        None, description="CA bundle (PEM) the brokers' certificates chain to (`SSL`, `SASL_SSL`); empty = system CAs."
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis holding the stream contract.")
    database_url: SecretStr = Field(
        SecretStr("postgresql://streamapp:streamapp@127.0.0.1:5432/streamapp"),
        description="PostgreSQL (data sources). A secret: it may carry a password.",
    )
    secrets_key: SecretStr = Field(
        SecretStr(""), description="Comma-separated Fernet keys, current first, sealing data sources' secrets in "
        "PostgreSQL (`streamapp settings --new-secrets-key`; rotation: put a new key first, restart, drop the old "
        "one later). Required to store secrets; the same for the API and the workers.",
    )
    database_schema: str = Field(
        "public", pattern=r"^[a-z_][a-z0-9_]*$", description="PostgreSQL schema of the project's tables (isolation)."
    )
    chroma_path: Path = Field(
        Path(".state/chroma"), description="Embedded ChromaDB folder, used when CHROMA_URL is empty."
    )
    chroma_url: str = Field("", description="Chroma server URL (`http://host:8000`); empty = embedded.")
    data_dir: Path = Field(Path(".state/worker"), description="Faust data dir: RocksDB table stores.")
    table_store: str = Field("rocksdb://", description="Faust table store (`rocksdb://`; `memory://` in unit tests).")
    topic_partitions: Count = Field(4, le=256, description="Partitions of every topic the app declares.")
    topic_replication_factor: Count = Field(
        1, le=16, description="Replicas of every topic the app creates, table changelogs included (1 on a "
        "single broker; 3 is usual in production, so losing a broker loses no record or table state).",
    )
    topic_prefix: str = Field("", description="Prefix for Kafka topic names (isolates test runs/tenants).")
    stream_prefix: str = Field("", description="Prefix for Redis stream and key names (isolation).")
    web_port: Port = Field(6066, description="Worker web port (Faust table views).")
    web_host: str = Field("127.0.0.1", description="Worker web bind address.")
    worker_url: str = Field(
        "", description="Where the API's console reads the worker's table views; empty = http://127.0.0.1:WEB_PORT."
    )
    api_host: str = Field("127.0.0.1", description="Starlette API bind address.")
    api_port: Port = Field(8080, description="Starlette API port.")
    admin_token: SecretStr = Field(
        SecretStr(""), description="Bearer token for admin endpoints, 32 characters or more; empty = admin endpoints "
        "refuse all."
    )
    auth_max_failures: Count = Field(
        10, description="Failed token attempts (admin API, console login, Telegraf) a client address may "
        "make per AUTH_FAILURE_WINDOW_SEC before it is refused with 429 (even with the right token) until then.",
    )
    auth_failure_window_sec: Seconds = Field(60.0, description="The window of AUTH_MAX_FAILURES, seconds.")
    api_request_logs: bool = Field(True, description="Log one line per API request (id, method, path, status, time).")
    heap_trim_sec: SecondsOrZero = Field(
        5.0, description="How often a worker hands the free pages of its malloc heap back to the OS (glibc "
        "`malloc_trim`; without it RSS follows the heap's high-water mark, not what is in use), seconds; 0 = never.",
    )

    # --- stages (every one can be switched off; a disabled stage starts nothing) ----------------
    enable_bridge: bool = Field(True, description="Run the Redis<->Kafka stream bridges in the worker.")
    enable_sources: bool = Field(True, description="Run producers for the enabled data sources (one worker at a time).")
    enable_consumer: bool = Field(True, description="Parse, mine and embed lines from `logs`.")
    enable_issues_aggregator: bool = Field(True, description="Group parsed lines into issues.")
    enable_clustering: bool = Field(True, description="Assign closed issues to prototypes.")
    enable_enricher: bool = Field(True, description="Classify issue candidates into alerts.")
    enable_cluster_enricher: bool = Field(True, description="Classify cluster candidates into alerts.")
    enable_automations: bool = Field(
        False, description="Allow automations to execute; off = every matching rule is only dry-run."
    )
    enable_prototype_improver: bool = Field(True, description="Periodically rebuild prototypes from feedback.")
    enable_metrics_normalization: bool = Field(True, description="Route metric payloads to normalisers.")
    enable_otel_export: bool = Field(False, description="Export metrics over OTLP (toggle at runtime too).")
    enable_patterns: bool = Field(
        True, description="Count templates per OS and host over time (`GET /patterns`, the console's patterns) and "
        "signal new templates and rate jumps on issues."
    )
    enable_per_line_candidates: bool = Field(
        False, description="Also send every error-signal line straight to `issues_candidates`, each classified "
        "into an alert like a one-line issue (besides issue aggregation)."
    )

    # --- Redis stream contract -------------------------------------------------------------------
    stream_logs: str = Field("logs", description="Redis stream of raw lines (sources write here).")
    logs_shards: Count = Field(
        1, le=1024, description="Ingest shards: sources write to `logs` (shard 0) or `logs:{k}`, chosen by a "
        "stable hash of the source; each shard has its own consumer group and bridge leader (`streamapp.shards`)."
    )
    stream_metrics: str = Field("metrics", description="Redis stream of normalised metrics.")
    stream_issues_candidates: str = Field("issues_candidates", description="Redis stream of issues.")
    stream_clusters_candidates: str = Field("clusters_candidates", description="Redis stream of clusters.")
    stream_alerts: str = Field("alerts", description="Redis stream of alerts.")
    stream_deadletter: str = Field("deadletter", description="Redis stream of poison input, with reasons.")
    stream_feedback: str = Field(
        "feedback", description="Redis stream of operators' feedback on alerts (read by the prototype improver)."
    )
    stream_issues_closed: str = Field(
        "issues_closed", description="Redis stream of every closed issue (candidate or info-only), for accounting."
    )
    alerts_ttl_sec: WholeSeconds = Field(86400, ge=1, description="TTL of `alert:<id>` hashes, seconds.")

    # --- bridge ----------------------------------------------------------------------------------
    bridge_group: str = Field("log_consumers", description="Consumer group of the inbound bridge on `logs`.")
    bridge_consumer: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="This bridge's consumer name in the group (default host-pid).",
    )
    bridge_lease_sec: Seconds = Field(
        6.0, description="Lease of the one inbound bridge that forwards (renewed every third of it); "
        "a standby bridge takes over this long after the holder died."
    )
    bridge_batch_size: Count = Field(
        2000, le=100_000, description="Entries per XREADGROUP (COUNT): at most this many lines per read, "
        "forwarded as one Kafka record per partition."
    )
    bridge_block_ms: Millis = Field(1000, description="XREADGROUP BLOCK, milliseconds.")
    bridge_claim_idle_ms: Millis = Field(
        30_000, description="Pending entries idle this long (ms) are reclaimed with XAUTOCLAIM."
    )
    bridge_max_entry_bytes: Bytes = Field(
        262_144, ge=1024, description="Entries larger than this (bytes) go to the dead-letter stream."
    )
    bridge_trim_interval_sec: Seconds = Field(
        10.0, description="How often `logs` is trimmed (and the caps and groups checked), seconds."
    )
    bridge_trim_retain_sec: WholeSeconds = Field(
        3600, description="Acknowledged entries younger than this are kept (MINID trim), seconds; not when "
        "`logs` nears LOGS_MAXLEN."
    )
    logs_maxlen: Count = Field(
        1_000_000, ge=100, description="Every write to `logs` (to each ingest shard's stream) caps it near this many "
        "entries (MAXLEN ~), so a stalled consumer group or a dead bridge cannot fill Redis; what the cap removes "
        "is counted as `streamapp.dropped`, what=logs (the bridge trims acknowledged entries first)."
    )
    deadletter_maxlen: Count = Field(
        100_000, ge=100, description="The dead-letter stream is capped near this many entries (MAXLEN ~); what the "
        "cap removes is counted as `streamapp.dropped`, what=deadletter."
    )
    bridge_group_stall_sec: Seconds = Field(
        300.0, description="A consumer group of `logs` that has entries to read or acknowledge and has not "
        "moved for this long is reported stalled (a warning, and the gauge `streamapp.logs.stalled_groups`)."
    )
    outbound_dedupe_ttl_sec: WholeSeconds = Field(
        600, ge=60, description="How long the outbound bridge remembers a record id, to drop a record an upstream "
        "stage sent again (a worker replaying after a crash or rebalance does within minutes), seconds. Its own "
        "replays are dropped by a per-partition offset watermark, however late. Memory: rate x this x ~100 bytes "
        "(`bench/outbound_dedupe_bench.py`)."
    )
    outbound_stream_maxlen: Count = Field(
        1_000_000, ge=1000, description="Outbound streams are capped near this many entries (MAXLEN ~)."
    )
    outbound_batch_size: Count = Field(500, description="Kafka records per Redis pipeline (outbound).")
    outbound_batch_within_sec: Seconds = Field(0.2, description="Max wait to fill an outbound batch.")

    # --- sources -----------------------------------------------------------------------------------
    sources_reconcile_sec: Seconds = Field(
        5.0, description="How often data sources are reconciled and statuses published (also on change)."
    )
    sources_heartbeat_sec: Seconds = Field(5.0, description="Producer-manager lease renewal, seconds.")

    # --- consumer ----------------------------------------------------------------------------------
    source_formats: dict[str, str] = Field(
        default_factory=lambda: {"*": "linux"},
        description="Source name/id glob -> `<os>:<format>` or a preset (`linux`, `macos`, `windows`, `json`, "
        "`logfmt`) or a Loghub format string; first match wins (JSON object).",
    )
    consumer_batch_size: Count = Field(500, description="Metrics per OTLP export batch (stream.take n).")
    consumer_batch_records: TakeSize = Field(
        16, description="`logs` records per consumer batch; each record is the lines one bridge read "
        "had for one partition, so a batch holds up to this many reads' worth of lines."
    )
    consumer_batch_within_sec: Seconds = Field(0.1, description="Max wait to fill a consumer batch, seconds.")
    index_queue_batches: Count = Field(
        32, description="Consumer batches waiting for the vector store; a batch that finds the queue full is "
        "not indexed (counted as `streamapp.dropped`, what=index_lines), so ingestion never waits for it."
    )
    miner_max_clusters: Count = Field(
        5000, ge=10, description="Drain clusters the template miner keeps per OS (a system has hundreds of message "
        "formats, rarely thousands; a new line is compared with every cluster of its length): past it the least "
        "recently used tenth is dropped (counted as `streamapp.dropped`, what=miner_clusters). A line of a dropped "
        "cluster founds it again, and its template keeps its id."
    )
    rules_path: Path | None = Field(None, description="Rule signals file; empty = the shipped streamapp/rules.yml.")
    embedding_provider: Literal["semantic", "hashed", "openai", "ollama"] = Field(
        "semantic",
        description="Embedder of templates, lines, prototypes and HyDE queries: `semantic` = WordLlama from the "
        "installed wheel (offline), `hashed` = hashed TF-IDF (no model), `openai`/`ollama` = the provider's "
        "`/v1/embeddings`. Changing it re-creates the vector collections.",
    )
    embedding_model: str = Field(
        "",
        description="Provider embedding model; empty = `text-embedding-3-small` (openai), `nomic-embed-text` (ollama).",
    )
    embedding_base_url: str = Field(
        "", description="Provider base URL; empty = LLM_BASE_URL, else `http://127.0.0.1:11434/v1` for ollama."
    )
    embedding_api_key: SecretStr = Field(SecretStr(""), description="Provider API key; empty = LLM_API_KEY.")
    embedding_dim: Count = Field(256, ge=16, le=4096, description="Dimension of the hashed embeddings (`hashed` only).")
    index_window_sec: Seconds = Field(60.0, description="Window of the routine-line index sampler, seconds.")
    index_per_window: int = Field(
        3, ge=0, description="Routine lines indexed per (host, template) per window (signal lines: all)."
    )
    miner_snapshot_sec: Seconds = Field(30.0, description="How often miner state is saved, seconds.")

    # --- issues and clusters -----------------------------------------------------------------------
    issue_key_fields: CommaList = Field(
        ("os", "host", "component", "pid"),
        description="Fields whose values make the aggregation key (comma list).",
    )
    issue_continuation_gap_sec: SecondsOrZero = Field(
        10.0, description="A continuation line (stack frame, register dump, indented or headerless line) "
        "arriving within this many seconds of its event's previous line joins the event's headline; 0 = off."
    )
    issue_inactivity_sec: Seconds = Field(30.0, description="An issue closes after this long without lines.")
    issue_max_duration_sec: Seconds = Field(600.0, description="An issue closes at this age, seconds.")
    issue_max_lines: Count = Field(2000, description="An issue closes at this many lines.")
    issue_max_open: Count = Field(20_000, ge=10, description="Open issues per worker; the stalest close beyond it.")
    issue_sample_lines: Count = Field(10, le=200, description="Lines kept from the head and from the tail.")
    issue_emit: Literal["signal", "all"] = Field(
        "signal", description="`signal`: only issues with a warning+ line or a rule hit become candidates."
    )
    issue_sweep_interval_sec: Seconds = Field(
        1.0, description="How often every open issue is checked; in between, issues are closed within "
        "0.1 s of their deadline."
    )
    issue_batch_records: TakeSize = Field(
        16, description="`issue_events` records the aggregator applies together; a key they change "
        "is written to the table (store and changelog) at the next offset commit, once however many "
        "batches changed it."
    )
    issue_batch_within_sec: Seconds = Field(0.05, description="Max wait to fill an aggregator batch, seconds.")
    enricher_batch_records: TakeSize = Field(
        64, description="Issue (and line) candidates the enricher classifies together, with one embedding "
        "call, one prototype query per OS and one alert-group transaction per failure. One at a time, each "
        "candidate waits for about nine round trips, each a turn of an event loop the other stages keep "
        "busy: on one worker running every stage (`bench/memory_bench.py`) the enricher then fell behind a "
        "saturated aggregator and its backlog grew with the load; at 64 it keeps up, and the p99 latency "
        "at half load (`bench/e2e_bench.py`) is the same as at 1."
    )
    enricher_batch_within_sec: Seconds = Field(0.05, description="Max wait to fill an enricher batch, seconds.")
    issue_purge_grace_sec: SecondsOrZero = Field(
        60.0, description="Closed issues stay this long (so a replayed close re-emits) before purge."
    )
    cluster_sim_threshold: float = Field(
        0.8, gt=0, le=1, description="Cosine similarity for an issue to join a prototype (else a new one)."
    )
    cluster_min_size: Count = Field(3, description="Members before a prototype is a cluster candidate.")
    cluster_max_prototypes: Count = Field(
        2000, description="Prototypes kept per OS; past it the least recently joined or labelled one is dropped "
        "from the table and `proto_<os>`, those an operator labelled last (counted as `streamapp.dropped`, "
        "what=prototypes)."
    )
    proto_mirror_sec: Seconds = Field(
        1.0, description="How often changed prototypes are written to `proto_<os>` (one batch per OS)."
    )

    pattern_bucket_sec: Seconds = Field(60.0, description="Time bucket of template counts, seconds.")
    pattern_buckets: Count = Field(
        60, ge=10, le=1440, description="Buckets of history kept per template and OS (a fifth of it per host)."
    )
    pattern_warmup_sec: SecondsOrZero = Field(
        3600.0, description="No novelty or rate signal for an OS until this long after its first line..."
    )
    pattern_warmup_lines: int = Field(1000, ge=0, description="...and until it has had this many lines.")
    pattern_rate_factor: float = Field(
        5.0, gt=1, description="A template's bucket this many times its own mean per bucket is a rate signal..."
    )
    pattern_rate_min: Count = Field(20, description="...when it holds at least this many lines.")
    pattern_max_templates: Count = Field(
        2000, ge=10, description="Templates kept per OS; the least recently seen are dropped (and counted)."
    )
    pattern_max_hosts: Count = Field(
        50, description="Hosts kept per template; lines of further hosts count only OS-wide (and are counted)."
    )

    alert_group_window_sec: SecondsOrZero = Field(
        900.0, description="Issues of one OS with the same failure type and template family, on any hosts, "
        "within this window from the first share one alert (which lists the hosts); 0 = an alert per issue."
    )
    prototype_improver_interval_sec: Seconds = Field(
        30.0, description="How often the prototype improver applies pending feedback, seconds."
    )

    prototype_improver_claim_idle_sec: Seconds = Field(
        60.0, description="Feedback a crashed improver left unacknowledged this long is taken over, seconds."
    )

    source_deny_networks: NetworkList = Field(
        (), description="Comma-separated networks (CIDR) no data source may reach, e.g. `169.254.0.0/16,"
        "127.0.0.0/8,::1/128` (cloud metadata, the host's own services); a source's URL or host is checked when it "
        "is configured, a name by the addresses it resolves to then. Empty = none.",
    )
    filetail_allowed_dirs: CommaList = Field(
        ("/var/log",),
        description="Comma-separated folders below which `filetail` sources may read (symlinks resolved; "
        "regular files only): a source naming another path is refused, so no admin can tail `/proc` or secrets.",
    )

    # --- automations -------------------------------------------------------------------------------
    automations_path: Path | None = Field(
        None, description="Rules file; empty = the shipped streamapp/automations.yml."
    )
    automations_reload_sec: Seconds = Field(2.0, description="How often the rules file is checked for changes.")
    stream_automation_events: str = Field("automation_events", description="Redis stream of automation decisions.")
    automation_timeout_sec: Seconds = Field(
        10.0, description="Timeout of one provider request, seconds (connect: at most 5 s of it)."
    )
    automation_max_tries: Count = Field(5, description="Requests per provider call, retries included.")
    automation_backoff_sec: Seconds = Field(
        1.0, description="First retry wait, doubling up to 60 s (never shorter than Retry-After)."
    )
    automation_follow_interval_sec: Seconds = Field(3.0, description="How often a launched job/run is polled.")
    automation_follow_max_sec: Seconds = Field(900.0, description="How long a job/run is followed, seconds.")
    automation_task_key: SecretStr = Field(
        SecretStr(""), description="Key (shared by the workers) signing automation tasks on Kafka; a task "
        "without its valid signature is rejected. Empty = nothing executes (every decision is a dry run).",
    )
    awx_url: str = Field("", description="AWX/Tower API base incl. prefix (`https://awx/api/v2/`); empty = none.")
    awx_token: SecretStr = Field(SecretStr(""), description="AWX OAuth2/personal access token (scope write).")
    tfc_url: str = Field("https://app.terraform.io/api/v2", description="Terraform Cloud/Enterprise API base.")
    tfc_token: SecretStr = Field(SecretStr(""), description="Terraform user or team token.")
    servicenow_url: str = Field("", description="ServiceNow API base (`https://<instance>.service-now.com/api/now/`).")
    servicenow_username: str = Field("", description="ServiceNow integration user (role itil).")
    servicenow_password: SecretStr = Field(SecretStr(""), description="Its password.")
    servicenow_client_id: str = Field("", description="OAuth client id; set = OAuth password grant, empty = Basic.")
    servicenow_client_secret: SecretStr = Field(SecretStr(""), description="OAuth client secret.")
    toggles_cache_sec: Seconds = Field(1.0, description="How long a worker reuses the runtime toggles it read.")

    # --- LLM ---------------------------------------------------------------------------------------
    llm_provider: Literal["none", "openai", "ollama"] = Field(
        "none", description="`none` = offline classifier only; `openai`/`ollama` via the openai client."
    )
    llm_base_url: str = Field("", description="OpenAI-compatible base URL (Ollama: http://host:11434/v1).")
    llm_model: str = Field("gpt-4o-mini", description="Chat model name.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key (Ollama ignores it).")
    llm_timeout_sec: Seconds = Field(30.0, description="Timeout of one LLM request, seconds.")
    llm_health_interval_sec: Seconds = Field(30.0, description="How often the LLM's health is checked.")

    # --- telemetry -------------------------------------------------------------------------------
    otel_exporter_otlp_endpoint: str = Field(
        "http://127.0.0.1:4318", description="OTLP endpoint (HTTP base URL, or gRPC host:port)."
    )
    otel_exporter_otlp_protocol: Literal["http/protobuf", "grpc"] = Field(
        "http/protobuf", description="OTLP transport."
    )
    otel_service_name: str = Field("streamapp", description="`service.name` of the exported telemetry.")

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < MIN_ADMIN_TOKEN_CHARS:
            raise ValueError(f"ADMIN_TOKEN needs {MIN_ADMIN_TOKEN_CHARS} characters or more (`openssl rand -hex 32`)")
        return value

    @model_validator(mode="after")
    def _sasl_credentials(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs KAFKA_SASL_USERNAME "
                             "and KAFKA_SASL_PASSWORD")
        return self

    def secret_keys(self) -> tuple[str, ...]:
        """SECRETS_KEY as its list of keys (empty when unset)."""
        return _items(self.secrets_key.get_secret_value())

    def filetail_dirs(self) -> tuple[Path, ...]:
        """FILETAIL_ALLOWED_DIRS, resolved."""
        return tuple(Path(os.path.realpath(d)) for d in self.filetail_allowed_dirs)

    def redis_key(self, name: str) -> str:
        """A Redis stream/key name with the isolation prefix applied."""
        return f"{self.stream_prefix}{name}"

    def logs_shard_of(self, source_key: str) -> int:
        """The ingest shard a source (its data source id, else its name) writes to."""
        return shard_of(source_key, self.logs_shards)

    def logs_key(self, shard: int = 0) -> str:
        """The Redis key of an ingest shard's stream (`logs`, `logs:{k}`), isolation prefix applied."""
        return self.redis_key(stream_name(self.stream_logs, shard))

    def topic_name(self, name: str) -> str:
        """A Kafka topic name with the isolation prefix applied."""
        return f"{self.topic_prefix}{name}"


def legacy_names() -> Translation:
    """The original system's variables found in the environment (and `.env`), as our settings."""
    env = {k.upper(): v for k, v in dotenv_values(".env").items() if v is not None} if Path(".env").is_file() else {}
    env.update((k.upper(), v) for k, v in os.environ.items())
    return translate(env, set(Settings.model_fields))


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings (the original's names as aliases); an invalid value raises
    ConfigError naming the variable."""
    legacy = legacy_names()
    try:
        return Settings(**{**legacy.values, **overrides})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            secret = Settings.model_fields.get(field) is not None and (
                Settings.model_fields[field].annotation is SecretStr
            )
            shown = "" if secret else f" (got {err.get('input')!r})"
            name = field.upper()
            if field in legacy.origin and field not in overrides:
                name = f"{legacy.origin[field]} (read as {name})"
            problems.append(f"{name}: {err['msg']}{shown}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None


def settings_for_env(env: Mapping[str, str]) -> Settings:
    """The settings a child process started with `env` (on top of ours) will read, for the
    launchers of workers (demo, benches, tests)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once; the original's names each get a warning line."""
    settings = load_settings()
    for warning in legacy_names().warnings:
        log.warning("%s", warning)
    return settings
