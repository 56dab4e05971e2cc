"""The crowd recording format: event schema, framed segment files, writer and reader."""
from crowd.format.schema import FORMAT_VERSION, SOURCES, make_event
from crowd.format.writer import RecordingWriter
from crowd.format.reader import ReadResult, read_recording, iter_recording

__all__ = ["FORMAT_VERSION", "SOURCES", "make_event", "RecordingWriter", "ReadResult",
           "read_recording", "iter_recording"]
