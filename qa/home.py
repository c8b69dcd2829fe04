"""Where qa keeps what it writes: one root, QA_HOME, when set; else the user's usual directories."""
from __future__ import annotations

import os
from pathlib import Path


def _root(kind: str) -> Path:
    """QA_HOME when set; else the platform's directory for this kind of file: "cache" (indexes,
    which can be rebuilt), "data" (the library, which cannot) or "state" (the chat's history)."""
    home = os.environ.get("QA_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs  # only when QA_HOME is not set

    where = {"cache": platformdirs.user_cache_dir, "data": platformdirs.user_data_dir,
             "state": platformdirs.user_state_dir}[kind]
    return Path(where("qa", appauthor=False))


def cache_dir() -> Path:
    """The root of the cached indexes (they live in its `indexes/` folder)."""
    return _root("cache")


def indexes_dir() -> Path:
    return cache_dir() / "indexes"


def default_library() -> Path:
    return _root("data") / "library"


def state_dir() -> Path:
    """Where the chat keeps its history."""
    return _root("state")
