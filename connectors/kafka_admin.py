"""Kafka clients' security, and the administration the app needs before producing: topics with the
right partition count."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from faust.types.auth import CredentialsT

from streamapp.errors import ConfigError
from streamapp.settings import Settings

_PARTITIONER = DefaultPartitioner()


@functools.lru_cache(maxsize=65_536)
def partition_for(key: str, partitions: int) -> int:
    """The partition the producer's default (murmur2) partitioner gives `key`: where its table
    state lives, so commands about it can be sent straight there. Cached (bounded): the hot path
    asks it for every line, and murmur2 is pure Python."""
    parts = list(range(partitions))
    return _PARTITIONER(key.encode(), parts, parts)


def bootstrap_servers(settings: Settings) -> str:
    """`kafka://h1:p1;h2:p2` (Faust's form) -> `h1:p1,h2:p2` (aiokafka's form)."""
    hosts = [part.split("://")[-1] for part in settings.kafka_broker_url.split(";") if part.strip()]
    return ",".join(hosts)


def broker_credentials(settings: Settings) -> CredentialsT | None:
    """Faust's form of the KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_CAFILE settings
    (None: plaintext). TLS always verifies the brokers' certificates and host names."""
    protocol = settings.kafka_security_protocol
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        cafile = settings.kafka_ssl_cafile
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username, password=settings.kafka_sasl_password.get_secret_value(),
            ssl_context=context, mechanism=settings.kafka_sasl_mechanism,
        )
    return faust.SSLCredentials(context) if context is not None else None


def client_options(settings: Settings) -> Mapping[str, Any]:
    """Bootstrap servers and security settings, as keyword arguments of every aiokafka client
    (producer, consumer, admin) the app, the benches and the tests create."""
    auth = credentials_to_aiokafka_auth(broker_credentials(settings))
    return {"bootstrap_servers": bootstrap_servers(settings), **auth}


async def ensure_topics(settings: Settings, topics: dict[str, int]) -> None:
    """Create missing topics with the given partition counts; existing ones are left as they are.

    The broker would auto-create a topic on first produce, but with one partition, which would
    break key-based partitioning shared with the Faust agents.
    """
    admin = AIOKafkaAdminClient(request_timeout_ms=30_000, **client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [name for name in topics if name in existing]
        for desc in await admin.describe_topics(present) if present else []:
            want, have = topics[desc["topic"]], len(desc["partitions"])
            if have != want:
                # Keyed state (tables) depends on equal partition counts; fail before anything runs.
                raise ConfigError(
                    f"topic {desc['topic']!r} has {have} partitions but TOPIC_PARTITIONS is {want}; "
                    "use the same count (or another TOPIC_PREFIX)"
                )
        missing = [
            NewTopic(name=name, num_partitions=parts, replication_factor=settings.topic_replication_factor)
            for name, parts in topics.items()
            if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing)
            for name, code, *rest in response.topic_errors:
                # Already-exists means another worker created it concurrently: fine.
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise KafkaError(f"cannot create topic {name}: error {code} {rest[0] if rest else ''}")
    finally:
        await admin.close()
