"""TCP sequence and ack numbers relative to each connection's first, as tcpdump prints them."""

from __future__ import annotations

# Connections remembered before the table is emptied (a scan or a flood must
# not grow it without bound; tcpdump forgets too).
MAX_CONNECTIONS = 65536
_SYN = 0x02
_U32 = 0xFFFFFFFF

# Both addresses (as the IP header holds them) and ports, lower end first.
ConnKey = tuple[bytes, int, bytes, int]


class TcpSequences:
    """The origins of both directions of every connection seen in a capture.

    The first segment with ACK seen for a connection (or any SYN with ACK)
    sets both origins from its own seq and ack, and prints absolute numbers;
    later segments print their numbers minus the origins. Callers ask only
    for segments with ACK set, as tcpdump's relative numbering does.
    """

    def __init__(self) -> None:
        # key -> [origin of the lower end's numbers, origin of the higher end's]
        self._origins: dict[ConnKey, list[int]] = {}

    def relative(self, s: bytes, sport: int, t: bytes, dport: int, seq: int, ack: int,
                 flags: int) -> tuple[int, int, int]:
        """(seq, ack, origin of the peer's numbers) for a segment from s:sport to t:dport.

        The third is what SACK blocks, which carry the peer's numbers, are
        made relative to (0 while they print absolute).
        """
        rev = s > t or (s == t and sport > dport)
        key = (t, dport, s, sport) if rev else (s, sport, t, dport)
        origins = self._origins
        state = origins.get(key)
        if state is None or flags & _SYN:
            if len(origins) >= MAX_CONNECTIONS:
                origins.clear()
            origins[key] = [ack - 1, seq] if rev else [seq, ack - 1]
            return seq, ack, 0
        if rev:
            mine, theirs = state[1], state[0]
        else:
            mine, theirs = state
        return (seq - mine) & _U32, (ack - theirs) & _U32, theirs
