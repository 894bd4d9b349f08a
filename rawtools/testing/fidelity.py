"""How many of `rawtools sniff`'s lines are tcpdump's, packet by packet, per protocol.

tcpdump (`tcpdump -n`) is the oracle: for each capture both programs print
the file, the first line of every packet is compared as a whole string
(timestamp included), and each packet is put in the class tcpdump's line
gives it (`classify`). The benchmark script `scripts/bench/fidelity.py`
prints the table; the corpus test keeps the share from falling.

Packets are aligned by tcpdump's own numbering (`--number`) and by the
rawtools decoder's one text per packet, so continuation lines (tcpdump's
start with white space, but not all: VXLAN's inner frame) never shift the
comparison; a file where the counts still differ has its surplus packets
counted as different.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence

from rawtools.errors import CaptureError
from rawtools.io.capture import Capture
from rawtools.tools.sniff.decode import Decoder
from rawtools.values import field, mutable

# tcpdump prints local time: UTC, as the decoder is told to print it.
_ENV = {**os.environ, "TZ": "UTC"}
# A DNS line's first word is the message id with its flags (`1234+`, `17*-`).
_DNS_ID = re.compile(r"^\d+[-+*%$|]*$")
# The payload's own word after TCP's `length N: ` (`HTTP`, `BGP`, `NBT`).
_TCP_APP = re.compile(r", length \d+: ([A-Za-z][\w.-]*)")
_TIMEOUT = 300


@mutable
class Tally:
    """Identical first lines and packets, per protocol class."""

    same: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    misaligned: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.same.update(other.same)
        self.total.update(other.total)
        self.misaligned += other.misaligned

    @property
    def share(self) -> float:
        n = sum(self.total.values())
        return sum(self.same.values()) / n if n else 1.0


def classify(line: str) -> str:
    """The protocol class of a tcpdump first line.

    The word after the timestamp names the link-layer payload (`ARP`,
    `STP`, `LLDP`, ...). For `IP`/`IP6` it is the first word after the
    addresses (`a.1 > b.2: WORD`), cut at its first `,`, `:` or `(`, with
    three renamings that keep the classes meaningful: TCP's `Flags` is
    `tcp` (or `tcp/APP` when tcpdump names the payload after `length N: `),
    a DNS message id is `dns`, and UDP's own line (`UDP, length N`) is `udp`.
    """
    words = line.split(" ", 2)
    if len(words) < 2:
        return "?"
    first = words[1].rstrip(",:")
    if first not in ("IP", "IP6") or len(words) < 3:
        return first or "?"
    _, sep, rest = words[2].partition(": ")
    if not sep:
        return first
    rest = rest.lstrip()
    word = rest[:1] + re.split(r"[,:(\s]", rest[1:], maxsplit=1)[0]
    if word == "Flags":
        app = _TCP_APP.search(rest)
        return f"tcp/{app.group(1)}" if app else "tcp"
    if _DNS_ID.match(word):
        return "dns"
    if word == "UDP":
        return "udp"
    return word or "?"


def tcpdump_first_lines(path: str, verbose: int = 0) -> list[str]:
    """The first line `tcpdump -n` (with `verbose` -v's) prints for each packet of `path`."""
    flags = ["-" + "v" * verbose] if verbose else []
    proc = subprocess.run(["tcpdump", "--number", "-n", *flags, "-r", path], capture_output=True,
                          text=True, errors="replace", env=_ENV, timeout=_TIMEOUT)
    first: list[str] = []
    for ln in proc.stdout.splitlines():
        num, sep, rest = ln.lstrip().partition("  ")
        if sep and num == str(len(first) + 1):
            first.append(rest)
    return first


def rawtools_first_lines(path: str, verbose: int = 0) -> list[str]:
    """The first line of each packet's text from `rawtools sniff -n -r`'s decoder.

    The decoder the command runs, its batch path included (`Decoder.texts`,
    in batches as the capture hands them out), called in this process so that
    each packet stays one item however many lines its text has (a VXLAN
    packet's inner frame goes on a line of its own, as tcpdump prints it).
    A file the capture reader refuses gives no lines.
    """
    try:
        with Capture.open_offline(path) as cap:
            decoder = Decoder(cap.linktype, time_zone_utc=True, verbose=verbose)
            return [t.split("\n", 1)[0] for batch in cap.batches() for t in decoder.texts(batch)]
    except CaptureError:
        return []


def compare(path: str, verbose: int = 0) -> Tally:
    """The tally of one capture, both printed with `verbose` -v's."""
    theirs, ours = tcpdump_first_lines(path, verbose), rawtools_first_lines(path, verbose)
    tally = Tally()
    if len(ours) != len(theirs):
        tally.misaligned.append(f"{path}: tcpdump {len(theirs)} packets, rawtools {len(ours)}")
    for n, peer in enumerate(theirs):
        kind = classify(peer)
        tally.total[kind] += 1
        tally.same[kind] += n < len(ours) and ours[n] == peer
    return tally


def differences(path: str, limit: int, verbose: int = 0) -> Iterable[tuple[str, str, str]]:
    """(class, tcpdump's line, rawtools' line) of up to `limit` packets that differ."""
    theirs, ours = tcpdump_first_lines(path, verbose), rawtools_first_lines(path, verbose)
    shown = 0
    for n, peer in enumerate(theirs):
        mine = ours[n] if n < len(ours) else ""
        if mine != peer and shown < limit:
            shown += 1
            yield classify(peer), peer, mine


def table(tally: Tally, top: int | None = None) -> str:
    """Per class: identical, total, share, lost; the classes that lose most first."""
    rows = sorted(tally.total, key=lambda k: (tally.same[k] - tally.total[k], k))
    if top is not None:
        rows = rows[:top]
    out = [f"{'protocol':<22}{'identical':>10}{'total':>9}{'share':>8}{'lost':>7}"]
    for k in rows:
        same, total = tally.same[k], tally.total[k]
        out.append(f"{k:<22}{same:>10}{total:>9}{same / total:>8.1%}{total - same:>7}")
    same, total = sum(tally.same.values()), sum(tally.total.values())
    out.append(f"{'TOTAL':<22}{same:>10}{total:>9}{tally.share:>8.1%}{total - same:>7}")
    return "\n".join(out)


def captures(paths: Sequence[str]) -> list[str]:
    """The pcap and pcapng files among `paths`, directories searched one level deep."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, n) for n in os.listdir(p)
                          if n.endswith((".pcap", ".pcapng")))
        else:
            out.append(p)
    return out
