"""The one version string, read by the CLI (``crowd --version``), the sidecar's LSP server info
and ``crowd term``'s recordings."""

__version__ = "0.1.0"
