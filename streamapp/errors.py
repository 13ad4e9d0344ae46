"""The project's exception tree.

    StreamAppError
     ├── ConfigError          business configuration is invalid (fail fast at start)
     ├── PoisonInput          one input record cannot be processed; goes to the dead-letter stream
     ├── ExternalAPIError     an external system answered with an error
     │    ├── RateLimited     429/503 with the wait the system asked for
     │    └── AuthFailed      401/403: credentials are wrong or lack permission
     └── TransientError       infrastructure is briefly unavailable; retry with backoff
"""

from __future__ import annotations


class StreamAppError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(StreamAppError):
    """Configuration is invalid; the message names the setting."""


class PoisonInput(StreamAppError):
    """An input record that can never be processed (carries the reason for the dead-letter stream)."""

    def __init__(self, reason: str, *, record_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record_id = record_id


class TransientError(StreamAppError):
    """A dependency is briefly unavailable; the caller retries with backoff."""


class ExternalAPIError(StreamAppError):
    """An external API answered with an error status."""

    def __init__(self, system: str, status: int, detail: str) -> None:
        super().__init__(f"{system}: HTTP {status}: {detail}")
        self.system = system
        self.status = status
        self.detail = detail


class RateLimited(ExternalAPIError):
    """The system throttled us; ``retry_after`` is how long it asked us to wait (seconds)."""

    def __init__(self, system: str, status: int, detail: str, retry_after: float) -> None:
        super().__init__(system, status, detail)
        self.retry_after = retry_after


class AuthFailed(ExternalAPIError):
    """Credentials were refused (401) or lack permission (403)."""
