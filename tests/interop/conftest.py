
import pytest



@pytest.fixture(scope="session")
def synthetic_events():
    from crowd.serializer.synthetic import generate

    return generate(hours=0.25, seed=3)


@pytest.fixture(scope="session")
def recording(tmp_path_factory, synthetic_events):
    """A real recording folder written by the real RecordingWriter."""
    from crowd.serializer.synthetic import write_recording

    return write_recording(tmp_path_factory.mktemp("rec") / "synthetic-0003", hours=0.25, seed=3)
