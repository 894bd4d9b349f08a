"""Microsoft Network Load Balancing heartbeats (EtherType 0x886F): priority and addresses.

The protocol is undocumented; tcpdump reads a host priority (little-endian,
after eight bytes it skips), the cluster's address and the host's, and
prints each as soon as it has read it, so a frame cut short keeps what came
before the cut.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.reader import ip4

ETHERTYPE = 0x886F
NAME = "MS NLB heartbeat"
_PRIO_AT, _CLUSTER_AT, _HOST_AT = 8, 12, 16
_TRUNCATED = " [|msnlb]"


def msnlb(p: bytes, length: int) -> tuple[str, bool]:
    """`MS NLB heartbeat, host priority: 2, cluster IP: ..., host IP: ...`."""
    if len(p) < _CLUSTER_AT:
        return NAME + _TRUNCATED, False
    text = f"{NAME}, host priority: {int.from_bytes(p[_PRIO_AT:_CLUSTER_AT], 'little')}"
    for label, at in ((", cluster IP: ", _CLUSTER_AT), (", host IP: ", _HOST_AT)):
        if len(p) < at + 4:
            return text + _TRUNCATED, False
        text += label + ip4(p, at)
    return text, True
