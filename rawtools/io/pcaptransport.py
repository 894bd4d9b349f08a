"""A transport that sends datagrams we built and reads the answers off a libpcap capture.

For tools whose question is about the bytes on the wire, such as the UDP
checksum a server sent: a socket would show only what the kernel accepted and
hide the headers, while a capture shows every byte as it arrived, refused
datagrams included. Sends go through an `IpSender` (our IP header), arrivals
come from a live libpcap handle whose BPF filter keeps only the answers, and
each captured frame is handed to the engine as the IP datagram it carries
(link header stripped, link-layer padding trimmed), the form a `--record`
file keeps and a replay feeds back.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence

from rawtools.engine import Received, Send
from rawtools.errors import CaptureError, InterfaceError, RawtoolsError
from rawtools.io.capture import Capture
from rawtools.io.ipsend import IpSender
from rawtools.io.loop import SelectorWait
from rawtools.wire.ip import parse_header
from rawtools.wire.link import ETHERTYPE_IP, ETHERTYPE_IPV6, decapsulator, describe


def hold_udp_port(dst: str, dport: int, local: tuple[str, int] | None = None,
                  ) -> tuple[socket.socket, str, int]:
    """A UDP socket connected to (dst, dport): (socket, our address, our port).

    Connecting lets the kernel pick the source address and port it would use
    itself (or keeps `local`, bound first); holding the socket open makes the
    kernel deliver the server's answer to it instead of answering with a
    port unreachable. Nothing is sent and nothing is read from it.
    """
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if local is not None:
            try:
                s.bind(local)
            except OSError as e:
                raise InterfaceError(f"bind {local[0]} port {local[1]}: {e.strerror}") from None
        try:
            s.connect((dst, dport))
        except OSError as e:
            raise RawtoolsError(f"connect {dst} port {dport}: {e.strerror}") from None
        src, sport = s.getsockname()[:2]
    except BaseException:
        s.close()
        raise
    return s, str(src).split("%")[0], int(sport)


class CaptureTransport(SelectorWait):
    """Sends through `sender`, receives what `capture` lets through its filter.

    `holds` are sockets that must stay open as long as the run (a bound UDP
    port that keeps the kernel from answering replies with port unreachable);
    they are closed with the transport.
    """

    def __init__(self, sender: IpSender, capture: Capture,
                 holds: Sequence[socket.socket] = ()) -> None:
        super().__init__()
        strip = decapsulator(capture.linktype)
        if strip is None:
            raise CaptureError(f"{capture.name}: link type {describe(capture.linktype)} is not "
                               "one rawtools decapsulates; choose another interface with -i")
        self._strip = strip
        self.sender = sender
        self.capture = capture
        self.holds = list(holds)
        self.add_reader(capture.fileno(), self._drain)

    def send(self, send: Send) -> tuple[int, bytes | None]:
        """`send.data` is a whole IP datagram; it leaves exactly as given."""
        ts = time.time_ns()
        self.sender.send(send.data)
        return ts, send.data

    def _drain(self) -> list[Received]:
        out: list[Received] = []
        for ts, frame, _wire_len in self.capture.read_batch():
            d = self._strip(frame)
            if d is None or d[0] not in (ETHERTYPE_IP, ETHERTYPE_IPV6):
                continue
            pkt = frame[d[1]:]
            h = parse_header(pkt)
            if h is not None and h.offset <= h.length < len(pkt):
                pkt = pkt[:h.length]
            # libpcap's stamp is the kernel's, taken as the frame arrived.
            out.append(Received(ts, pkt, "kernel"))
        return out

    def close(self) -> None:
        super().close()
        self.capture.close()
        self.sender.close()
        for s in self.holds:
            s.close()
