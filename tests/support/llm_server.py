"""A scriptable OpenAI-compatible chat server on 127.0.0.1: the one stand-in the tests allow.

It speaks the real protocol (`POST /v1/chat/completions`, JSON or `stream: true` server-sent
events ending `data: [DONE]`), so `langchain_openai.ChatOpenAI(base_url=server.url + "/v1")` runs
unmodified against it, retries, timeouts and all. A test picks a behaviour and afterwards reads
`server.requests` (every request body received) to prove what was, and was not, sent.

Behaviours:
    answer          a reply copied from passages [1] and [2] of the prompt (or `server.fixed_text`)
    cite_missing    the answer plus a sentence citing [9], a passage that was not given
    unsupported     the answer plus a sentence no passage supports
    http_500        HTTP 500 with an OpenAI-style error body
    http_429        HTTP 429 with `Retry-After: 1`
    hang            accepts the request and never answers (until the server closes)
    garbage         a 200 event stream of invalid JSON
    obey_injection  replies INJECTION_OK and an outside image when the prompt carries "INJECTION_OK"

Standalone (browser tests, manual runs): `python -m tests.support.llm_server --port 8765`;
`POST /control {"behaviour": "...", "fixed_text": "..."}` changes behaviour, `GET /requests`
returns the bodies received, `POST /reset` clears them.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

BEHAVIOURS = ("answer", "cite_missing", "unsupported", "http_500", "http_429", "hang", "garbage",
              "obey_injection")
UNSUPPORTED_SENTENCE = ("Every patient should also drink three litres of grapefruit juice each "
                        "morning and avoid walking on Tuesdays [1].")
INJECTION_REPLY = "INJECTION_OK [1]\n\n![status](http://evil.example/pixel.png)"
_HEADER = re.compile(r"^\[(\d+)\] (.+)$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")


def free_port() -> int:
    """A TCP port nobody listens on right now (also used to provoke a refused connection)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prompt_text(body: dict[str, Any]) -> str:
    """All message contents of a chat request joined, whatever shape the content takes."""
    parts = []
    for message in body.get("messages", []):
        content = message.get("content", "")
        if isinstance(content, list):
            content = " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
        parts.append(str(content))
    return "\n".join(parts)


def numbered_passages(prompt: str) -> dict[int, tuple[str, str]]:
    """The `[n] Title › Section` blocks of the prompt: n → (heading, text)."""
    body = prompt.split("<passages>", 1)[-1].split("</passages>", 1)[0]
    headers = list(_HEADER.finditer(body))
    out: dict[int, tuple[str, str]] = {}
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(body)
        out[int(match.group(1))] = (match.group(2), body[match.end():end].strip())
    return out


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.split("\n"):
        line = line.strip(" -•*\t")
        out += [s.strip() for s in _SENTENCE_END.split(line) if len(s.strip()) >= 30]
    return out


def grounded_answer(prompt: str) -> str:
    """The house format built from sentences copied out of passages [1] and [2]."""
    passages = numbered_passages(prompt)
    if not passages:
        return "The library does not answer this question."
    picked: list[tuple[int, str, str]] = []
    for n in sorted(passages)[:2]:
        heading, text = passages[n]
        section = heading.split(" › ")[-1].split(" (page")[0].strip() or "Guidance"
        picked += [(n, section, s.rstrip(".") + ".") for s in _sentences(text)[:3]]
    if not picked:
        return "The library does not answer this question."
    lead, bullets = picked[0], picked[1:6]
    lines = [f"{lead[2]} [{lead[0]}]", ""]
    lines += [f"- **{section}**: {sentence} [{n}]" for n, section, sentence in bullets]
    last = bullets[-1] if bullets else lead
    lines += ["", f"**In summary**: {last[2]} [{last[0]}]"]
    return "\n".join(lines)


class LLMServer:
    """The server object a test holds: behaviour to set, requests to inspect."""

    def __init__(self, port: int = 0, behaviour: str = "answer") -> None:
        self.behaviour = behaviour
        self.fixed_text: str | None = None
        self.requests: list[dict[str, Any]] = []
        self.raw_requests: list[str] = []
        self.arrivals: list[float] = []  # time.monotonic() of each chat request
        self.chunks_per_reply = 8
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="llm-server",
                                        daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def reset(self, behaviour: str = "answer") -> None:
        """Back to a healthy server with no recorded requests."""
        with self._lock:
            self.behaviour, self.fixed_text = behaviour, None
            self.requests.clear()
            self.raw_requests.clear()
            self.arrivals.clear()

    def set(self, behaviour: str, fixed_text: str | None = None) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; choose from {', '.join(BEHAVIOURS)}")
        self.behaviour, self.fixed_text = behaviour, fixed_text

    def record(self, raw: str) -> dict[str, Any]:
        try:
            body = json.loads(raw or "{}")
        except json.JSONDecodeError:
            body = {}
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.raw_requests.append(raw)
            self.requests.append(body)
        return body

    def reply_text(self, body: dict[str, Any]) -> str:
        """The assistant message for a chat request under the current behaviour."""
        prompt = prompt_text(body)
        base = self.fixed_text if self.fixed_text is not None else grounded_answer(prompt)
        if self.behaviour == "cite_missing":
            first = _sentences(numbered_passages(prompt).get(1, ("", ""))[1]) or ["See the guideline."]
            return f"{base}\n- **Also**: {first[0].rstrip('.')}. [9]"
        if self.behaviour == "unsupported":
            return f"{base}\n- **Extra advice**: {UNSUPPORTED_SENTENCE}"
        if self.behaviour == "obey_injection" and "INJECTION_OK" in prompt:
            return INJECTION_REPLY
        return base

    def sent_text(self) -> str:
        """Everything received so far, as one string (for "no identifier was sent" checks)."""
        with self._lock:
            return "\n".join(self.raw_requests)


def _make_handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (quiet)
            return None

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") == "/requests":
                return self._json(200, {"requests": server.requests})
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                return self._json(200, {"object": "list", "data": [{"id": "test-model",
                                                                    "object": "model"}]})
            return self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            path = self.path.rstrip("/")
            if path == "/control":
                data = json.loads(raw or "{}")
                server.set(data.get("behaviour", "answer"), data.get("fixed_text"))
                return self._json(200, {"behaviour": server.behaviour})
            if path == "/reset":
                server.reset()
                return self._json(200, {"behaviour": server.behaviour})
            if not path.endswith("/chat/completions"):
                return self._json(404, {"error": {"message": f"no route {self.path}"}})
            self._chat(server.record(raw))

        def _chat(self, body: dict[str, Any]) -> None:
            behaviour = server.behaviour
            if behaviour == "http_500":
                return self._json(500, {"error": {"message": "upstream exploded", "type": "server_error"}})
            if behaviour == "http_429":
                return self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                  {"Retry-After": "1"})
            if behaviour == "hang":
                server._closing.wait(timeout=120)
                return None
            if behaviour == "garbage":
                return self._events(["{not json", '{"choices": [{"delta": {"content": "x"'], done=True)
            text = server.reply_text(body)
            model = str(body.get("model", "test-model"))
            if body.get("stream"):
                return self._events([json.dumps(c) for c in _stream_chunks(text, model, body,
                                                                             server.chunks_per_reply)],
                                    done=True)
            return self._json(200, _completion(text, model))

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _events(self, payloads: list[str], done: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for payload in payloads:
                    self.wfile.write(f"data: {payload}\n\n".encode("utf-8"))
                    self.wfile.flush()
                if done:
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
        "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 100, "completion_tokens": len(text.split()),
                  "total_tokens": 100 + len(text.split())},
    }


def _pieces(text: str, n: int) -> list[str]:
    """`text` cut at word boundaries into about `n` pieces that join back exactly."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    size = max(1, -(-len(tokens) // n))
    return ["".join(tokens[i:i + size]) for i in range(0, len(tokens), size)]


def _stream_chunks(text: str, model: str, body: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model, "system_fingerprint": None}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                     "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(text, n):
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        words = len(text.split())
        yield {**base, "choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": words,
                                                "total_tokens": 100 + words}}


# Pytest glue ------------------------------------------------------------------------------------
@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """A healthy loopback model server for one test."""
    server = LLMServer().start()
    yield server
    server.close()


def model_settings(base: Any, server: LLMServer | None = None, *, url: str | None = None,
                   **overrides: Any) -> Any:
    """`base` Settings switched to model mode against the loopback server, with short limits.

    Args:
        base: offline Settings (e.g. the `seeded_settings` fixture).
        server: the loopback server; or give `url` (e.g. a closed port) instead.
        overrides: any other Settings field.
    """
    endpoint = url or (server.url if server is not None else None)
    if endpoint is None:
        raise ValueError("give a server or a url")
    update = {"openai_api_key": "test", "openai_base_url": endpoint.rstrip("/") + "/v1",
              "llm_model": "test-model", "llm_timeout_s": 2.0, "llm_max_retries": 2}
    update.update(overrides)
    return base.model_copy(update=update)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.llm_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--behaviour", default="answer", choices=BEHAVIOURS)
    parser.add_argument("--ready-file", type=Path, help="write the URL here once listening")
    args = parser.parse_args(argv)
    server = LLMServer(args.port, args.behaviour).start()
    print(f"llm server on {server.url}/v1 ({server.behaviour})", flush=True)
    if args.ready_file:
        args.ready_file.write_text(server.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
