"""Getting recordings off the machine: bundles, a persisted upload queue, the uploader and
the ingest server (see docs/privacy.md, "Upload")."""
from crowd.transfer.bundle import Candidate, desktop_candidates, editor_candidate
from crowd.transfer.client import Uploader, UploaderConfig, UploadError
from crowd.transfer.queue import Bundle, UploadQueue

__all__ = ["Bundle", "Candidate", "UploadError", "UploadQueue", "Uploader", "UploaderConfig",
           "desktop_candidates", "editor_candidate"]
