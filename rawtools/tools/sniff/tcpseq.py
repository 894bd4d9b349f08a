"""TCP sequence and ack numbers relative to each connection's first, as tcpdump prints them."""

from __future__ import annotations

from rawtools.tools.sniff.transport import TH_SYN

# Connections remembered before the table is emptied (a scan or a flood must
# not grow it without bound; tcpdump forgets too).
MAX_CONNECTIONS = 65536

# One direction of a connection: (source address, as the IP header holds it,
# source port, destination address, destination port).
Conn = tuple[bytes, int, bytes, int]


class TcpSequences:
    """The origins of both directions of every connection seen in a capture.

    The first segment with ACK seen for a connection (or any SYN with ACK)
    sets both origins from its own seq and ack, and prints absolute numbers;
    later segments print their numbers minus the origins. Callers ask only
    for segments with ACK set, as tcpdump's relative numbering does.

    Each connection is stored under both of its directions, so that a
    segment finds its own origins with one lookup of its own 4-tuple: this
    runs for nearly every TCP segment of a capture.
    """

    def __init__(self) -> None:
        # direction -> (origin of its sender's numbers, origin of its receiver's);
        # public for the fast loop, which reads it without a call per segment.
        self.origins: dict[Conn, tuple[int, int]] = {}
        self._connections = 0
        # Every origin set, as (conn, mine, theirs), while a list is put here: a
        # helper process sends them on, so that the parent's table is the whole
        # capture's (see `replay` and rawtools.tools.sniff.helper).
        self.journal: list[tuple[Conn, int, int]] | None = None

    def relative(self, conn: Conn, seq: int, ack: int, flags: int) -> tuple[int, int, int]:
        """(seq, ack, origin of the peer's numbers) for a segment sent along `conn`.

        The third is what SACK blocks, which carry the peer's numbers, are
        made relative to: on the segment that sets the origins too, whose own
        numbers print absolute (tcpdump's SACK edges there read one below
        the ack).
        """
        state = self.origins.get(conn)
        if state is None or flags & TH_SYN:
            self._start(conn, state is None, seq, ack - 1)
            return seq, ack, ack - 1
        mine, theirs = state
        return (seq - mine) & 0xFFFFFFFF, (ack - theirs) & 0xFFFFFFFF, theirs

    def replay(self, journal: list[tuple[Conn, int, int]]) -> None:
        """Set the origins another tracker set (its `journal`), as it set them.

        Its connections and this one's must be apart (the helper's split sees to
        it), and fewer than MAX_CONNECTIONS together: then this table becomes
        the one a single tracker would have after both segment streams.
        """
        origins = self.origins
        for conn, mine, theirs in journal:
            self._start(conn, conn not in origins, mine, theirs)

    def _start(self, conn: Conn, new: bool, mine: int, theirs: int) -> None:
        """Set a connection's origins from the segment sent along `conn`."""
        if self.journal is not None:
            self.journal.append((conn, mine, theirs))
        origins = self.origins
        if self._connections >= MAX_CONNECTIONS:
            origins.clear()
            self._connections = 0
            new = True
        self._connections += new
        s, sport, t, dport = conn
        origins[conn] = (mine, theirs)
        back = (t, dport, s, sport)
        if back != conn:  # not a connection with itself (one host, one port)
            origins[back] = (theirs, mine)


class TcpProbe(TcpSequences):
    """A tracker that only notes which connections were asked about, keeping no origins.

    A decoder built with it tells which TCP connections' state a packet would
    read or set, whatever wraps the segment (a tunnel, an IP option, a tag):
    the helper uses it to keep every segment of a connection in one process.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Conn] = []

    def relative(self, conn: Conn, seq: int, ack: int, flags: int) -> tuple[int, int, int]:
        self.asked.append(conn)
        return seq, ack, 0
