"""A local stand-in for an SMS provider's HTTP API, for the gateway tests: it
records each request the real SDK sends and answers with the body the test
chose, with the content type the provider uses (Alibaba Cloud
answers application/json;charset=utf-8, Tencent Cloud application/json, and
each SDK reads errors only under its own). Started on a free port of 127.0.0.1; the SDK is pointed at it through
SMS_ENDPOINT, so no test reaches the internet."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


class ProviderServer:
    def __init__(self, content_type="application/json"):
        self.content_type = content_type
        self.received = []
        self.answers = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                provider.received.append(
                    Received(
                        method="POST",
                        path=parts.path,
                        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=self.rfile.read(length),
                    )
                )
                answer = provider.answers.pop(0) if provider.answers else Answer()
                payload = json.dumps(answer.body, ensure_ascii=False).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", provider.content_type)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def answer(self, body, status=200, headers=None):
        self.answers.append(Answer(status, body, headers or {}))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
