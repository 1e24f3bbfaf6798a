"""The connection to Milvus: one client per URI in a process, its errors said as IndexerErrors, and a
`milvus-lite server` of one's own for tests, benchmarks and trying the server mode on one machine."""

from __future__ import annotations

import logging
import socket
import threading
import time
from contextlib import contextmanager

from .errors import IndexerError, SearchUnavailableError
from .settings import Settings

_CLIENTS: dict[tuple[str, str], object] = {}
_CLIENTS_LOCK = threading.Lock()
_LOADED: set[tuple[str, str]] = set()  # (uri, collection) loaded by this process


def is_file(uri: str) -> bool:
    """A Milvus Lite file (pymilvus starts Milvus Lite in this process for it), not a server's address."""
    return uri.endswith(".db")


def connect(settings: Settings):
    """One MilvusClient per URI and token in this process, shared by every searcher and build."""
    key = (settings.milvus_uri, settings.milvus_token)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = _open(settings)
        return client


def forget(settings: Settings) -> None:
    """Drop this process's client for the URI (a test that stops a server starts the next one afresh)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.pop((settings.milvus_uri, settings.milvus_token), None)
        _LOADED.difference_update({key for key in _LOADED if key[0] == settings.milvus_uri})
    if client is not None:
        try:
            client.close()
        except Exception:  # noqa: BLE001 (closing a client of a server that has gone)
            pass


def _open(settings: Settings):
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import ConnectionConfigException
    except ImportError:
        raise IndexerError("INDEXER_MILVUS_URI is set, but pymilvus is not installed: pip install -e '.[milvus]' "
                           "(or unset INDEXER_MILVUS_URI to use the index folder)") from None
    # After the import, which configures pymilvus's loggers: their tracebacks are errors this module reports.
    # grpc._server: for a .db file Milvus Lite's server runs in this process, and logs the RPCs it lacks.
    for name in ("pymilvus", "pymilvus.milvus_client", "milvus_lite", "grpc._server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    uri = settings.milvus_uri
    try:
        return MilvusClient(uri=uri, token=settings.milvus_token, timeout=settings.milvus_timeout)
    except ConnectionConfigException as error:
        if is_file(uri):
            raise IndexerError(
                f"the Milvus Lite file {uri} cannot be opened: another process has it open (a .db file serves one "
                f"process at a time), or it cannot be written here. To share it between the app and builds, serve "
                f"it: `milvus-lite server --data-dir {uri} --port 19530` and INDEXER_MILVUS_URI="
                "http://127.0.0.1:19530") from None
        raise IndexerError(f"INDEXER_MILVUS_URI={uri} is not a Milvus address ({_message(error)}): give a .db file "
                           "or http://host:19530") from None
    except Exception as error:  # noqa: BLE001 (pymilvus and grpc raise several kinds)
        raise translated(error, settings, "connecting") from None


def _message(error: BaseException) -> str:
    text = str(getattr(error, "message", "") or error)
    return " ".join(text.split())[:300]


def _unreachable(error: BaseException) -> bool:
    text = f"{type(error).__name__} {_message(error)} {getattr(error, 'code', '')}".lower()
    return any(sign in text for sign in ("unavailable", "fail connecting", "failed to connect", "connection refused",
                                         "deadline", "timeout", "timed out", "socket closed", "connect failed",
                                         "channel closed", "not connected", "server closed"))


def translated(error: BaseException, settings: Settings, doing: str) -> IndexerError:
    """A pymilvus or gRPC error as the IndexerError that says what happened and what to do."""
    if isinstance(error, IndexerError):
        return error
    if _unreachable(error):
        return SearchUnavailableError(f"Milvus at {settings.milvus_uri} did not answer while {doing} "
                                      f"({_message(error)})")
    return IndexerError(f"Milvus at {settings.milvus_uri} refused {doing}: {_message(error)}")


@contextmanager
def answering(settings: Settings, doing: str):
    """Around Milvus calls: pymilvus and gRPC errors come out as IndexerErrors (SearchUnavailableError when the
    service does not answer)."""
    try:
        yield
    except IndexerError:
        raise
    except Exception as error:  # noqa: BLE001
        module = type(error).__module__ or ""
        if module.startswith(("pymilvus", "grpc", "milvus_lite")):
            raise translated(error, settings, doing) from None
        raise


def forget_loaded(settings: Settings, name: str) -> None:
    """Count a collection as not loaded by this process (dropped, or forgotten by a restarted server)."""
    _LOADED.discard((settings.milvus_uri, name))


def ensure_loaded(client, settings: Settings, name: str) -> None:
    """Load a collection for searching, once per process (Milvus Lite forgets what was loaded when it restarts)."""
    key = (settings.milvus_uri, name)
    if key not in _LOADED:
        client.load_collection(name, timeout=settings.milvus_timeout)
        _LOADED.add(key)


def call(settings: Settings, doing: str, method: str, collection: str, **arguments):
    """One search or query on a collection, loaded first, with errors said as IndexerErrors. A collection the
    server has forgotten it loaded (Milvus Lite after a restart) is loaded again and the call made once more."""
    client = connect(settings)
    arguments.setdefault("timeout", settings.milvus_timeout)
    with answering(settings, doing):
        ensure_loaded(client, settings, collection)
        try:
            return getattr(client, method)(collection, **arguments)
        except Exception as error:  # noqa: BLE001 (pymilvus's own; anything else is raised as it is)
            if "released" not in str(error).lower() and "not loaded" not in str(error).lower():
                raise
            forget_loaded(settings, collection)
            ensure_loaded(client, settings, collection)
            return getattr(client, method)(collection, **arguments)


def quoted(value: str) -> str:
    """A string literal of Milvus's filter language."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


# ---------------------------------------------------------------- a server of one's own


class LiteServer:
    """`milvus-lite server` on a free port of 127.0.0.1 over a data folder, for tests, benchmarks and trying the
    server mode on one machine (it is Milvus Lite: one machine, no authentication; a region runs Milvus itself)."""

    def __init__(self, folder, log=None, port: int | None = None):
        import subprocess
        import sys

        if port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port = port
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(folder),
                                         "--host", "127.0.0.1", "--port", str(self.port)],
                                        stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise IndexerError(f"milvus-lite server over {folder} did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop it (terminate, then kill after ten seconds), and forget this process's client of it."""
        import subprocess

        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        forget(Settings(milvus_uri=self.uri))
