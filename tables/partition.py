"""Writing a table from a batch of events.

A Faust table writes a key to the local store and changelog partition of the event being processed
(`faust.current_event()`), which `async for` over a stream sets for each event. An agent that takes
events in batches (`stream.take_events`) has no current event while it works on the batch, so it
names one: `acting_for(event)` makes `event` current in this task, and every write in the block
goes to that event's partition. The caller groups its batch by partition first; a key's writes must
only ever happen in the partition its input arrived on.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from faust import streams
from faust.types import EventT


@contextmanager
def acting_for(event: EventT) -> Iterator[None]:
    token = streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        streams._current_event.reset(token)
