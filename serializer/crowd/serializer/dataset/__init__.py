"""Deterministic training-data converters (trajectories, prompt/response pairs, next-action sequences, SED)."""
