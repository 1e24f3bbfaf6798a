"""build_lock(index folder): one writer at a time, so two builds never replace each other's work.

`build`, `add` and `remove` each read the current index's manifest, build, and swap a new index in. Two
at once would each start from the same manifest, and the one that finished last would drop what the
other added. The lock is an operating-system file lock (filelock: fcntl on Unix, msvcrt on Windows), so
it is let go when its process ends however it ends; beside it, a small file says who holds it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import IndexBusyError

LOCK_FILE = ".build.lock"
HOLDER_FILE = ".build.lock.json"


def _holder(index_folder: Path) -> str:
    """'pid 123, since 2026-12-01 10:02:03' from the holder file, or a plain phrase when it cannot be read."""
    try:
        holder = json.loads((index_folder / HOLDER_FILE).read_text(encoding="utf-8"))
        return f"pid {int(holder['pid'])}, since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its process is not recorded"


@contextmanager
def build_lock(index_folder: Path, wait: bool = False, log=None):
    """Hold the index folder's build lock for the block; IndexBusyError when another build has it.

    With `wait`, block until the other build ends (saying so once through `log`, stderr by default).
    """
    index_folder = Path(index_folder)
    index_folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_folder / LOCK_FILE), thread_local=False, is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _holder(index_folder)
        if not wait:
            raise IndexBusyError(f"another build is running ({holder}) on {index_folder}; wait for it to finish, "
                                 "or run the command again with --wait") from None
        (log or (lambda message: print(message, file=sys.stderr)))(
            f"Waiting for the build already running ({holder}) on {index_folder} to finish…")
        lock.acquire(timeout=-1)
    try:
        (index_folder / HOLDER_FILE).write_text(json.dumps(
            {"pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S"), "command": sys.argv[1:3]}),
            encoding="utf-8")
        yield
    finally:
        try:
            (index_folder / HOLDER_FILE).unlink()
        except OSError:
            pass
        lock.release()
