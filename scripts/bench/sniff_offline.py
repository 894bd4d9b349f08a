"""Offline decoding speed of `rawtools sniff` beside tcpdump and scapy, in one run.

    python scripts/bench/sniff_offline.py [--pcap FILE] [--count 1000000] [--runs 2]

Measures, on the same generated capture (see genpcap.py; made once and
reused from the cache directory):

* `rawtools sniff -r FILE -n > /dev/null` and `tcpdump -nr FILE > /dev/null`:
  full decoding and printing of every packet;
* the same two with the selective filter `udp port 53`, which libpcap's BPF
  applies before any packet reaches Python;
* what two processes could reach at best: this process times reading the
  file into packets (what each of sniff's two processes does in full) and
  decoding them all into lines in one process, and prints the wall time
  of two ideal splits on two cores that never slow each other: read +
  decode / 2 (sniff's design: both processes read the file) and (read +
  decode) / 2 (every bit of work halved, nothing added); see `ceiling`;
* scapy reading a 50,000-packet prefix the way it reads a capture file,
  `sniff(offline=FILE, prn=summary)` (its tcpdump -r), timed inside the
  process after the import, because at its speed the whole file would take
  minutes and its import alone takes seconds.
  scapy is not a rawtools dependency: it is installed into the running
  interpreter's environment on first use (`pip install scapy`).

Each figure is the best of `--runs` runs (the machine is shared, so the
minimum is the least disturbed measurement). The goals printed at the end
are the issues': full decode at 1.5 times tcpdump's packets/s (issue 12; the
first goal was parity), at least 20 times scapy, and the selective filter
within 1.25 times tcpdump's time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILTER = ["udp", "port", "53"]
PREFIX = 50_000
SCAPY_LOOP = """
import sys, time
from scapy.all import sniff
start = time.perf_counter()
got = sniff(offline=sys.argv[1], prn=lambda p: p.summary() and None, store=False)
print(time.perf_counter() - start)
"""


def bench_env() -> dict[str, str]:
    """The environment of an installed package: bytecode cached, never recompiled.

    With PYTHONDONTWRITEBYTECODE set (as in some shells and CI) every start
    would compile rawtools again, about 50 ms that no installed copy pays; the
    cache goes to a directory of its own so the checkout stays clean.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "rawtools-bench-pycache")
    return env


def timed(cmd: list[str], runs: int) -> float:
    """Best wall-clock time of `cmd` with its output thrown away, as tcpdump users measure."""
    best = float("inf")
    env = bench_env()
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=env)
        best = min(best, time.perf_counter() - start)
    return best


def count_packets(path: str, expression: list[str]) -> int:
    """Packets in `path` matching `expression`, counted by libpcap, not by output lines
    (a payload printed by tcpdump can hold newlines)."""
    from rawtools.io.capture import Capture

    with Capture.open_offline(path) as cap:
        if expression:
            cap.set_filter(" ".join(expression))
        return sum(len(batch) for batch in cap.batches())


def ceiling(path: str, runs: int) -> tuple[float, float]:
    """Best seconds to read `path` into packets, and to decode them all into lines in
    one process (default options: what `sniff -n -r` prints), each timed alone.

    Both of sniff's processes read the whole file (rawtools.tools.sniff.helper),
    so reading is paid twice and only decoding is shared: no split of the work
    between two processes can end sooner than read + decode / 2.
    """
    from rawtools.io.capture import Capture
    from rawtools.tools.sniff.decode import Decoder

    read = decode = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with Capture.open_offline(path) as cap:
            batches = list(cap.batches())
            linktype = cap.linktype
        read = min(read, time.perf_counter() - start)
        decoder = Decoder(linktype)
        start = time.perf_counter()
        for batch in batches:
            decoder.lines(batch)
        decode = min(decode, time.perf_counter() - start)
        del batches
    return read, decode


def ensure_pcap(path: str | None, count: int) -> str:
    if path:
        return path
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rawtools-bench"
    cache.mkdir(parents=True, exist_ok=True)
    # Named for the generator's source too: a capture made by an older genpcap.py
    # (another mix of protocols) must not be timed as this one.
    digest = hashlib.sha256((HERE / "genpcap.py").read_bytes()).hexdigest()[:12]
    target = cache / f"mixed-{count}-{digest}.pcap"
    if not target.exists():
        print(f"generating {target} ({count} packets) ...", flush=True)
        tmp = target.with_suffix(".tmp")
        subprocess.run([sys.executable, str(HERE / "genpcap.py"), str(tmp), "--count",
                        str(count)], check=True)
        tmp.rename(target)
    return str(target)


def ensure_scapy() -> bool:
    if importlib.util.find_spec("scapy") is None:
        print("installing scapy for the comparison (pip install scapy) ...", flush=True)
        rc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "scapy"]).returncode
        if rc != 0:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pcap", help="capture to use (default: generate one)")
    parser.add_argument("--count", type=int, default=1_000_000, help="packets to generate")
    parser.add_argument("--runs", type=int, default=2, help="runs per figure (best is kept)")
    args = parser.parse_args()

    pcap = ensure_pcap(args.pcap, args.count)
    total = count_packets(pcap, [])
    selected = count_packets(pcap, FILTER)
    rawtools = [sys.executable, "-m", "rawtools", "sniff", "-n", "-r", pcap]
    # One start to fill the bytecode cache before anything is timed.
    subprocess.run([*rawtools, "-c", "1"], env=bench_env(), capture_output=True, check=True)
    rows = {
        "rawtools sniff -n": (timed(rawtools, args.runs), total),
        "tcpdump -n": (timed(["tcpdump", "-nr", pcap], args.runs), total),
        "rawtools sniff -n udp port 53": (timed(rawtools + FILTER, args.runs), selected),
        "tcpdump -n udp port 53": (timed(["tcpdump", "-nr", pcap, *FILTER], args.runs), selected),
    }
    read, decode = ceiling(pcap, args.runs)
    if ensure_scapy():
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "prefix.pcap")
            subprocess.run(["tcpdump", "-r", pcap, "-c", str(PREFIX), "-w", prefix],
                           stderr=subprocess.DEVNULL, check=True)
            out = subprocess.run([sys.executable, "-c", SCAPY_LOOP, prefix], check=True,
                                 capture_output=True, text=True).stdout
            rows[f"scapy (first {PREFIX})"] = (float(out.split()[-1]), PREFIX)

    print(f"\n{pcap}: {total} packets, {selected} match 'udp port 53'\n")
    print(f"{'command':<34}{'seconds':>9}{'packets/s':>12}")
    for name, (secs, n) in rows.items():
        print(f"{name:<34}{secs:>9.2f}{n / secs:>12,.0f}")

    def rate(name: str) -> float:
        secs, n = rows[name]
        return n / secs

    full = rate("rawtools sniff -n") / rate("tcpdump -n")
    sel = rows["rawtools sniff -n udp port 53"][0] / rows["tcpdump -n udp port 53"][0]
    print(f"\nin one process: reading {read:.2f} s, decoding {decode:.2f} s "
          f"({decode / total * 1e6:.2f} us a packet)")
    for what, secs in (("both read, decoding halved: read + decode / 2", read + decode / 2),
                       ("all the work halved: (read + decode) / 2", (read + decode) / 2)):
        print(f"two processes at best, {what} = {secs:.2f} s: "
              f"{rows['tcpdump -n'][0] / secs:.2f} times tcpdump's packets/s")
    print(f"full decode: rawtools/tcpdump packets/s = {full:.2f}  (goal >= 1.50, issue 12)")
    print(f"udp port 53: rawtools/tcpdump time      = {sel:.2f}  (goal <= 1.25)")
    if f"scapy (first {PREFIX})" in rows:
        vs_scapy = rate("rawtools sniff -n") / rate(f"scapy (first {PREFIX})")
        print(f"full decode: rawtools/scapy packets/s   = {vs_scapy:.1f}  (goal >= 20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
