"""A provider stand-in for the channel-backend tests: an HTTP server on 127.0.0.1 in a thread
that records every request and answers from a queue of canned responses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class CapturedRequest:
    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class ProviderServer:
    host: str
    port: int
    requests: list[CapturedRequest] = field(default_factory=list)
    responses: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def reply_json(self, payload, status: int = 200, content_type: str = "application/json"):
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.responses.append((status, {"Content-Type": content_type}, body))


def _handler(server_state: ProviderServer):
    class Handler(BaseHTTPRequestHandler):
        def _capture(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            server_state.requests.append(
                CapturedRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    raw_query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            if server_state.responses:
                status, headers, payload = server_state.responses.pop(0)
            else:
                status, headers, payload = 500, {"Content-Type": "text/plain"}, b"no reply queued"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _capture
        do_POST = _capture

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def provider_server(monkeypatch) -> Iterator[ProviderServer]:
    # The SDKs honour proxy variables; requests to the stand-in must stay on this machine.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    state = ProviderServer(host="127.0.0.1", port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
