"""Running one function over many task descriptions: on Ray Data, or in a plain loop.

Why Ray Data: it streams (a task's result leaves its worker as soon as it is done; nothing
holds the whole job in memory), schedules one task per block on every CPU of every node,
and retries a task whose worker died. Tasks are small dicts of plain values (one block
each, so every session is its own task); results are small dicts too (counts, JSON
strings): the heavy output goes to files the task writes itself (crowd.cluster.shards).

Ray is imported here only, lazily: the recorder's install has no Ray. Measured on this
machine (scale.md): a local Ray starts in a few seconds, ``ray.init(address=...)`` joins a
running cluster in ~0.5 s. ``engine="local"`` calls the same function in this process.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

ENGINES = ("ray", "local")

Task = dict[str, Any]


class RayMissing(RuntimeError):
    """Ray is not installed: pip install 'crowd-rollouts[scale]' (or use engine="local")."""


def _ray() -> Any:
    try:
        import ray  # noqa: PLC0415 - optional, heavy
    except ImportError as exc:
        raise RayMissing("Ray is not installed: pip install 'crowd-rollouts[scale]' "
                         "(ray[data]), or run without Ray (--engine local)") from exc
    return ray


def connect(ray_address: str | None, num_cpus: int | None) -> bool:
    """Join the cluster at ``ray_address`` or start a local Ray; True if this call started it
    (the caller shuts it down)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": logging.WARNING}
    if ray_address:
        ray.init(address=ray_address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    return True


def run_tasks(tasks: list[Task], fn: Callable[[Task], dict[str, Any]], *, engine: str = "ray",
              ray_address: str | None = None, num_cpus: int | None = None,
              num_gpus: float = 0) -> list[dict[str, Any]]:
    """``fn`` over every task; results in task order. ``fn`` must be picklable (a module
    function, or a functools.partial of one) and idempotent: Ray may run a task twice."""
    _check_engine(engine)
    if not tasks:
        return []
    if engine == "local":
        return [fn(t) for t in tasks]
    # Ray retries a task whose worker died (3 times by default): fn must be idempotent
    return _in_order(tasks, ray_address, num_cpus,
                     lambda ray, ds: ds.map(_Numbered(fn), num_cpus=1, num_gpus=num_gpus or None))


def run_actors(tasks: list[Task], cls: type, ctor_kwargs: dict[str, Any], *, engine: str = "ray",
               ray_address: str | None = None, num_cpus: int | None = None) -> list[dict[str, Any]]:
    """Batch inference: ``cls(**ctor_kwargs)`` built once per actor (a model loaded once), then
    called on each task; results in task order. One actor per GPU of the cluster, each holding
    its GPU; on a cluster without GPUs one actor on one CPU (a model per CPU would multiply
    its memory for little: torch already uses the cores it is given)."""
    _check_engine(engine)
    if not tasks:
        return []
    if engine == "local":
        actor = cls(**ctor_kwargs)
        return [actor(t) for t in tasks]

    def on_actors(ray: Any, ds: Any) -> Any:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        return ds.map(_NumberedActor, fn_constructor_kwargs={"cls": cls, "kwargs": ctor_kwargs},
                      concurrency=max(1, min(gpus, len(tasks))), num_gpus=1 if gpus else None, num_cpus=1)

    return _in_order(tasks, ray_address, num_cpus, on_actors)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")


def _in_order(tasks: list[Task], ray_address: str | None, num_cpus: int | None,
              mapped: Callable[[Any, Any], Any]) -> list[dict[str, Any]]:
    """One block per task (numbered), ``mapped(ray, dataset)`` applied on Ray, the results put
    back in task order (Ray Data may reorder rows); a task with no result is an error."""
    ray = _ray()
    started = connect(ray_address, num_cpus)
    try:
        from ray.data import DataContext  # noqa: PLC0415

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        numbered = [{"_task": i, **t} for i, t in enumerate(tasks)]
        ds = mapped(ray, ray.data.from_items(numbered, override_num_blocks=len(numbered)))
        by_task = {int(row["_task"]): _strip(row) for row in ds.iter_rows()}
    finally:
        if started:
            ray.shutdown()
    missing = [i for i in range(len(tasks)) if i not in by_task]
    if missing:
        raise RuntimeError(f"Ray returned no result for tasks {missing[:10]}")
    return [by_task[i] for i in range(len(tasks))]


def _strip(row: dict[str, Any]) -> Task:
    return {k: v for k, v in row.items() if k != "_task"}


class _Numbered:
    """Keeps the task number beside ``fn``'s result (Ray Data may reorder rows)."""

    def __init__(self, fn: Callable[[Task], dict[str, Any]]) -> None:
        self.fn = fn

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"_task": row["_task"], **self.fn(_strip(row))}


class _NumberedActor:
    """An actor holding ``cls(**kwargs)``; keeps the task number beside each result."""

    def __init__(self, cls: type, kwargs: dict[str, Any]) -> None:
        self.actor = cls(**kwargs)

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"_task": row["_task"], **self.actor(_strip(row))}
