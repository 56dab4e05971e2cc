"""Benchmarks: ``python -m bench [--quick] [name ...]`` prints one table per measurement.

Each ``bench_<area>.py`` module exposes ``run(quick: bool) -> list[Table]`` and measures the
candidate side by side with the baseline its issue names, in the same run.
"""
