"""A UDP server for the lab that answers every datagram, with or without UDP checksums.

udpcksum's tests and fixture script run it in a lab namespace as the server
being probed. It echoes each datagram back after a short prefix, so a
capture of the answer shows what the server received, and prints one line
per datagram on stdout (after a first `ready` line, once it listens).

`--no-check` makes the kernel send its answers without a checksum: the
socket option SO_NO_CHECK (11, SOL_SOCKET) for IPv4, UDP_NO_CHECK6_TX (101,
IPPROTO_UDP) for IPv6, which RFC 8200 forbids on the wire and receivers drop.

    python3 -m rawtools.testing.udpserver --port 53 [--family 6] [--no-check]
"""

from __future__ import annotations

import argparse
import socket
import sys

SO_NO_CHECK = 11
UDP_NO_CHECK6_TX = 101
PREFIX = b"rawtools echo: "


def serve(port: int, family: int = 4, no_check: bool = False) -> None:
    af = socket.AF_INET6 if family == 6 else socket.AF_INET
    with socket.socket(af, socket.SOCK_DGRAM) as s:
        if family == 6:
            # The IPv4 server on the same port must not be in the way.
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if no_check:
            if family == 6:
                s.setsockopt(socket.IPPROTO_UDP, UDP_NO_CHECK6_TX, 1)
            else:
                s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
        s.bind(("::" if family == 6 else "0.0.0.0", port))
        print("ready", flush=True)
        while True:
            data, addr = s.recvfrom(65535)
            print(f"{addr[0]}.{addr[1]} {len(data)} {data[:64].hex()}", flush=True)
            s.sendto(PREFIX + data, addr)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--family", type=int, choices=[4, 6], default=4)
    p.add_argument("--no-check", action="store_true", help="send answers without checksums")
    args = p.parse_args(argv)
    serve(args.port, args.family, args.no_check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
