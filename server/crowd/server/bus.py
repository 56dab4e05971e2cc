"""In-process fan-out of client events to the sidecar's components.

The core handles each editor event first (document state, recording) and then publishes
it here, so components (attribution, terminals, snapshots) react to the same stream
without the core knowing about them. Callbacks run on the sidecar's event thread: they
must be quick and must not block; a failing callback is logged and never stops the
others or the core.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]
Callback = Callable[[Event], None]

ALL = "*"


class EventBus:
    """Subscribers by event kind (``"*"`` receives every kind)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callback]] = {}
        self._persistent: set[tuple[str, int]] = set()      # (kind, id) that clear() keeps
        self._lock = threading.Lock()

    def subscribe(self, kind: str, callback: Callback, *, persistent: bool = False) -> Callable[[], None]:
        """Call ``callback(event)`` for each event of ``kind``; returns an unsubscribe function.

        ``persistent`` subscriptions survive ``clear()`` (the end of a recording): state that
        must stay current across recordings (terminal screens) subscribes that way.
        """
        with self._lock:
            if persistent:
                self._persistent.add((kind, id(callback)))
            # copy-on-write so publish() can read without taking the lock
            subs = dict(self._subscribers)
            subs[kind] = [*subs.get(kind, []), callback]
            self._subscribers = subs

        def unsubscribe() -> None:
            with self._lock:
                self._persistent.discard((kind, id(callback)))
                subs = dict(self._subscribers)
                subs[kind] = [c for c in subs.get(kind, []) if c is not callback]
                self._subscribers = subs

        return unsubscribe

    def has_subscribers(self, kind: str) -> bool:
        subs = self._subscribers
        return bool(subs.get(kind) or subs.get(ALL))

    def publish(self, event: Event) -> None:
        subs = self._subscribers
        if not subs:
            return
        for callback in (*subs.get(event.get("kind", ""), ()), *subs.get(ALL, ())):
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one broken component must not stop recording
                log.exception("bus subscriber %r failed on a %s event", callback, event.get("kind"))

    def clear(self) -> None:
        """Drop every subscription but the persistent ones."""
        with self._lock:
            kept = {kind: [c for c in callbacks if (kind, id(c)) in self._persistent]
                    for kind, callbacks in self._subscribers.items()}
            self._subscribers = {kind: callbacks for kind, callbacks in kept.items() if callbacks}
