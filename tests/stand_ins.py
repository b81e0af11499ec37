"""Tiny loopback stand-ins for third parties: an HTTP receiver (webhooks, the LLM endpoint, the ECS
agent's task-protection endpoint) and an SMTP sink.

Both run in a background thread on port 0 and record what they received; the HTTP receiver can be
told to fail its first N requests so retry paths are exercised, or given a responder that answers
like the real service.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass
class HttpReceiver:
    url: str
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    fail_first: int = 0
    responder: Responder | None = None


@contextmanager
def http_receiver(fail_first: int = 0, responder: Responder | None = None) -> Iterator[HttpReceiver]:
    """POSTs and PUTs are recorded as (path, json body, headers); the first ``fail_first`` get HTTP 503,
    the rest the responder's answer (default 200 ``{"ok": true}``)."""
    state = HttpReceiver(url="", fail_first=fail_first, responder=responder)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with lock:
                state.requests.append((self.path, body, dict(self.headers.items())))
                failing = len(state.requests) <= state.fail_first
            status, reply = (
                (503, {"error": "try later"})
                if failing
                else (state.responder(self.path, body) if state.responder else (200, {"ok": True}))
            )
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_PUT = do_POST

        def log_message(self, *args: Any) -> None:
            return

    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        state.url = f"http://127.0.0.1:{port}"
        yield state


@dataclass
class SmtpSink:
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """Just enough SMTP (HELO/EHLO, MAIL, RCPT, DATA, QUIT) to accept mail from smtplib."""
    sink = SmtpSink(port=0)

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 sink ready")
            envelope: dict[str, Any] = {"to": []}
            while line := self.rfile.readline().decode(errors="replace"):
                verb = line[:4].upper()
                if verb == "DATA":
                    self.reply("354 go ahead")
                    body = []
                    while (data := self.rfile.readline().decode(errors="replace")) not in (".\r\n", ".\n", ""):
                        body.append(data)
                    sink.messages.append({**envelope, "data": "".join(body)})
                    envelope = {"to": []}
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    if verb == "MAIL":
                        envelope["from"] = line.split(":", 1)[1].strip()
                    elif verb == "RCPT":
                        envelope["to"].append(line.split(":", 1)[1].strip())
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with _serving(server) as port:
        sink.port = port
        yield sink


@contextmanager
def _serving(server: socketserver.TCPServer) -> Iterator[int]:
    """Serve ``server`` from a background thread while the block runs; yield its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
