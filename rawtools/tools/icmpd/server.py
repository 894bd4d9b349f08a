"""icmpd's Unix-domain stream server: clients, their descriptors, their queued errors.

Each connection is read without blocking into a buffer and cut into
messages (`rawtools.wire.icmpdmsg`). A descriptor passed with SCM_RIGHTS
belongs to the message holding the last byte the read returned: the kernel
hands over a sendmsg()'s descriptors with its data and never reads past a
message that carried some, so a REGISTER sent in one sendmsg() always gets
its own socket, whatever came before it on the stream.

Every descriptor received is owned here from the moment recvmsg returns:
it becomes a registration, or it is closed on the spot (refused, protocol
error, client gone). The daemon keeps its copy of a registered socket until
UNREGISTER or disconnect: holding it keeps the client's port bound, so no
other process can take the port over (and its errors) behind the client's
back after the client closed its own copy.

Output is a bounded queue of whole messages per client. An error for a
client whose queue is full is dropped and counted, and the next one that
fits says how many were lost; a client that stops reading costs the daemon
1024 messages and never delays another client. While a client's queue is
full its requests are not read either, so it cannot grow the queue with
replies. Writes are tried as soon as a batch of packets is matched, not on
the next turn of the loop, and take many messages in one sendmsg().
"""

from __future__ import annotations

import array
import contextlib
import errno
import itertools
import selectors
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterable

from rawtools.tools.icmpd.engine import IcmpdEngine, Registration
from rawtools.tools.icmpd.events import Delivered, IcmpdEvent
from rawtools.tools.icmpd.report import (
    Connected,
    Counts,
    Disconnected,
    Event,
    Notice,
    Refused,
    Registered,
    Unregistered,
)
from rawtools.wire import icmpdmsg as msg

MAX_QUEUE = 1024
"""Messages queued for one client before errors for it are dropped."""
RECV_SIZE = 65536
MAX_FDS = 4
"""Room for this many descriptors per read: enough to see (and refuse) a message with
several; more are discarded by the kernel and reported as MSG_CTRUNC."""
IOV_MAX = 1024
ACCEPT_BURST = 64
"""Connections accepted per wake-up, so a connect storm does not starve the raw sockets."""
_ANCSIZE = socket.CMSG_SPACE(MAX_FDS * 4)
_PEERCRED = struct.Struct("3i")
_WILDCARD = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}
_SEND_FLAGS = socket.MSG_NOSIGNAL  # a vanished client is an EPIPE, not a SIGPIPE


class Client:
    """One connection: its input buffer, descriptors awaiting their message, its output."""

    __slots__ = ("closed", "dropped", "events", "fds", "id", "inbuf", "out", "regs", "sock")

    def __init__(self, cid: int, sock: socket.socket) -> None:
        self.id = cid
        self.sock = sock
        self.inbuf = bytearray()
        self.fds: list[int] = []
        self.out: deque[bytes | memoryview] = deque()
        self.dropped = 0
        self.regs: dict[int, tuple[int, socket.socket]] = {}
        self.events = selectors.EVENT_READ
        self.closed = False


class Refusal(Exception):
    """A REGISTER answered with an errno: the reason is the message's text."""

    def __init__(self, err: int, reason: str) -> None:
        super().__init__(reason)
        self.errno = err


def _close_fds(fds: Iterable[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            socket.close(fd)


def _received_fds(anc: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            arr = array.array("i")
            arr.frombytes(data[:len(data) - len(data) % arr.itemsize])
            fds.extend(arr)
    return fds


def adopt(fd: int) -> tuple[socket.socket, int, str, int, bool]:
    """(socket, IP version, address, port, dual) of a passed UDP socket, or Refusal.

    The descriptor is closed on refusal. An unbound socket is bound to an
    ephemeral port on the wildcard address, as its first sendto() would do,
    so that the port is known (and reported back) before anything is sent.
    """
    try:
        s = socket.socket(fileno=fd)
    except OSError as e:
        _close_fds([fd])
        raise Refusal(e.errno or errno.ENOTSOCK, "not a socket") from None
    try:
        if s.family not in _WILDCARD:
            raise Refusal(errno.EAFNOSUPPORT, "not an IPv4 or IPv6 socket")
        kind = s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
        proto = s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL)
        if kind != socket.SOCK_DGRAM or proto != socket.IPPROTO_UDP:
            raise Refusal(errno.EPROTOTYPE, "not a UDP socket")
        name = s.getsockname()
        if name[1] == 0:
            s.bind((_WILDCARD[s.family], 0))
            name = s.getsockname()
        dual = False
        if s.family == socket.AF_INET6:
            dual = not s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
        version = 6 if s.family == socket.AF_INET6 else 4
        return s, version, str(name[0]).split("%")[0], int(name[1]), dual
    except Refusal:
        s.close()
        raise
    except OSError as e:
        s.close()
        raise Refusal(e.errno or errno.EINVAL, e.strerror or "cannot use this socket") from None


class Server:
    """The listener and every client, registered in the session's selector.

    `log` receives the daemon's events; deliveries, unmatched and malformed
    packets only when `verbose` (they are per packet).
    """

    def __init__(self, listener: socket.socket, selector: selectors.BaseSelector,
                 engine: IcmpdEngine, log: Callable[[Event], None], counts: Counts,
                 verbose: bool = False) -> None:
        self.listener = listener
        self.selector = selector
        self.engine = engine
        self.log = log
        self.counts = counts
        self.verbose = verbose
        self.clients: dict[int, Client] = {}
        self._client_ids = itertools.count(1)
        self._reg_ids = itertools.count(1)
        self._accepting = True
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, self._accept)

    # -- connections -------------------------------------------------------
    def _accept(self, _mask: int) -> None:
        for _ in range(ACCEPT_BURST):
            try:
                conn, _addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # The listener would stay readable and spin the loop: listen again
                    # once a client leaves and gives descriptors back.
                    self.selector.unregister(self.listener)
                    self._accepting = False
                    self.log(Notice(f"accept: {e.strerror}; not accepting until a client "
                                    "leaves"))
                    return
                continue  # ECONNABORTED and the like concern that connection only
            conn.setblocking(False)
            pid, uid, gid = _PEERCRED.unpack(
                conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
            c = Client(next(self._client_ids), conn)
            self.clients[c.id] = c
            self.counts.clients += 1
            self.selector.register(conn, selectors.EVENT_READ,
                                   lambda mask, c=c: self._ready(c, mask))
            self.log(Connected(c.id, pid, uid, gid))

    def _ready(self, c: Client, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush(c)
        if mask & selectors.EVENT_READ and not c.closed:
            self._read(c)

    def drop(self, c: Client, reason: str, *, protocol_error: bool = False) -> None:
        """Forget a client: its registrations, every descriptor it passed, its connection."""
        if c.closed:
            return
        c.closed = True
        self.selector.unregister(c.sock)
        for reg, s in c.regs.values():
            self.engine.unregister(reg)
            s.close()
        _close_fds(c.fds)
        c.fds = []
        c.sock.close()
        del self.clients[c.id]
        self.log(Disconnected(c.id, reason, len(c.regs), len(c.out), protocol_error))
        if not self._accepting:
            self._accepting = True
            self.selector.register(self.listener, selectors.EVENT_READ, self._accept)

    def close(self) -> None:
        for c in list(self.clients.values()):
            self.drop(c, "daemon stopping")

    # -- reading -----------------------------------------------------------
    def _read(self, c: Client) -> None:
        try:
            data, anc, flags, _addr = c.sock.recvmsg(RECV_SIZE, _ANCSIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.drop(c, f"read: {e.strerror}")
            return
        fds = _received_fds(anc)
        if flags & socket.MSG_CTRUNC:
            self._violation(c, fds, f"more than {MAX_FDS} descriptors on one message")
            return
        if not data:
            _close_fds(fds)
            self.drop(c, "closed by the client" + (" mid-message" if c.inbuf else ""))
            return
        buf = c.inbuf
        buf += data
        pending, fds = c.fds, fds
        c.fds = []
        pos = 0
        while len(buf) - pos >= msg.HEADER.size:
            try:
                kind, length = msg.parse_header(bytes(buf[pos:pos + msg.HEADER.size]))
            except msg.ProtocolError as e:
                self._violation(c, pending + fds, str(e))
                return
            end = pos + msg.HEADER.size + length
            if end > len(buf):
                break
            mine, pending = pending, []
            if end == len(buf):
                mine, fds = mine + fds, []
            body = bytes(buf[pos + msg.HEADER.size:end])
            pos = end
            if not self._message(c, kind, body, mine):
                _close_fds(pending + fds)
                return
        del buf[:pos]
        c.fds = pending + fds
        self._flush(c)

    def _message(self, c: Client, kind: int, body: bytes, fds: list[int]) -> bool:
        """Act on one message; False once the client was dropped for it."""
        if kind not in (msg.REGISTER, msg.UNREGISTER):
            self._violation(c, fds, f"message type {kind} is not sent to the daemon")
            return False
        if kind != msg.REGISTER and fds:
            self._violation(c, fds, "descriptors attached to a message other than REGISTER")
            return False
        if len(fds) > 1:
            self._violation(c, fds, f"REGISTER with {len(fds)} descriptors (one is needed)")
            return False
        try:
            tag = msg.unpack_tag(body)
        except msg.ProtocolError as e:
            self._violation(c, fds, str(e))
            return False
        if kind == msg.UNREGISTER:
            self._unregister(c, tag)
        else:
            self._register(c, tag, fds[0] if fds else None)
        return True

    def _violation(self, c: Client, fds: list[int], reason: str) -> None:
        """BYE with the reason, best effort, and the client is dropped."""
        _close_fds(fds)
        self.counts.protocol_errors += 1
        c.out.append(msg.bye(errno.EPROTO, reason))
        self._write(c)
        self.drop(c, f"protocol error: {reason}", protocol_error=True)

    # -- registrations -----------------------------------------------------
    def _register(self, c: Client, tag: int, fd: int | None) -> None:
        try:
            if fd is None:
                raise Refusal(errno.EBADF, "no descriptor attached to REGISTER")
            if tag in c.regs:
                _close_fds([fd])
                raise Refusal(errno.EEXIST, f"tag {tag} is already registered on this "
                                            "connection")
            s, version, addr, port, dual = adopt(fd)
        except Refusal as r:
            self.counts.refused += 1
            c.out.append(msg.registered(tag, r.errno, reason=str(r)))
            self.log(Refused(c.id, tag, r.errno, str(r)))
            return
        reg = next(self._reg_ids)
        c.regs[tag] = (reg, s)
        self.engine.register(Registration(reg, c.id, tag, version, addr, port, dual))
        self.counts.registrations += 1
        c.out.append(msg.registered(tag, 0, version, addr, port))
        self.log(Registered(c.id, tag, reg, version, addr, port, dual))

    def _unregister(self, c: Client, tag: int) -> None:
        found = c.regs.pop(tag, None)
        if found is not None:
            reg, s = found
            self.engine.unregister(reg)
            s.close()
        c.out.append(msg.unregistered(tag, 0 if found else errno.ENOENT))
        self.log(Unregistered(c.id, tag, found is not None))

    # -- delivering --------------------------------------------------------
    def deliver(self, events: list[IcmpdEvent]) -> None:
        """Queue each delivered error on its client's connection, then write them all."""
        touched: dict[int, Client] = {}
        clients = self.clients
        for ev in events:
            if type(ev) is Delivered:
                c = clients.get(ev.client)
                if c is None:
                    continue
                if len(c.out) >= MAX_QUEUE:
                    c.dropped += 1
                    self.counts.dropped += 1
                    continue
                c.out.append(msg.error(ev.error, c.dropped))
                c.dropped = 0
                touched[c.id] = c
            if self.verbose:
                self.log(ev)
        for c in touched.values():
            self._flush(c)

    def _write(self, c: Client) -> bool:
        """Send what the socket takes now; False if the client is gone."""
        out = c.out
        while out:
            try:
                n = c.sock.sendmsg(list(itertools.islice(out, IOV_MAX)), (), _SEND_FLAGS)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError as e:
                out.clear()
                self.drop(c, f"write: {e.strerror}")
                return False
            while n:
                head = out[0]
                if n >= len(head):
                    n -= len(head)
                    out.popleft()
                else:
                    out[0] = memoryview(head)[n:]
                    n = 0
        return True

    def _flush(self, c: Client) -> None:
        """Write, then watch for writability while output remains, reads while room does."""
        if c.closed or not self._write(c):
            return
        want = (selectors.EVENT_READ if len(c.out) < MAX_QUEUE else 0) | (
            selectors.EVENT_WRITE if c.out else 0)
        if want != c.events:
            c.events = want
            self.selector.modify(c.sock, want, self.selector.get_key(c.sock).data)
