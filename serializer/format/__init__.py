"""The crowd recording format: event schema, framed segment files, writer and reader."""
from crowd.serializer.format.schema import FORMAT_VERSION, SOURCES, make_event
from crowd.serializer.format.writer import RecordingWriter
from crowd.serializer.format.reader import ReadResult, read_recording, iter_recording

__all__ = ["FORMAT_VERSION", "SOURCES", "make_event", "RecordingWriter", "ReadResult",
           "read_recording", "iter_recording"]
