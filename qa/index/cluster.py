"""A Ray cluster for a sharded index (qa/index/shards.py): joining it, placing a shard's work on
the node that holds its files, and building the shards as Ray tasks (RayRunner). The shards are
served by actors in qa/search/cluster.py.

Ray is the cluster extra (`pip install '.[cluster]'`); nothing here imports it before a command
asks for a cluster (`--cluster HOST:PORT` or QA_CLUSTER).

A build on the cluster: each shard's work (qa/index/shards.py: build the documents of its id
range, count its statistics, weigh it with the corpus's) is a Ray task on the node that will
serve the shard; the client reduces the statistics and publishes the build atomically, as any
build. The shards' directory must be the same path on every node (a shared disk), since the
build is written, renamed and named in CURRENT there.
"""
from __future__ import annotations

import logging
import os

from qa.errors import QAError

ENV = "QA_CLUSTER"  # the cluster's address when --cluster is not given
INSTALL = "pip install '.[cluster]' in qa's source folder"


def ray_module():
    """The ray package, or QAError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise QAError(f"--cluster needs Ray, which is not installed: {INSTALL} (the cluster extra)") from None
    return ray


def connect(address: str):
    """Join the Ray cluster at HOST:PORT (its GCS address, as `ray start --head --port` gives it) as
    a driver; returns the ray module. QAError when nothing answers there."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise QAError(f"--cluster {address}: give the cluster's address as HOST:PORT (e.g. 127.0.0.1:6379)")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    _reachable(host, int(port))
    _no_raylet_notices_on_stdout()
    try:
        with _quiet():  # Ray's native start-up notices (which address it found, its log level) are not qa's
            ray.init(address=address, namespace="qa", logging_level=logging.ERROR, log_to_driver=False,
                     configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise QAError(f"cannot join the Ray cluster at {address} ({str(e).splitlines()[0] if str(e) else e}); "
                      f"start one with `ray start --head --port={port}`") from None
    return ray


def _reachable(host: str, port: int, wait: float = 10.0) -> None:
    """QAError at once when nothing listens at the address (Ray itself would keep trying for minutes)."""
    import socket

    try:
        socket.create_connection((host, port), timeout=wait).close()
    except OSError as e:
        raise QAError(f"cannot join the Ray cluster at {host}:{port} ({e.strerror or e}); "
                      f"start one with `ray start --head --port={port}`") from None


def _no_raylet_notices_on_stdout() -> None:
    """Ray's driver prints the raylet's notices ("a worker died ...", in colour) on standard output,
    where qa's results go; qa says itself, on standard error, what became of a shard. So they
    are left out (Ray offers no setting for it: its printing function is wrapped)."""
    try:
        from ray._private import worker
    except ImportError:
        return
    printing = getattr(worker, "print_to_stdstream", None)
    if printing is None or getattr(printing, "qa_wrapped", False):
        return

    def without_raylet(data, ignore_prefix):
        if data.get("pid") != "raylet":
            printing(data, ignore_prefix)

    without_raylet.qa_wrapped = True
    worker.print_to_stdstream = without_raylet


class _quiet:
    """Standard error (the file descriptor, which native code writes to) sent to /dev/null."""

    def __enter__(self):
        import sys

        sys.stderr.flush()
        self.saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False


def placement(ray, shard: int) -> dict:
    """Where shard `shard`'s actor and tasks run: on the node that offers the resource
    qa_shard_<n> (`ray start --resources '{"qa_shard_0": 1}'` on the node holding its files), else
    spread over the nodes (each must then reach every shard's files, e.g. on a shared disk)."""
    name = f"qa_shard_{shard}"
    if name in ray.cluster_resources():
        return {"resources": {name: 0.001}}
    return {"scheduling_strategy": "SPREAD"}


class RayRunner:
    """Runs each shard's task as a Ray task (qa/index/shards.py calls `map`)."""

    def __init__(self, address: str):
        self.ray = connect(address)
        self._remote = {}

    def map(self, function, calls: list[tuple], shards: list[int]) -> list:
        ray = self.ray
        remote = self._remote.get(function)
        if remote is None:
            remote = self._remote[function] = ray.remote(function)
        refs = [remote.options(num_cpus=1, **placement(ray, shard)).remote(*call) for call, shard in zip(calls, shards)]
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as e:  # the task's own error, as it would be raised in-process
            raise e.as_instanceof_cause() from None
