"""The recording format (write, read, import, export), the replayer and training converters."""
