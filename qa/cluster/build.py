"""A sharded index built on a Ray cluster: each shard's work (qa/index/shards.py: build the
documents of its id range, count its statistics, weigh it with the corpus's) is a Ray task on the
node that will serve the shard; the client reduces the statistics and publishes the build
atomically, as any build. The shards' directory must be the same path on every node (a shared
disk), since the build is written, renamed and named in CURRENT there."""
from __future__ import annotations

from qa.cluster import connect, placement


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
