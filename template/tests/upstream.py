"""A real HTTP server on 127.0.0.1 standing in for an external service, scripted by the test.

Each request takes the next action from `script` (the last one repeats):
`200`, `503`... answer that status (with `body`); `(429, "1")` adds `Retry-After: 1`;
`"stall"` never answers (the client's read timeout fires); `"close"` drops the connection.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

Action = int | tuple[int, str] | str


@dataclass
class Upstream:
    script: list[Action] = field(default_factory=lambda: [200])
    body: object = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    connections: set["asyncio.Task[None]"] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def next_action(self) -> Action:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ", 1)[0]
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                }
                if length := int(headers.get("content-length", "0")):
                    await reader.readexactly(length)
                self.requests.append((method, headers))
                action = self.next_action()
                if action == "stall":
                    await asyncio.sleep(3600)
                if action == "close":
                    return
                status, retry_after = action if isinstance(action, tuple) else (action, None)
                payload = json.dumps(self.body).encode()
                extra = f"Retry-After: {retry_after}\r\n" if retry_after else ""
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def upstream_server(*script: Action, body: object = ()) -> AsyncIterator[Upstream]:
    upstream = Upstream(script=list(script) or [200], body=list(body) if body == () else body)
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.port = server.sockets[0].getsockname()[1]
    try:
        yield upstream
    finally:
        server.close()
        for connection in upstream.connections:  # stalled handlers would wait forever
            connection.cancel()
        await asyncio.gather(*upstream.connections, return_exceptions=True)
        await server.wait_closed()
