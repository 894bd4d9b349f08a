#!/usr/bin/env python3
"""The top talkers (bytes by source address) and the DNS names asked for, from a pcap.

    python3 scripts/examples/top_talkers.py capture.pcap [-n 10]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import rawtools
from rawtools.errors import RawtoolsError


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("pcap")
    p.add_argument("-n", type=int, default=10, help="how many of each to show")
    args = p.parse_args()
    talkers: Counter[str] = Counter()
    names: Counter[str] = Counter()
    try:
        for pkt in rawtools.sniff(file=args.pcap):
            f = pkt.fields
            if "src" in f:
                talkers[f["src"]] += f["len"]
            dns = f.get("dns")
            if dns and not dns.get("qr") and dns.get("qname"):
                names[dns["qname"]] += 1
    except RawtoolsError as e:
        print(f"top_talkers: {e}", file=sys.stderr)
        return 2
    print("bytes  source")
    for addr, n in talkers.most_common(args.n):
        print(f"{n:>6} {addr}")
    print("queries  name")
    for name, n in names.most_common(args.n):
        print(f"{n:>7}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
