"""A local server that behaves like Ofsted's: PDFs at /v1/file/<id>, provider pages at /provider/44/<urn>.

Each path answers from a script, one response per request and the last one repeated: a PDF, an HTTP
status, a redirect, a body cut short, an HTML error page served as a PDF, a page. Tests start it on a free
port. Run as a program it serves Oldham's three reports with each of those faults once:

    python -m tests.ofsted_server        # prints the two settings that point `fetch` at it
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TEST_DATA = Path(__file__).parent / "data"
ERROR_PAGE = (b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>Sorry, there is a problem with the service - "
              b"Ofsted</title></head>\n<body><h1>Sorry, there is a problem with the service</h1>\n"
              b"<p>Try again later.</p></body></html>\n")


def pdf(data: bytes) -> tuple:
    """200, application/pdf, the whole body with its Content-Length."""
    return ("pdf", data)


def status(code: int, headers: dict[str, str] | None = None) -> tuple:
    """An error status with Ofsted's HTML error page."""
    return ("status", code, headers or {})


def redirect(location: str, code: int = 302) -> tuple:
    return ("redirect", code, location)


def truncated(data: bytes) -> tuple:
    """200 with the whole body's Content-Length, then half the body and the connection closed."""
    return ("truncated", data)


def html_as_pdf() -> tuple:
    """200 with an HTML error page, labelled application/pdf."""
    return ("html_as_pdf",)


def page(html: str) -> tuple:
    return ("page", html.encode("utf-8"))


class OfstedServer:
    """`with OfstedServer(routes) as server:` serves the routes at server.url; server.requests lists what came."""

    def __init__(self, routes: dict[str, list[tuple]]):
        self.routes = {path: list(script) for path, script in routes.items()}
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The settings that point `fetch` at this server, with no waiting."""
        return {"INDEXER_OFSTED_FILES_URL": self.url, "INDEXER_OFSTED_REPORTS_URL": self.url,
                "INDEXER_FETCH_PAUSE": "0", "INDEXER_FETCH_BACKOFF": "0"}

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def __enter__(self) -> "OfstedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next(self, path: str) -> tuple:
        with self.lock:
            script = self.routes.get(path)
            if not script:
                return status(404)
            return script.pop(0) if len(script) > 1 else script[0]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                with server.lock:
                    server.requests.append((self.path, self.headers.get("User-Agent", "")))
                response = server._next(self.path)
                kind = response[0]
                if kind in ("pdf", "truncated", "html_as_pdf", "page"):
                    body = ERROR_PAGE if kind == "html_as_pdf" else response[1]
                    self.send_response(200)
                    served_as = "text/html; charset=utf-8" if kind == "page" else "application/pdf"
                    self.send_header("Content-Type", served_as)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:len(body) // 2] if kind == "truncated" else body)
                elif kind == "redirect":
                    self.send_response(response[1])
                    self.send_header("Location", response[2])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_response(response[1])
                    for name, value in response[2].items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(ERROR_PAGE)))
                    self.end_headers()
                    self.wfile.write(ERROR_PAGE)
                self.close_connection = True

            def log_message(self, *args) -> None:  # quiet
                pass

        return Handler


def oldham_routes(retry_after: str = "0") -> dict[str, list[tuple]]:
    """Oldham's three ILACS-era reports at their register addresses, with one of each fault on the way."""
    def report(year: str) -> bytes:
        return (TEST_DATA / {"2015": "oldham-2015-08-03.pdf", "2019": "oldham-2019-03-04.pdf",
                             "2024": "oldham-2024-07-12.pdf"}[year]).read_bytes()

    return {
        "/v1/file/50252252": [status(429, {"Retry-After": retry_after}), pdf(report("2024"))],
        "/v1/file/50059651": [status(500), redirect("/storage/50059651/oldham-2019-03-04.pdf")],
        "/storage/50059651/oldham-2019-03-04.pdf": [pdf(report("2019"))],
        "/v1/file/50004301": [truncated(report("2015")), html_as_pdf(), pdf(report("2015"))],
    }


if __name__ == "__main__":
    with OfstedServer(oldham_routes(retry_after="1")) as running:
        print(f"export INDEXER_OFSTED_FILES_URL={running.url} INDEXER_OFSTED_REPORTS_URL={running.url}")
        print("Serving Oldham's reports with a 429, a 500, a redirect, a truncated body and an HTML page; Ctrl-C ends.")
        try:
            running.thread.join()
        except KeyboardInterrupt:
            pass
