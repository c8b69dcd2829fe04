"""A sharded index served by a Ray cluster: one actor per shard, the client merges.

Each shard's actor holds a ShardServer (qa/search/sharded.py): the shard's files memory-mapped on
the node that has them (qa.index.cluster.placement), answering the same requests as in-process shards.
The client (ShardedIndex) analyses the question, scatters, merges the shards' candidates, fetches
what the answer needs and composes it: the answer is the one index's.

Faults: Ray restarts an actor whose process dies (max_restarts); a request that was in flight then
fails, and it is sent once more, to the restarted actor (requests only read, so the answer is
the same). A shard that does not answer the second time, or not within the timeout, is
unavailable: the question fails with a line naming it, unless --allow-partial, which answers from
the other shards and says which answered.
"""
from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from qa import errors
from qa.index.cluster import connect, placement
from qa.errors import ShardUnavailable
from qa.search.engine import Engine
from qa.search.sharded import ShardServer

MAX_RESTARTS = 3  # a shard's actor is restarted this many times at most
TIMEOUT = float(os.environ.get("QA_CLUSTER_TIMEOUT") or 120)  # seconds a shard has to answer one request
# test hook, SHARD@N: that shard's actor kills itself at its N-th request; SHARD@N+: and every
# restarted actor of that shard at its first (the shard stays down)
KILL_ENV = "QA_TEST_SHARD_KILL"


class ShardLost(ShardUnavailable):
    """A shard went down while a question was being answered, with --allow-partial: what was
    already gathered may hold its candidates, so the question is asked again of the others."""


class PartialEngine(Engine):
    """An engine whose question is asked once more, from the start, when a shard is lost during it
    (--allow-partial): the second time the lost shard is left out of every request."""

    def ask(self, *args, **kwargs) -> dict:
        try:
            return super().ask(*args, **kwargs)
        except ShardLost:
            return super().ask(*args, **kwargs)

    def rank_documents(self, *args, **kwargs) -> list:
        try:
            return super().rank_documents(*args, **kwargs)
        except ShardLost:
            return super().rank_documents(*args, **kwargs)


class ShardActor:
    """One shard, in a Ray actor (its methods are those of ShardServer, by name)."""

    def __init__(self, shard_dir: str, expected, number: int, kill_at: str | None):
        import ray

        self.number = number
        self.server = ShardServer(shard_dir, expected)
        self.requests = 0
        wanted, _, nth = (kill_at or "").partition("@")
        first_life = not ray.get_runtime_context().was_current_actor_reconstructed
        self.kill_at = 0
        if wanted == str(number):
            self.kill_at = int(nth.rstrip("+") or 1) if first_life else int(nth.endswith("+"))

    def call(self, method: str, args: tuple):
        self.requests += 1
        if self.requests == self.kill_at:  # test hook: die by SIGKILL while a request is in flight
            os.write(2, f"qa: test hook: shard {self.number} killed at request {self.requests}\n".encode())
            os.kill(os.getpid(), signal.SIGKILL)
        return getattr(self.server, method)(*args)

    def pid(self) -> int:
        return os.getpid()


class RayShards:
    """The shards of a sharded build, each served by an actor on the cluster at `address`."""

    def __init__(self, build_dir: Path, manifest: dict, address: str, allow_partial: bool = False,
                 warn=None, timeout: float = TIMEOUT):
        self.ray = ray = connect(address)
        self.entries = manifest["shards"]
        self.where = [str(build_dir / e["name"]) for e in self.entries]
        self.allow_partial, self.timeout = allow_partial, timeout
        self.warn = warn or errors.warn
        self.down: dict[int, str] = {}  # shard -> why it is unavailable
        self.retries = 0
        actor = ray.remote(ShardActor)
        kill_at = os.environ.get(KILL_ENV)
        self.actors = [actor.options(max_restarts=MAX_RESTARTS, max_task_retries=0, num_cpus=0,
                                     **placement(ray, i)).remote(self.where[i], e.get("manifest"), i, kill_at)
                       for i, e in enumerate(self.entries)]

    def __len__(self) -> int:
        return len(self.entries)

    def name(self, shard: int) -> str:
        return f"shard {shard} of {len(self.entries)} ({self.where[shard]})"

    def scatter(self, requests: dict[int, tuple]) -> dict[int, object]:
        """{shard: (method, args)} -> {shard: result}, the requests sent to all shards at once."""
        ray = self.ray
        down_before = set(self.down)
        sent = {s: self.actors[s].call.remote(method, args) for s, (method, args) in requests.items()
                if s not in self.down}
        found = {}
        for s, ref in sent.items():
            try:
                found[s] = self._get(ref)
            except ray.exceptions.GetTimeoutError:
                self._lost(s, f"no answer within {self.timeout:g} s")
            except ray.exceptions.RayActorError as e:
                why = _reason(e)
                if why != DIED:  # the shard could not be opened: no restart brings it back
                    self._lost(s, why)
                    continue
                # Ray restarts the actor; the request is sent once more, to the restarted one
                self.retries += 1
                self.warn(f"{self.name(s)} stopped ({why}); the request was sent again")
                try:
                    found[s] = self._get(self.actors[s].call.remote(*requests[s]))
                except ray.exceptions.GetTimeoutError:
                    self._lost(s, f"no answer within {self.timeout:g} s after a restart")
                except ray.exceptions.RayActorError as again:
                    why = _reason(again)
                    self._lost(s, f"{why} again after a restart" if why == DIED else why)
        missing = [s for s in requests if s not in found]
        if missing and not self.allow_partial:
            s = missing[0]
            raise ShardUnavailable(f"{self.name(s)} is unavailable: {self.down.get(s, 'no answer')} "
                                   f"(--allow-partial answers from the other shards)")
        if any(s not in down_before for s in missing):  # lost in the middle of a question
            raise ShardLost(", ".join(self.name(s) for s in missing if s not in down_before))
        return found

    def _get(self, ref):
        ray = self.ray
        try:
            return ray.get(ref, timeout=self.timeout)
        except ray.exceptions.RayTaskError as e:  # the shard raised: its own error, as in-process
            cause = e.as_instanceof_cause()
            raise errors.QAError(f"{str(cause).splitlines()[-1]}") from None

    def _lost(self, shard: int, why: str) -> None:
        self.down[shard] = why
        if self.allow_partial:
            answering = ", ".join(str(s) for s in range(len(self.entries)) if s not in self.down)
            self.warn(f"{self.name(shard)} is unavailable ({why}); answering from shard"
                      f"{'s' * (len(self.entries) - len(self.down) != 1)} {answering or 'none'} (--allow-partial)")

    def pids(self) -> list[int]:
        return self.ray.get([a.pid.remote() for a in self.actors], timeout=self.timeout)

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:
                pass


DIED = "its process died"
_RAISED = re.compile(r"^\s*(\w*(?:Error|Exception)): (.+)$", re.M)


def _reason(e) -> str:
    """Why an actor failed, in a few words: the error its shard raised (a shard that could not be
    opened), else that its process died."""
    for name, text in _RAISED.findall(str(e)):
        if not name.startswith(("Ray", "Actor", "Rpc")):
            return f"{name}: {text.strip()}"[:300]
    return DIED


def serving(address: str, allow_partial: bool = False):
    """serve(build_dir, manifest) for qa.index.open_index: a sharded build's shards on the cluster."""
    return lambda build_dir, manifest: RayShards(build_dir, manifest, address, allow_partial)
