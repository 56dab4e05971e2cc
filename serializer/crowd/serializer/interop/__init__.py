"""Interchange with crowd-code: 2.0 session folders/tarballs (export and import) and 1.0 CSV (import)."""
