"""The Faust app: topics, tables, agents and the connector services, wired from the settings.

`faust -A streamapp worker` finds `streamapp.app`, which is `create_app()` with the process
settings. Tests and tools build their own app with other settings. Every stage obeys its
`ENABLE_*` flag: a disabled stage registers no agent, table or timer. Two flags gate effects, not
stages: with `ENABLE_AUTOMATIONS` off the automations still decide, but every decision is a dry
run (recorded, nothing executed); with `ENABLE_OTEL_EXPORT` off (and the runtime toggle off)
metrics are kept but not exported.
"""

from __future__ import annotations

import asyncio
import gc

import faust
from faust.types import TransportT
from threadpoolctl import threadpool_limits

from agents import (
    automations,
    cluster_enricher,
    clustering,
    consumer,
    enricher,
    issues_aggregator,
    otlp_export,
    patterns,
    prototype_improver,
)
from agents.guard import ParkingTopic, guarded_timer
from connectors.bridge_in import InboundBridge
from connectors.bridge_out import OutboundBridge
from connectors.embedders import embedder_from_settings
from connectors.kafka_admin import broker_credentials, ensure_topics
from connectors.llm import LLMConnector
from connectors.llm_health import LLMHealth
from connectors.sources.manager import ProducerManager
from streamapp.clock import Clock, SystemClock
from streamapp.rules import RuleSet
from streamapp.settings import Settings, get_settings
from streamapp.worker import views, views_automations
from streamapp.worker.deps import Deps
from streamapp.worker.heap import release_free_heap
from streamapp.worker.topics import Topics, declare_topics
from streamapp.worker.transport import Transport


class StreamApp(faust.App):
    """faust.App that knows its settings and shared dependencies, and creates its topics before
    anything runs (a sink topic the broker auto-created would get one partition, not
    `TOPIC_PARTITIONS`)."""

    settings: Settings
    pipeline_topics: Topics
    deps: Deps

    def _new_transport(self) -> TransportT:
        return Transport(self.conf.broker_consumer, self)  # the worker's consumer: a short fetch wait

    async def on_first_start(self) -> None:
        quiet_gc()
        single_threaded_blas()
        # A table write is queued in the producer's buffer; past `max_messages` queued, Faust holds
        # the stream until the buffer drained that many, one send at a time (measured: 0.1-0.5 s
        # stalls, whenever a batch changed a few hundred keys). The buffer drains on its own, and
        # every offset commit waits for the writes queued before it, so a larger bound loses nothing.
        self.producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        await super().on_first_start()
        await ensure_topics(
            self.settings, {t.get_topic_name(): self.settings.topic_partitions for t in self.pipeline_topics.all()}
        )


GC_YOUNG_THRESHOLD = 50_000
PRODUCER_BUFFER_MESSAGES = 5_000


def quiet_gc() -> None:
    """The hot path allocates a container for every decoded line, field list and record, nearly all
    freed at once by reference counting. At Python's default threshold (700 allocations) the cycle
    collector would run every few hundred lines and, through its older generations, walk every
    object of the worker (Faust, Kafka and Redis clients, tables): measured, a third of the time
    spent decoding a batch. So what exists at start-up is frozen out of collection, and young
    collections wait for 50,000 allocations (still a small fraction of a batch's memory)."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)


def single_threaded_blas() -> None:
    """The worker's matrix products are small (a few texts against the classifier's references, an
    issue's templates for a centroid), made on the event loop. With a BLAS thread per core, each
    one waits for a thread on the other core, which the broker, Redis and the bridges keep busy:
    measured, the product of 20 texts by 362 references took 0.05 ms at the median and up to 40 ms,
    and the offline classifier was 13% of the loop's time at half load. One thread: no waiting."""
    threadpool_limits(1, user_api="blas")


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> StreamApp:
    s = settings or get_settings()
    app = StreamApp(
        s.streamapp_id,
        broker=s.kafka_broker_url,
        broker_credentials=broker_credentials(s),
        store="rocksdb://",
        datadir=str(s.data_dir),
        topic_partitions=s.topic_partitions,
        topic_replication_factor=s.topic_replication_factor,
        producer_acks=-1,
        # Sends (changelog writes above all) gather for a few milliseconds into one request per
        # broker, in batches big enough for a batch record: fewer, larger requests.
        producer_linger=0.005,
        producer_max_batch_size=256 * 1024,
        consumer_auto_offset_reset="earliest",
        web_host=s.web_host,
        web_port=s.web_port,
        web_bind=s.web_host,
        # Raw `/table/<name>/<key>/` routes would expose every table without auth, and `/router/`
        # the cluster's layout (which worker holds which key); our views route keys themselves.
        web_tables_enabled=False,
        web_router_enabled=False,
        autodiscover=False,
        Topic=ParkingTopic,  # an undecodable record is parked with the reason, not dropped
    )
    app.settings = s
    app.pipeline_topics = declare_topics(app, s)
    app.deps = deps = Deps(
        app=app, settings=s, topics=app.pipeline_topics, rules=RuleSet.load(s.rules_path),
        embedder=embedder_from_settings(s), clock=clock or SystemClock(),
    )
    if s.enable_bridge:
        app.service(InboundBridge(s))
        app.service(OutboundBridge(s))
    if s.enable_sources:
        app.service(ProducerManager(s))
    if s.enable_enricher or s.enable_cluster_enricher:
        deps.llm = LLMConnector.from_settings(s)
        deps.llm_health = LLMHealth(deps.llm, interval_sec=s.llm_health_interval_sec)
        app.service(deps.llm_health)
    if s.enable_consumer:
        consumer.register(deps)
    if s.enable_issues_aggregator:
        issues_aggregator.register(deps)
    if s.enable_patterns:
        patterns.register(deps)
    if s.enable_clustering:
        clustering.register(deps)
    if s.enable_enricher:
        enricher.register(deps)
    if s.enable_cluster_enricher:
        cluster_enricher.register(deps)
    if s.enable_prototype_improver:
        prototype_improver.register(deps)
    # always: with ENABLE_AUTOMATIONS off, matching alerts are dry runs
    acting = automations.register(deps)
    views_automations.register(app, s, acting.table, acting.rules, deps.clock)
    otlp_export.register(deps)  # always: the `otel_export` toggle decides at runtime whether anything is sent
    if s.heap_trim_sec:
        guarded_timer(deps, s.heap_trim_sec, "heap.trim", lambda: asyncio.to_thread(release_free_heap))
    views.register(app, s, deps.tables, app.pipeline_topics, deps.clock)
    return app
