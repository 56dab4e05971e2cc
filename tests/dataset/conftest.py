import pytest


@pytest.fixture(scope="session")
def recording(tmp_path_factory):
    """A real recording folder (RecordingWriter) of a scripted 12-minute session."""
    from crowd.serializer.synthetic import write_recording

    return write_recording(tmp_path_factory.mktemp("rec") / "synthetic-0021", hours=0.2, seed=21)


@pytest.fixture(scope="session")
def qwen():
    from crowd.serializer.dataset.tokenizer import QwenCounter

    return QwenCounter()
