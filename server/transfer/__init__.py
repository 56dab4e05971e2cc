"""Getting recordings off the machine: bundles, a persisted upload queue, the uploader and
the ingest server (see docs/privacy.md, "Upload")."""
from crowd.server.transfer.bundle import Candidate, desktop_candidates, editor_candidate
from crowd.server.transfer.client import Uploader, UploaderConfig, UploadError
from crowd.server.transfer.queue import Bundle, UploadQueue

__all__ = ["Bundle", "Candidate", "UploadError", "UploadQueue", "Uploader", "UploaderConfig",
           "desktop_candidates", "editor_candidate"]
