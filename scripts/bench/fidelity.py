"""Share of `rawtools sniff -n` first lines identical to `tcpdump -n`'s, per protocol.

    python scripts/bench/fidelity.py [CAPTURE_OR_DIR ...] [--top 25] [--diff N] [--count N]

For each capture both programs read the whole file; the first line of every
packet is compared as a string (timestamps included, both in UTC), packets
aligned by tcpdump's `--number`, tcpdump's continuation lines ignored. Each
packet is classed by tcpdump's line (see `rawtools.testing.fidelity.classify`:
the word after the timestamp for non-IP, the first word after the addresses
for IP, with TCP as `tcp` or `tcp/APP`, DNS as `dns` and plain UDP as `udp`).

Default sets, each with its own table: tests/corpus (tcpdump's 406 test
captures) and the generated mixed capture of sniff_offline.py (genpcap.py,
`--count` packets, made once and cached). Figures are printed, never
asserted; `--diff N` also prints N differing lines per file, for work on
the printers.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sniff_offline import ensure_pcap

from rawtools.testing.fidelity import Tally, captures, compare, differences, table

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2  # the machines are 2 shared cores
WIDTH = 240  # of a differing line shown (tcpdump's telnet lines run to 200 kB)


def measure(name: str, files: list[str], top: int | None, diff: int, verbose: int) -> None:
    tally = Tally()
    with ThreadPoolExecutor(WORKERS) as pool:
        for t in pool.map(lambda f: compare(f, verbose), files):
            tally.add(t)
    print(f"\n== {name}: {len(files)} file(s), {sum(tally.total.values())} packets\n")
    print(table(tally, top))
    for m in tally.misaligned:
        print(f"  packet counts differ: {m}")
    if diff:
        for f in files:
            for kind, peer, mine in differences(f, diff, verbose):
                print(f"\n[{kind}] {Path(f).name}\n  tcpdump : {peer[:WIDTH]}"
                      f"\n  rawtools: {mine[:WIDTH]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help="captures or directories (default: both sets)")
    parser.add_argument("--top", type=int, default=30, help="protocol rows to show")
    parser.add_argument("--diff", type=int, default=0, help="differing lines to print per file")
    parser.add_argument("--count", type=int, default=1_000_000,
                        help="packets in the generated mixed capture")
    parser.add_argument("-v", dest="verbose", action="count", default=0,
                        help="compare -v (-vv, ...) output, both programs given as many")
    args = parser.parse_args()
    if args.paths:
        measure("captures", captures(args.paths), args.top, args.diff, args.verbose)
        return 0
    measure("tcpdump test corpus", captures([str(ROOT / "tests" / "corpus")]), args.top,
            args.diff, args.verbose)
    measure("generated mixed capture", [ensure_pcap(None, args.count)], args.top, args.diff,
            args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
