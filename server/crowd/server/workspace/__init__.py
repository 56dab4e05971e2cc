"""The workspace: folders, ignore rules and the in-memory cache of every text file."""
from crowd.server.workspace.cache import DEFAULT_MAX_FILE_BYTES, ScanStats, WorkspaceCache
from crowd.server.workspace.folders import WorkspaceFolders, path_to_uri, uri_to_path

__all__ = ["DEFAULT_MAX_FILE_BYTES", "ScanStats", "WorkspaceCache", "WorkspaceFolders", "path_to_uri",
           "uri_to_path"]
