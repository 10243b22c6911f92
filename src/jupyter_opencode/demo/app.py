"""Tornado app of the fake OpenAI-compatible model server."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import signal
import socket
import time
from collections.abc import Sequence
from typing import Any

from tornado import httpserver, web
from tornado.iostream import StreamClosedError

from .scripts import Reply, plan_reply

MODEL_ID = "echo-1"
# Flush long streams in batches: one write per delta would make the fake the bottleneck.
_FLUSH_EVERY = 64


class _JSONHandler(web.RequestHandler):
    """Base handler that answers JSON of any shape."""

    def send_json(self, payload: Any, status: int = 200) -> None:
        """Write ``payload`` as a JSON response."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))


class ModelsHandler(_JSONHandler):
    """``GET /v1/models``: the single fake model."""

    def get(self) -> None:
        """List the model."""
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "jupyter-opencode"}
        self.send_json({"object": "list", "data": [model]})


class RequestsHandler(_JSONHandler):
    """``GET|DELETE /_requests``: the chat completion bodies received so far."""

    def get(self) -> None:
        """Return every recorded request body, oldest first."""
        self.send_json(list(self.settings["recorded"]))

    def delete(self) -> None:
        """Forget the recorded request bodies."""
        self.settings["recorded"].clear()
        self.set_status(204)
        self.finish()


class ChatCompletionsHandler(_JSONHandler):
    """``POST /v1/chat/completions``: a scripted reply, streamed or whole."""

    async def post(self) -> None:
        """Answer one completion request."""
        try:
            body = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as e:
            raise web.HTTPError(400, "request body is not JSON") from e
        self.settings["recorded"].append(body)
        reply = plan_reply(body.get("messages") or [])
        if reply.error is not None:
            if reply.status >= 500:
                # Ask for fast retries: opencode honours retry-after-ms, so a failing model
                # is retried (and reported) within a second instead of a minute.
                self.set_header("retry-after-ms", "100")
            self.send_json(reply.error, reply.status)
        elif body.get("stream"):
            await self._stream(reply, _usage(body, reply))
        else:
            self.send_json(_completion(reply, _usage(body, reply)))

    async def _stream(self, reply: Reply, usage: dict[str, int]) -> None:
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        base = {
            "id": f"chatcmpl-fake-{id(reply)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": MODEL_ID,
        }
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"reasoning_content": chunk} for chunk in reply.reasoning]
        deltas += [{"content": chunk} for chunk in reply.text]
        if reply.tool_call is not None:
            deltas.append({"tool_calls": [{"index": 0, **reply.tool_call}]})
        try:
            for index, delta in enumerate(deltas):
                choice = {"index": 0, "delta": delta, "finish_reason": None}
                self.write(f"data: {json.dumps({**base, 'choices': [choice]})}\n\n")
                delay = reply.delay or self.settings["pace"]
                if delay and index > 0:
                    await self.flush()
                    await asyncio.sleep(delay)
                elif index % _FLUSH_EVERY == 0:
                    await self.flush()
            if reply.stall:
                await self.flush()
                await asyncio.sleep(reply.stall)
                self.detach().close()  # dies: no finish, no [DONE], no last chunk
                return
            finish = "tool_calls" if reply.tool_call is not None else "stop"
            last = {"index": 0, "delta": {}, "finish_reason": finish}
            self.write(f"data: {json.dumps({**base, 'choices': [last], 'usage': usage})}\n\n")
            self.write("data: [DONE]\n\n")
            await self.flush()
            self.finish()
        except StreamClosedError:
            return  # the client hung up mid-stream (an abort): nothing left to send


def _completion(reply: Reply, usage: dict[str, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.text)}
    if reply.reasoning:
        message["reasoning_content"] = "".join(reply.reasoning)
    if reply.tool_call is not None:
        message["tool_calls"] = [reply.tool_call]
    finish = "tool_calls" if reply.tool_call is not None else "stop"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    prompt = len(json.dumps(body.get("messages") or [])) // 4
    completion = len(reply.text) + len(reply.reasoning) + (1 if reply.tool_call else 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def make_app(*, pace: float = 0.0, keep: int | None = None) -> web.Application:
    """The fake model's tornado application.

    ``pace`` spaces out the chunks of replies that have no delay of their own (the demo reads
    like a live answer); ``keep`` bounds how many request bodies are recorded.
    """
    return web.Application(
        [
            (r"/v1/models", ModelsHandler),
            (r"/v1/chat/completions", ChatCompletionsHandler),
            (r"/_requests", RequestsHandler),
        ],
        recorded=collections.deque(maxlen=keep),
        pace=pace,
        log_function=lambda handler: None,
    )


async def serve_async(port: int = 0, host: str = "127.0.0.1") -> None:
    """Serve until SIGTERM or SIGINT, printing the listening URL first."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    server = httpserver.HTTPServer(make_app())
    server.add_sockets([sock])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"fake model listening on http://{host}:{sock.getsockname()[1]}", flush=True)
    await stop.wait()
    server.stop()


def serve(port: int = 0, host: str = "127.0.0.1") -> None:
    """Run the fake model server in this process until SIGTERM or SIGINT."""
    asyncio.run(serve_async(port, host))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: ``python -m jupyter_opencode.testing --port N``."""
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_opencode.testing",
        description="Offline OpenAI-compatible model with scripted replies.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args(argv)
    serve(args.port, args.host)
    return 0
