"""Learning the ICMP errors your UDP datagrams caused: from icmpd, or from the kernel.

An unconnected UDP socket never hears that its datagram drew a port
unreachable: the kernel reports asynchronous errors only to connected
sockets (UNP 8.9). Two ways around that, with the same result type
(`IcmpError`) so an application can switch between them:

`Client` / `AsyncClient` talk to the daemon (`sudo rawtools icmpd`, UNP's
icmpd, section 28.7): the application passes it a descriptor of its UDP
socket once, and gets an ERROR message for every ICMP error quoting a
datagram of that socket. Better when you want what only the whole ICMP
packet shows: whether a middlebox rewrote the quoted datagram (the quote's
source, UDP length and checksum are checked); one place that logs every
error of every application; and a way that works for any program able to
pass a descriptor over a Unix socket, in any language, without touching
that program's socket options or its read loop.

`ErrQueue` asks the kernel itself (IP_RECVERR / IPV6_RECVERR and the
socket's error queue, what tracepath uses): no daemon, no root, nothing
shared with other users, one socket at a time, and a little less latency
(no hop through another process). It changes the caller's socket, though:
see its docstring.

`import rawtools.icmpd` stays cheap (no dpkt, no libpcap, and asyncio only
once `AsyncClient` is asked for): a client only moves small fixed-layout
messages.
"""

from __future__ import annotations

import itertools
import os
import select
import socket
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rawtools.errors import IcmpdError, UsageError
from rawtools.io.errqueue import ErrQueue, require_udp
from rawtools.wire import icmpdmsg as msg
from rawtools.wire.icmpdmsg import DEFAULT_SOCKET, IcmpError, Registered

if TYPE_CHECKING:
    from rawtools.icmpdaio import AsyncClient

__all__ = ["DEFAULT_SOCKET", "AsyncClient", "Client", "Closed", "ErrQueue", "IcmpError",
           "IcmpdError", "Refused", "Registered", "Unavailable"]

_RECV = 65536
_TAGS = 1 << 32


class Unavailable(IcmpdError):
    """Nothing to talk to: no daemon on that path, or no permission to reach it."""


class Refused(IcmpdError):
    """The daemon would not take the socket (or forget it); `status` is its errno."""

    def __init__(self, text: str, status: int, reason: str) -> None:
        super().__init__(text)
        self.status = status
        self.reason = reason


class Closed(IcmpdError):
    """The daemon said BYE (`status`, `reason`), or the connection ended without one."""

    def __init__(self, text: str, status: int = 0, reason: str = "") -> None:
        super().__init__(text)
        self.status = status
        self.reason = reason


def unavailable(path: str, e: OSError) -> Unavailable:
    if isinstance(e, FileNotFoundError | ConnectionRefusedError):
        return Unavailable(f"no icmpd answers on {path}: start it with sudo rawtools icmpd")
    if isinstance(e, PermissionError):
        return Unavailable(f"{path}: permission denied (icmpd's socket is for root and the "
                           "users it allows)")
    return Unavailable(f"{path}: {e.strerror or e}")


class Session:
    """The client's side of the protocol without I/O: bytes in, errors and answers out.

    Both clients feed it whatever their socket gave, so a message split
    across reads, or many in one read, is reassembled in one place.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.errors: deque[IcmpError] = deque()
        self.registered: dict[int, Registered] = {}
        self.unregistered: dict[int, int] = {}
        self.closed: Closed | None = None
        self._tags = itertools.count(1)
        self.in_use: set[int] = set()

    def tag(self, tag: int | None) -> int:
        """`tag` checked, or the next free one of the counter."""
        if tag is None:
            tag = next(t % _TAGS for t in self._tags if t % _TAGS not in self.in_use)
        elif isinstance(tag, bool) or not isinstance(tag, int) or not 0 <= tag < _TAGS:
            raise UsageError(f"invalid tag: {tag!r} (0..{_TAGS - 1})")
        return tag

    def feed(self, data: bytes) -> None:
        """Take bytes from the daemon; b"" is the end of the connection."""
        if not data:
            self.closed = self.closed or Closed("icmpd closed the connection")
            return
        self._buf += data
        while len(self._buf) >= msg.HEADER.size and self.closed is None:
            try:
                kind, length = msg.parse_header(bytes(self._buf[:msg.HEADER.size]))
            except msg.ProtocolError as e:
                self.closed = Closed(f"icmpd sent garbage: {e}")
                return
            end = msg.HEADER.size + length
            if len(self._buf) < end:
                return
            body = bytes(self._buf[msg.HEADER.size:end])
            del self._buf[:end]
            try:
                self._message(kind, body)
            except msg.ProtocolError as e:
                self.closed = Closed(f"icmpd sent garbage: {e}")

    def _message(self, kind: int, body: bytes) -> None:
        if kind == msg.ERROR:
            self.errors.append(msg.unpack_error(body))
        elif kind == msg.REGISTERED:
            reg = msg.unpack_registered(body)
            self.registered[reg.tag] = reg
        elif kind == msg.UNREGISTERED:
            tag, status = msg.unpack_unregistered(body)
            self.unregistered[tag] = status
        elif kind == msg.BYE:
            status, reason = msg.unpack_bye(body)
            self.closed = Closed(f"icmpd said goodbye: {reason or os.strerror(status)}",
                                 status, reason)
        else:
            raise msg.ProtocolError(f"message type {kind} goes to the daemon, not from it")

    def drain(self, sock: socket.socket) -> None:
        """Feed everything the non-blocking `sock` holds now; a failed read ends the session."""
        while self.closed is None:
            try:
                data = sock.recv(_RECV)
            except BlockingIOError:
                return
            except OSError as e:
                self.closed = Closed(f"icmpd: {e.strerror or e}")
                return
            self.feed(data)

    def raise_if_closed(self) -> None:
        if self.closed is not None:
            raise self.closed

    def take_registered(self, tag: int) -> Registered:
        reg = self.registered.pop(tag)
        if reg.status:
            text = reg.reason or os.strerror(reg.status)
            raise Refused(f"icmpd refused the socket: {text}", reg.status, reg.reason)
        self.in_use.add(tag)
        return reg

    def take_unregistered(self, tag: int) -> None:
        status = self.unregistered.pop(tag)
        self.in_use.discard(tag)
        if status:
            raise Refused(f"icmpd: tag {tag}: {os.strerror(status)}", status, "")

    def pop_errors(self) -> list[IcmpError]:
        """Every error received so far; once none is left, the reason the connection ended."""
        if not self.errors:
            self.raise_if_closed()
        out = list(self.errors)
        self.errors.clear()
        return out


def _send_with_fd(sock: socket.socket, data: bytes, fd: int | None) -> None:
    """Send all of `data` on a non-blocking stream socket, `fd` attached to its first byte."""
    view = memoryview(data)
    while view:
        rights = fd.to_bytes(4, sys.byteorder, signed=True) if fd is not None else b""
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)] if fd is not None else []
        try:
            sent = sock.sendmsg([view], anc, socket.MSG_NOSIGNAL)
        except BlockingIOError:
            _wait_for(sock, select.POLLOUT, None)
            continue
        view, fd = view[sent:], None


class Client:
    """A blocking connection to icmpd, usable from a select/selectors loop via `fileno()`.

    The socket underneath is non-blocking: `read()` never waits, and
    `register`/`wait` wait with select for as long as they were told. Errors
    that arrive while `register` waits for its answer are kept for `read`.
    """

    def __init__(self, path: str = DEFAULT_SOCKET) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(path)
        except OSError as e:
            self._sock.close()
            raise unavailable(path, e) from None
        self._sock.setblocking(False)
        self._session = Session()

    def fileno(self) -> int:
        """Readable when the daemon sent something: call `read()` then."""
        return self._sock.fileno()

    def register(self, sock: socket.socket, tag: int | None = None,
                 timeout: float = 5.0) -> Registered:
        """Hand the daemon a descriptor of `sock`; errors for it will carry `tag`.

        Bind `sock` first (port 0 will do): the daemon matches errors by the
        socket's address and port. Raises `Refused` with the daemon's reason.
        """
        require_udp(sock)
        tag = self._session.tag(tag)
        self._send(msg.register(tag), sock.fileno())
        self._until(lambda: tag in self._session.registered, timeout, "REGISTER")
        return self._session.take_registered(tag)

    def unregister(self, tag: int, timeout: float = 5.0) -> None:
        """Have the daemon forget (and close its copy of) the socket named `tag`."""
        tag = self._session.tag(tag)
        self._send(msg.unregister(tag), None)
        self._until(lambda: tag in self._session.unregistered, timeout, "UNREGISTER")
        self._session.take_unregistered(tag)

    def read(self) -> list[IcmpError]:
        """Every error that has arrived, without waiting (maybe none).

        Raises `Closed` once the daemon said BYE or went away, after the
        errors it sent before that have been returned.
        """
        self._fill()
        return self._session.pop_errors()

    def wait(self, timeout: float | None = None) -> IcmpError | None:
        """The next error, waiting at most `timeout` seconds (None: for ever)."""
        if not self._session.errors:
            self._until(lambda: bool(self._session.errors), timeout, None)
        return self._session.errors.popleft() if self._session.errors else None

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, data: bytes, fd: int | None) -> None:
        try:
            _send_with_fd(self._sock, data, fd)
        except OSError as e:
            self._fill()
            self._session.raise_if_closed()
            raise Closed(f"icmpd: {e.strerror or e}") from None

    def _fill(self) -> None:
        """Read whatever the socket holds now into the session."""
        self._session.drain(self._sock)

    def _until(self, done: Callable[[], bool], timeout: float | None, what: str | None) -> None:
        """Read until `done()`; on timeout raise for `what`, or return quietly if None."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._fill()
        while not done():
            self._session.raise_if_closed()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                if what is None:
                    return
                raise IcmpdError(f"icmpd did not answer {what} within {timeout:g} s")
            _wait_for(self._sock, select.POLLIN, left)
            self._fill()


def _wait_for(sock: socket.socket, event: int, timeout: float | None) -> None:
    """Wait for `event` on `sock`; poll, not select, because a client may hold
    descriptors above 1023 (a program with a thousand sockets) which select refuses."""
    p = select.poll()
    p.register(sock, event)
    p.poll(None if timeout is None else max(0, int(timeout * 1000) + 1))


def __getattr__(name: str) -> Any:
    """AsyncClient on first use: a blocking client should not pay for importing asyncio."""
    if name == "AsyncClient":
        from rawtools.icmpdaio import AsyncClient
        globals()[name] = AsyncClient
        return AsyncClient
    raise AttributeError(f"module 'rawtools.icmpd' has no attribute {name!r}")
