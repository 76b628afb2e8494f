"""A local Socket Mode endpoint (aiohttp websocket): Slack's side of `meetbot serve --socket-mode`.

The fake Web API's `apps.connections.open` hands out this server's URL; the test sends
envelopes as Slack would and reads the app's acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class SocketModeSlack:
    """Envelopes to send, acks received."""

    outbox: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    acks: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    connected: threading.Event = field(default_factory=threading.Event)

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        """Queue an envelope (`slash_commands`, `interactive`, `events_api`); its id."""
        envelope_id = uuid.uuid4().hex
        self.outbox.put(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        """Wait for the app's acknowledgement of `envelope_id`."""
        while True:
            answer = self.acks.get(timeout=timeout)
            if answer.get("envelope_id") == envelope_id:
                return answer


STATE = web.AppKey("state", SocketModeSlack)


async def _socket(request: web.Request) -> web.WebSocketResponse:
    state = request.app[STATE]
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
    state.connected.set()

    async def pump() -> None:
        while not ws.closed:
            try:
                envelope = state.outbox.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.02)
                continue
            await ws.send_str(json.dumps(envelope))

    sender = asyncio.create_task(pump())
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                state.acks.put(json.loads(message.data))
    finally:
        sender.cancel()
    return ws


@contextlib.contextmanager
def serve_socket_mode() -> Iterator[tuple[SocketModeSlack, str]]:
    """Run the endpoint on a free loopback port; yield its state and ws:// URL."""
    state = SocketModeSlack()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        app = web.Application()
        app[STATE] = state
        app.router.add_get("/link", _socket)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        holder["stop"] = asyncio.Event()
        holder["loop"] = asyncio.get_running_loop()
        ready.set()
        await holder["stop"].wait()
        await runner.cleanup()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the Socket Mode endpoint did not start")
    try:
        yield state, f"ws://127.0.0.1:{sock.getsockname()[1]}/link"
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(5)
