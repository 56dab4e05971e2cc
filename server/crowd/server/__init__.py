"""The editor sidecar: events in over JSON-RPC, workspace state updated, recording written."""
