"""Exceptions the indexer raises; only the CLI and the app turn them into messages."""


class IndexerError(Exception):
    """Base class: the message says what went wrong and how to fix it."""


class DocumentError(IndexerError):
    """A file could not be read into a document (the message names the file)."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # rebuilt from (path, problem) when it crosses from a reading process
        return (type(self), (self.path, self.problem))


class IndexMissingError(IndexerError):
    """No index exists where one was expected."""


class IndexStaleError(IndexerError):
    """The index was built from other files, another model or another format."""


class ModelNotFoundError(IndexerError):
    """The packaged embedding model is not installed."""


class IndexCorruptError(IndexerError):
    """The index files are damaged (truncated, edited, or their counts disagree): it must be rebuilt."""


class IndexBusyError(IndexerError):
    """Another build holds the index folder's lock."""


class SearchUnavailableError(IndexerError):
    """The search service (a Milvus server) does not answer: the index may be whole, but it cannot be reached now."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(f"the search service is unavailable: {detail}")

    def __reduce__(self):
        return (type(self), (self.detail,))
