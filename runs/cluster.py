"""Run the per-item jobs of a journalled run on a Ray cluster instead of this process.

The driver (this process) keeps the journal; Ray runs the jobs in worker actors, spread
over the cluster's nodes, each running up to `concurrency` items at once on its own event
loop. A worker that dies (its process or its whole node) is restarted by Ray and its
unfinished calls are retried; the driver writes each item once, whichever call finished
it first.

Settings the jobs read from the environment (endpoints, tracing, data and state folders)
reach the workers as Ray `runtime_env` variables. Keys do not: Ray's runtime-env agent
writes those variables into its log in plain text, so keys travel through the object store
instead (each item's call carries a reference to them, never the value) and are set in the
worker's environment before its first item.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from fellowship.runs.batch import Admit, Gate, ItemFailure, recorder

T = TypeVar("T")
R = TypeVar("R")

# What a job reads from the environment: endpoints, tracing, data and state folders; and keys.
FORWARDED = (
    "OPENAI_BASE_URL", "HF_ENDPOINT", "HF_HUB_OFFLINE",
    "LANGSMITH_TRACING", "LANGSMITH_ENDPOINT", "LANGSMITH_PROJECT", "LANGSMITH_DISABLE_RUN_COMPRESSION",
    "FELLOWSHIP_HOME", "FELLOWSHIP_LOCAL_TRACES", "FELLOWSHIP_TRACES_MB", "FELLOWSHIP_TRACE_SAMPLE", "FELLOWSHIP_DATA",
    "FELLOWSHIP_DATA_CACHE",
)
SECRETS = ("OPENAI_API_KEY", "HF_TOKEN", "LANGSMITH_API_KEY")
INSTALL = "--ray needs Ray: pip install 'fellowship[ray]'"


class ClusterUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


def connect(address: str) -> dict[str, float]:
    """Join the cluster at `address` (`local` starts one in this process); returns its resources."""
    try:
        import ray
    except ImportError:
        raise ClusterUnavailable(INSTALL) from None
    env = {name: os.environ[name] for name in FORWARDED if name in os.environ}
    if not ray.is_initialized():
        options: dict[str, Any] = {"runtime_env": {"env_vars": env}, "log_to_driver": False, "include_dashboard": False}
        node_ip = os.environ.get("FELLOWSHIP_RAY_NODE_IP")  # the driver's own address, on machines with several
        if node_ip:
            options["_node_ip_address"] = node_ip
        try:
            ray.init(address=address, **options)  # "local" always starts a new instance
        except Exception as exc:  # noqa: BLE001 - any failure to join is the same thing to the user
            raise ClusterUnavailable(f"cannot join the Ray cluster at {address}: {type(exc).__name__}: {exc}") from None
    return dict(ray.cluster_resources())


def join(address: str, workers: int | None) -> tuple[int, int]:
    """Join the cluster at `address`: (the workers to start, `workers` or one per CPU; the cluster's CPUs)."""
    resources = connect(address)
    return workers or max(1, int(resources.get("CPU", 1))), int(resources.get("CPU", 0))


def _worker_class() -> Any:
    import ray

    @ray.remote(max_restarts=-1, max_task_retries=-1)
    class Worker:
        """Runs the job on each item it is given, on its own event loop; local traces go to this node's FELLOWSHIP_HOME.

        The job comes once, at the start (its unpickling imports what it runs: all workers at once, before the first
        item), not with every item. It comes by value, in the actor's creation task, which Ray keeps to restart the
        worker: an object reference there would make Ray warn, on every run, that a restart may not find it."""

        def __init__(self, command: str, job: Callable[[Any], Awaitable[Any]]) -> None:
            from fellowship.runs.collector import settle

            if os.environ.get("FELLOWSHIP_LOCAL_TRACES", "1") != "0":
                from fellowship.tracing.local import enable

                enable(command)
            self.job = job
            settle()  # what the job imported stays for the worker's life

        async def run(self, item: Any, secrets: dict[str, str]) -> Any:
            """The job's result for `item`; `secrets` (Ray resolves the reference each call carries) set the keys."""
            os.environ.update(secrets)  # the same values every call: a restarted worker has them from its first
            result = await self.job(item)
            if isinstance(result, dict):  # a journal row: say which node made it
                result["worker"] = ray.util.get_node_ip_address()
            return result

        def flush(self) -> None:
            from langchain_core.tracers.langchain import wait_for_all_tracers

            from fellowship.tracing.local import flush

            wait_for_all_tracers()
            flush()

    return Worker


async def run_on_cluster(
    items: Sequence[T],
    job: Callable[[T], Awaitable[R]],
    *,
    workers: int,
    concurrency: int,
    command: str,
    on_done: Callable[[int, R | ItemFailure], None] | None = None,
    keep: bool = True,
    admit: Admit | None = None,
) -> list[R | ItemFailure]:
    """Like `runs.batch.run_all`, with the jobs run by `workers` Ray actors, `concurrency` items each.

    `job` must pickle (a module-level function or a partial of one over plain data), and stay small: each worker's
    creation carries it.
    """
    import ray

    # Half a CPU's claim each at most: Ray spreads the workers over the nodes, and a worker
    # restarted after its node died still fits beside the others.
    cpus = max(ray.cluster_resources().get("CPU", 1.0), 1.0)
    share = min(0.5, cpus / workers / 2)
    worker = _worker_class()
    secrets = ray.put({name: os.environ[name] for name in SECRETS if name in os.environ})
    actors = [worker.options(num_cpus=share, max_concurrency=concurrency, scheduling_strategy="SPREAD").remote(command, job)
              for _ in range(workers)]
    results: list[R | ItemFailure | None] = [None] * len(items) if keep else []
    gate = Gate(items, admit)  # shared: `concurrency` slots per actor, each taking the next item when free
    record = recorder(results if keep else None, on_done)  # here, on the driver: it holds the journal and the budget

    def on(actor: Any) -> Callable[[T], Awaitable[R]]:
        return lambda item: actor.run.remote(item, secrets)  # a Ray object ref: awaiting it gives the result

    try:
        await asyncio.gather(*(gate.serve(on(actors[n % workers]), record) for n in range(min(workers * concurrency, len(items)))))
        await asyncio.gather(*(actor.flush.remote() for actor in actors))
    finally:
        for actor in actors:
            ray.kill(actor)
    return cast(list[R | ItemFailure], results)  # in input order; None only for an item `admit` held back
