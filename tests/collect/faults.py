"""A loopback HTTP proxy in front of the moto server that answers chosen AWS operations with an error.

Fault injection over real HTTP: boto3 talks to the proxy exactly as to AWS, the proxy reads the
service and region from the request signature's credential scope and the operation from the protocol
(``X-Amz-Target`` for JSON services, ``Action`` for query services), and either forwards the request to
moto or answers with the error in that protocol's wire format (so botocore parses and retries it as it
would a real one).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP_HEADERS = {"connection", "transfer-encoding", "keep-alive"}


@dataclass
class Rule:
    """Answer ``code`` for requests of ``service`` (None: any) and ``operation``/``region`` when given."""

    service: str | None
    code: str
    operation: str | None = None
    region: str | None = None
    status: int = 400
    times: int | None = None  # None: every matching request
    used: int = 0

    def matches(self, service: str, region: str, operation: str | None) -> bool:
        if self.service not in (None, service) or self.region not in (None, region):
            return False
        if self.operation is not None and self.operation != operation:
            return False
        return self.times is None or self.used < self.times


@dataclass
class Hold:
    """Keep requests of one operation waiting until ``release`` is set (``arrived`` tells the test)."""

    service: str
    operation: str | None
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    def __init__(self, upstream: str, rules: list[Rule] | None = None, hold: Hold | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rules = list(rules or [])
        self.hold = hold
        self.seen: Counter[tuple[str, str | None]] = Counter()
        self.answered: Counter[tuple[str, str | None, str]] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _decide(self, service: str, region: str, operation: str | None) -> Rule | None:
        with self._lock:
            self.seen[(service, operation)] += 1
            for rule in self.rules:
                if rule.matches(service, region, operation):
                    rule.used += 1
                    self.answered[(service, operation, rule.code)] += 1
                    return rule
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                scope = _SCOPE.search(self.headers.get("Authorization", ""))
                region, service = scope.groups() if scope else ("", "")
                operation = _operation(self.headers.get("X-Amz-Target"), self.headers.get("Content-Type"), body)
                hold = proxy.hold
                if hold is not None and hold.service == service and hold.operation in (None, operation):
                    hold.arrived.set()
                    hold.release.wait(30)
                rule = proxy._decide(service, region, operation)
                if rule is not None:
                    self._error(rule, service)
                else:
                    self._forward(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

            def _forward(self, body: bytes) -> None:
                connection = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                content = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_HEADERS and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)
                connection.close()

            def _error(self, rule: Rule, service: str) -> None:
                message = f"injected {rule.code} for a test"
                content_type, body, extra = _error_body(self.headers, service, rule.code, message)
                self.send_response(rule.status)
                self.send_header("Content-Type", content_type)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _operation(target: str | None, content_type: str | None, body: bytes) -> str | None:
    if target:
        return target.rsplit(".", 1)[-1]
    if content_type and "x-www-form-urlencoded" in content_type:
        values = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return values[0] if values else None
    return None


def _error_body(headers: Message, service: str, code: str, message: str) -> tuple[str, bytes, dict[str, str]]:
    """The error in the wire format of the request's protocol (JSON, query XML, REST XML, REST JSON)."""
    if headers.get("X-Amz-Target"):
        body = json.dumps({"__type": code, "message": message}).encode()
        return "application/x-amz-json-1.0", body, {"x-amzn-ErrorType": code}
    if "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
        xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
               "</Error><RequestId>injected</RequestId></ErrorResponse>")  # fmt: skip
        return "text/xml", xml.encode(), {}
    if service in ("s3", "s3control"):
        xml = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>injected</RequestId></Error>"
        return "application/xml", xml.encode(), {}
    return "application/json", json.dumps({"message": message}).encode(), {"x-amzn-ErrorType": code}
