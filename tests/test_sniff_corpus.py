"""tcpdump's own test captures (406 files, many hostile) against `rawtools sniff`.

Three promises are checked on the whole corpus: the real command never shows
a traceback (a file it cannot read is one line on stderr and exit 2); every
packet of every readable file decodes in every output mode; and on the files
that both rawtools and tshark find well formed, the addresses, ports and ICMP
type/code rawtools decodes are the ones tshark decodes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import CORPUS

from rawtools.errors import CaptureError
from rawtools.io.capture import Capture
from rawtools.testing.fidelity import tcpdump_first_lines
from rawtools.tools.sniff.decode import Decoder
from rawtools.wire import link

FILES = sorted(p for p in CORPUS.glob("*") if p.suffix in (".pcap", ".pcapng"))
WORKERS = max(2, 2 * (os.cpu_count() or 1))
TSHARK_FIELDS = ("ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport",
                 "tcp.srcport", "tcp.dstport", "icmp.type", "icmp.code", "icmpv6.type",
                 "icmpv6.code", "_ws.malformed", "_ws.expert.severity")


@pytest.fixture(scope="module")
def corpus() -> list[Path]:
    # Part of the repository: a missing corpus is a broken checkout, never a skip.
    assert len(FILES) == 406, f"expected tcpdump's 406 captures in {CORPUS}, found {len(FILES)}"
    return FILES


def _run_cli(path: Path) -> tuple[Path, int, str]:
    proc = subprocess.run([sys.executable, "-m", "rawtools", "sniff", "-r", str(path), "-n"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    return path, proc.returncode, proc.stderr


def test_the_real_command_reads_every_file_without_a_traceback(corpus):
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(_run_cli, corpus))
    problems = []
    for path, rc, err in results:
        lines = err.splitlines()
        if "Traceback" in err or rc not in (0, 2):
            problems.append(f"{path.name}: exit {rc}: {err[-300:]}")
        elif rc == 2 and not (len(lines) == 1 and lines[0].startswith("rawtools sniff: ")):
            problems.append(f"{path.name}: exit 2 needs one line on stderr, got {lines!r}")
    assert not problems, "\n".join(problems)
    assert sum(rc == 0 for _, rc, _ in results) > len(corpus) // 2


def _packets(path: Path) -> tuple[int, list[tuple[int, bytes, int]]] | None:
    """(linktype, packets) through the project's capture reader; None if unreadable."""
    try:
        with Capture.open_offline(str(path)) as cap:
            return cap.linktype, list(cap.packets())
    except CaptureError:
        return None


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")
def test_every_packet_decodes_in_every_output_mode(corpus):
    with ThreadPoolExecutor(WORKERS) as pool:
        theirs = dict(zip(corpus, pool.map(tcpdump_first_lines, map(str, corpus)), strict=True))
    modes = [dict(), dict(verbose=2, link_header=True, hexdump="X", ts_style="delta"),
             dict(verbose=1, hexdump="A", ts_style="epoch")]
    decoded = 0
    for path in corpus:
        got = _packets(path)
        if got is None:
            continue
        linktype, packets = got
        # As many packets as tcpdump reads from the same file, up to the same damage.
        assert len(packets) == len(theirs[path]), path.name
        for mode in modes:
            decoder = Decoder(linktype, **mode)
            for ts, data, orig in packets:
                assert isinstance(decoder.line(ts, data, orig), str), path.name
                json.dumps(decoder.record(ts, data, orig))
                decoded += 1
    assert decoded > 1000


@pytest.mark.parametrize("mode", [dict(), dict(ts_style="delta"), dict(ts_style="epoch"),
                                  dict(absolute_seq=True)], ids=["abs", "delta", "epoch", "absseq"])
def test_batch_fast_path_prints_what_the_per_packet_path_prints(corpus, mode):
    """`texts()` (the fast loop, on Ethernet files) and `line()` give the same text.

    Both read and move the same per-capture state (TCP sequence origins,
    the -ttt clock), so each side has its own decoder and sees every packet
    of the file in order; batches of 100 cross the loop's batch boundaries.
    """
    fast_files = 0
    for path in corpus:
        got = _packets(path)
        if got is None:
            continue
        linktype, packets = got
        batch, single = Decoder(linktype, **mode), Decoder(linktype, **mode)
        fast_files += linktype == link.LINKTYPE_ETHERNET
        texts = [t for i in range(0, len(packets), 100) for t in batch.texts(packets[i:i + 100])]
        lines = [single.line(*p) for p in packets]
        for n, (fast, slow) in enumerate(zip(texts, lines, strict=True), 1):
            assert fast == slow, f"{path.name} #{n}"
        assert batch.malformed == single.malformed, path.name
    assert fast_files > 200


def _tshark(path: Path) -> list[list[str]] | None:
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=f",
           "-E", "separator=\t"]
    for field in TSHARK_FIELDS:
        cmd += ["-e", field]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return None
    return [row.split("\t") for row in proc.stdout.split("\n")[:-1]]


def _well_formed(path: Path) -> tuple[Path, list[dict]] | None:
    """Our records for a file no packet of which rawtools marks as damaged."""
    got = _packets(path)
    if got is None or link.decapsulator(got[0]) is None or not got[1]:
        return None
    linktype, packets = got
    decoder = Decoder(linktype)
    records = [decoder.record(*p) for p in packets]
    return (path, records) if decoder.malformed == 0 else None


@pytest.mark.skipif(shutil.which("tshark") is None,
                    reason="tshark is not installed (Debian package: tshark)")
def test_fields_match_tshark_on_well_formed_files(corpus):
    chosen = [w for w in map(_well_formed, corpus) if w is not None]
    with ThreadPoolExecutor(WORKERS) as pool:
        theirs = list(pool.map(_tshark, [path for path, _ in chosen]))
    compared = {"addresses": 0, "ports": 0, "icmp": 0}
    mismatches = []
    for (path, records), rows in zip(chosen, theirs, strict=True):
        if rows is None or len(rows) != len(records):
            continue
        if any(row[12] or "3" in row[13].split(",") for row in rows):
            continue  # tshark calls something in this file malformed or an error
        for n, (rec, row) in enumerate(zip(records, rows, strict=True), 1):
            t = dict(zip(TSHARK_FIELDS, row, strict=True))
            checks = []
            if rec.get("version") == 4:
                checks.append(("addresses", (rec["src"], rec["dst"]), (t["ip.src"], t["ip.dst"])))
            elif rec.get("version") == 6:
                checks.append(("addresses", (rec["src"], rec["dst"]),
                               (t["ipv6.src"], t["ipv6.dst"])))
            proto = rec.get("transport")
            if proto in ("udp", "tcp") and "sport" in rec and t[f"{proto}.srcport"]:
                checks.append(("ports", (str(rec["sport"]), str(rec["dport"])),
                               (t[f"{proto}.srcport"], t[f"{proto}.dstport"])))
            icmp = {"icmp": "icmp", "icmp6": "icmpv6"}.get(proto)
            if icmp and "icmp_type" in rec and t[f"{icmp}.type"]:
                checks.append(("icmp", (str(rec["icmp_type"]), str(rec["icmp_code"])),
                               (t[f"{icmp}.type"], t[f"{icmp}.code"])))
            for what, ours, tshark in checks:
                compared[what] += 1
                if ours != tshark:
                    mismatches.append(f"{path.name} #{n} {what}: rawtools {ours} tshark {tshark}")
    assert not mismatches, "\n".join(mismatches[:50])
    assert compared["addresses"] > 500 and compared["ports"] > 200 and compared["icmp"] >= 5, \
        compared


# The Ethernet files whose TCP lines rawtools and tcpdump 4.99.3 print alike, up to
# the window (tcpdump goes on to decode options such as MPTCP's and the payload:
# OpenFlow, BGP...): together 754 TCP segments, most of them after the handshake.
TCP_FILES = ("mptcp-v0.pcap", "of10_s4810.pcap", "bgp-4byte-asn.pcap", "of10_p3295.pcap",
             "of10_7050sx_bsn.pcap", "of10_pf5240.pcap", "pptp.pcap", "zmtp1.pcap",
             "bgp-rt-prefix.pcap", "ldp-common-session.pcap", "dns_tcp_8053.pcap",
             "print-flags.pcap", "kday4.pcap", "mptcp-fclose.pcap", "accecn_handshake.pcap")
_TCP_LINE = re.compile(r"^(\S+ IP6? \S+ > \S+: Flags \[[^\]]*\](?:, seq \d+(?::\d+)?)?"
                       r"(?:, ack \d+)?, win \d+)")


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")
def test_fast_loop_tcp_lines_match_tcpdump(monkeypatch):
    """Every TCP line (flags, relative seq and ack, window) is tcpdump's, from the fast loop.

    Decoder.line is the per-packet path the fast loop falls back to; counting its
    calls shows that the TCP segments were the fast loop's own. The same files
    through the real command are compared too.
    """
    slow = []
    real_line = Decoder.line

    def counting_line(self, ts, data, orig):
        slow.append(data)
        return real_line(self, ts, data, orig)

    monkeypatch.setattr(Decoder, "line", counting_line)
    compared = fast = 0
    for name in TCP_FILES:
        path = CORPUS / name
        theirs = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True,
                                text=True, timeout=120).stdout.splitlines()
        theirs = [ln for ln in theirs if ln[:1].isdigit()]
        cli = subprocess.run([sys.executable, "-m", "rawtools", "sniff", "-n", "-r", str(path)],
                             capture_output=True, text=True, timeout=120).stdout.splitlines()
        got = _packets(path)
        assert got is not None and got[0] == link.LINKTYPE_ETHERNET
        decoder = Decoder(got[0])
        slow.clear()
        ours = [t for i in range(0, len(got[1]), 100) for t in decoder.texts(got[1][i:i + 100])]
        assert len(ours) == len(theirs) == len(cli), name
        n_tcp = n_slow = 0
        slow_ids = {id(d) for d in slow}
        for n, (mine, peer, run) in enumerate(zip(ours, theirs, cli, strict=True), 1):
            m = _TCP_LINE.match(peer)
            if m is None:
                continue
            n_tcp += 1
            n_slow += id(got[1][n - 1][1]) in slow_ids
            assert mine.startswith(m.group(1) + ","), f"{name} #{n}\n {mine}\n {peer}"
            assert run.startswith(m.group(1) + ","), f"{name} #{n} (cli)\n {run}\n {peer}"
        assert n_tcp, name
        compared += n_tcp
        fast += n_tcp - n_slow
    assert compared >= 750, compared
    assert fast >= 0.95 * compared, (fast, compared)  # the fast loop's own lines
