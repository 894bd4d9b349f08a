"""`rawtools.udpcksum()`: the CLI's engine and options, the result as a dataclass."""

from __future__ import annotations

from rawtools.tools.udpcksum.config import udpcksum_config
from rawtools.tools.udpcksum.report import IcmpSeen, UdpCksumResult, UdpReply, build_result
from rawtools.tools.udpcksum.session import execute

__all__ = ["IcmpSeen", "UdpCksumResult", "UdpReply", "udpcksum"]


def udpcksum(host: str | None = None, service: str | int | None = None, *,
             query: str | None = None, ntp: bool = False, payload: str | bytes | None = None,
             zero: bool = False, wait: float = 3.0, retries: int = 2, local: str | None = None,
             interface: str | None = None, version: int | None = None,
             record: str | None = None, replay: str | None = None) -> UdpCksumResult:
    """Ask `host`'s UDP `service` a question and judge the checksum of its answer.

    The arguments are the flags by name: `query` -q (a DNS name), `ntp`
    --ntp, `payload` --payload (hex text or bytes), `zero` -0, `wait` -w in
    seconds (doubled for each retry), `retries` -r, `local` -l
    ("198.18.0.1.5353", "[2001:db8::1]:5353"), `interface` -i (the capture
    device). Needs root or CAP_NET_RAW, except for a `replay`. Raises
    `rawtools.errors.UsageError` for values the CLI would refuse and other
    `rawtools.errors.RawtoolsError` subclasses for unknown hosts or services,
    missing devices or rights. No answer is not an error: see `outcome`.
    """
    cfg = udpcksum_config(host, service, query=query, ntp=ntp, payload=payload, zero=zero,
                          wait=wait, retries=retries, local=local, interface=interface,
                          version=version, record=record, replay=replay)
    return build_result(execute(cfg))
