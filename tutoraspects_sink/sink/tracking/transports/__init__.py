"""The transports that carry tracking events from the emitting process to ClickHouse.

Each transport is one module; one instance of each per process (see :func:`get`). A
transport's ``send(event, event_id)`` never raises and returns whether it accepted the event.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from .. import conf


class Transport(Protocol):
    name: str

    def send(self, event: Mapping[str, Any], event_id: uuid.UUID) -> bool: ...

    def flush(self, timeout: float | None = None) -> bool: ...

    def close(self, timeout: float | None = None) -> bool: ...

    @property
    def pending(self) -> int: ...

    @property
    def dropped(self) -> int: ...


MODULES = {
    "direct": "tutoraspects_sink.sink.tracking.transports.direct",
    "celery": "tutoraspects_sink.sink.tracking.transports.celery_queue",
    "event_bus": "tutoraspects_sink.sink.tracking.transports.event_bus",
}

_lock = threading.Lock()
_instances: dict[str, Transport] = {}


def get(name: str | None = None) -> Transport:
    """This process's transport called ``name`` (default: the configured one)."""
    name = name or conf.transport_name()
    transport = _instances.get(name)
    if transport is None:
        with _lock:
            transport = _instances.get(name)
            if transport is None:
                if name not in MODULES:
                    raise ValueError(f"unknown tracking transport {name!r}")
                transport = importlib.import_module(MODULES[name]).create()
                _instances[name] = transport
    return transport


def active() -> list[Transport]:
    """The transports this process has used."""
    return list(_instances.values())


def flush_all(timeout: float | None = None) -> bool:
    """Hand everything this process holds to its transports' next hop."""
    return all([transport.flush(timeout) for transport in active()])


def reset(timeout: float | None = 10) -> None:
    """Flush and forget every transport of this process (settings changed; tests)."""
    with _lock:
        instances = list(_instances.values())
        _instances.clear()
    for transport in instances:
        transport.close(timeout)
