"""`rawtools.icmpd.AsyncClient`: icmpd for asyncio, imported only when asked for.

It shares the protocol state (`Session`) and the error words with the
blocking client; only the waiting differs: the running loop's reader
callback instead of select.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from rawtools.icmpd import Closed, Session, unavailable
from rawtools.io.errqueue import require_udp
from rawtools.wire import icmpdmsg as msg
from rawtools.wire.icmpdmsg import DEFAULT_SOCKET, IcmpError, Registered


class AsyncClient:
    """icmpd for asyncio: the running loop watches the socket, no threads.

    A reader callback drains the socket into the protocol state as data
    arrives and wakes every coroutine waiting on it, so `next_error` in one
    task and `register` in another share one connection. Bound waits with
    `asyncio.timeout()`.
    """

    def __init__(self, sock: socket.socket, path: str) -> None:
        self.path = path
        self._sock = sock
        self._session = Session()
        self._loop = asyncio.get_running_loop()
        self._waiters: list[asyncio.Future[None]] = []
        self._closed_by_us = False
        self._loop.add_reader(sock.fileno(), self._on_readable)

    @classmethod
    async def connect(cls, path: str = DEFAULT_SOCKET) -> AsyncClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, path)
        except OSError as e:
            sock.close()
            raise unavailable(path, e) from None
        return cls(sock, path)

    async def register(self, sock: socket.socket, tag: int | None = None) -> Registered:
        """As `Client.register`."""
        require_udp(sock)
        tag = self._session.tag(tag)
        await self._send(msg.register(tag), sock.fileno())
        await self._until(lambda: tag in self._session.registered)
        return self._session.take_registered(tag)

    async def unregister(self, tag: int) -> None:
        tag = self._session.tag(tag)
        await self._send(msg.unregister(tag), None)
        await self._until(lambda: tag in self._session.unregistered)
        self._session.take_unregistered(tag)

    async def next_error(self) -> IcmpError:
        """The next error; `Closed` when the daemon said BYE or went away."""
        await self._until(lambda: bool(self._session.errors))
        return self._session.errors.popleft()

    def __aiter__(self) -> AsyncClient:
        return self

    async def __anext__(self) -> IcmpError:
        if self._closed_by_us:
            raise StopAsyncIteration
        try:
            return await self.next_error()
        except Closed:
            if self._closed_by_us:
                raise StopAsyncIteration from None
            raise

    def close(self) -> None:
        """Close the connection; a pending `async for` ends, other waiters get `Closed`."""
        if self._closed_by_us:
            return
        self._closed_by_us = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._session.closed = self._session.closed or Closed("the client was closed")
        self._wake()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _on_readable(self) -> None:
        self._session.drain(self._sock)
        if self._session.closed is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._wake()

    def _wake(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def _until(self, done: Callable[[], bool]) -> None:
        while not done():
            self._session.raise_if_closed()
            fut = self._loop.create_future()
            self._waiters.append(fut)
            await fut

    async def _send(self, data: bytes, fd: int | None) -> None:
        """sendmsg straight on the non-blocking socket, waiting for writability if full."""
        view = memoryview(data)
        while view:
            self._session.raise_if_closed()
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    fd.to_bytes(4, "little", signed=True))] if fd is not None else []
            try:
                sent = self._sock.sendmsg([view], anc, socket.MSG_NOSIGNAL)
            except BlockingIOError:
                writable = self._loop.create_future()
                self._loop.add_writer(self._sock.fileno(), writable.set_result, None)
                try:
                    await writable
                finally:
                    self._loop.remove_writer(self._sock.fileno())
                continue
            except OSError as e:
                raise Closed(f"icmpd: {e.strerror or e}") from None
            view, fd = view[sent:], None
