"""The nameservers a resolver library would ask, from resolv.conf."""

from __future__ import annotations

import ipaddress

RESOLV_CONF = "/etc/resolv.conf"


def nameservers(text: str) -> list[str]:
    """Every `nameserver ADDR` line's address, in order (glibc uses the first three).

    A zone index (fe80::1%eth0) is kept, as a socket needs it; a line whose
    address does not parse is skipped, as glibc skips it.
    """
    out: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            try:
                ipaddress.ip_address(words[1].split("%")[0])
            except ValueError:
                continue
            out.append(words[1])
    return out
