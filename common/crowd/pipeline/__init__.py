"""One recording pipeline for every recorder: stamp, fit, scrub, hold typed secrets, write.

It exists so that the privacy promises (docs/privacy.md) are kept in one place instead of
once per recorder: the sidecar session, ``crowd term``'s standalone recording and the
importers all put their events through ``RecordingPipeline``, which fails closed (an event
the redactor cannot scrub is not written; an ``error`` event says so). Layer: above
crowd.privacy and crowd.format, below every recorder (see .importlinter).
"""
from crowd.pipeline.recording import Clock, RecordingPipeline, monotonic_clock
from crowd.pipeline.redaction import RedactorUnavailable, open_redactor
from crowd.pipeline.values import Unrecordable, fit_event
from crowd.pipeline.writer import Event, EventWriter, ListWriter

__all__ = ["Clock", "Event", "EventWriter", "ListWriter", "RecordingPipeline", "RedactorUnavailable",
           "Unrecordable", "fit_event", "monotonic_clock", "open_redactor"]
