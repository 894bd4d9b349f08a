"""The checks themselves, each built on the public API alone (`rawtools.ping`, `trace`, `ifaces`).

That is doctor's second purpose: proof that the API a script sees is
enough to compose a diagnosis. The tools' names are taken from `rawtools`
at import (here and in api.py), so every tool module is loaded before the
first probe: the tools give up root once their sockets are open, and the
interpreter's own files may be out of reach afterwards. Each check returns its lines; network
faults are verdicts, and a tool's error (no route, no permission) is the
failing line's evidence, never an exception.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from rawtools import TraceResult, ifaces, ping
from rawtools.errors import RawtoolsError
from rawtools.tools.doctor.config import DoctorConfig
from rawtools.tools.doctor.dnsquery import query
from rawtools.tools.doctor.report import Check, CheckName
from rawtools.tools.doctor.resolvconf import nameservers
from rawtools.tools.doctor.routes import Route, default_routes, read_routes, route_to

GATEWAY_PINGS = 3
PING_GAP_S = 0.2  # the shortest interval iputils allows a user
PLATEAUS = (9000, 4464, 1500, 1492, 1480, 1460, 1440, 1400, 1380, 1280, 1006, 576)
"""Falling sizes tried when a probe vanishes without a fragmentation-needed (RFC 1191's
plateau table, with the MTUs of PPPoE, tunnels and IPv6's minimum in between)."""
OVERHEAD = {4: 28, 6: 48}  # IP + ICMP echo headers: ping's size is the rest
MIN_MTU = {4: 576, 6: 1280}


def interfaces(_cfg: DoctorConfig) -> list[Check]:
    """Up interfaces with addresses; one that is up without any is worth a look."""
    found = [i for i in ifaces() if not i.loopback]
    up = [i for i in found if i.up]
    usable = [i for i in up if i.ipv4 or any(not ipaddress.ip_address(a.addr.split("%")[0])
                                             .is_link_local for a in i.ipv6)]
    bare = [i.name for i in up if i not in usable]
    down = [i.name for i in found if not i.up]
    shown = "; ".join(f"{i.name} up mtu {i.mtu} " + " ".join(str(a) for a in i.ipv4 + i.ipv6)
                      for i in usable)
    details = {"up": [i.name for i in usable], "without_address": bare, "down": down,
               "addresses": {i.name: [str(a) for a in i.ipv4 + i.ipv6] for i in usable}}
    if not usable:
        why = "no interface but loopback is up with an address"
        return [Check("interfaces", "interfaces", "fail",
                      why + (f" (down: {', '.join(down)})" if down else ""), details)]
    extra = (f"; up without an address: {', '.join(bare)}" if bare else "") + \
        (f"; down: {', '.join(down)}" if down else "")
    return [Check("interfaces", "interfaces", "warn" if bare else "ok", shown + extra, details)]


def gateway(cfg: DoctorConfig) -> list[Check]:
    """Each family's default route, and whether its gateway answers ping.

    A family without a default route is no fault while the other has one
    (many networks have no IPv6); no default route at all is.
    """
    defaults = [r for r in default_routes(read_routes())
                if cfg.version is None or r.version == cfg.version]
    if not defaults:
        return [Check("gateway", "default route", "fail",
                      "no default route (/proc/net/route, /proc/net/ipv6_route): only "
                      "directly attached and explicitly routed networks are reachable", {})]
    return [_ping_gateway(r, cfg) for r in defaults]


def _ping_gateway(r: Route, cfg: DoctorConfig) -> Check:
    subject = f"IPv{r.version} gateway {r.gateway or '(none)'} dev {r.device}"
    details: dict[str, object] = {"version": r.version, "gateway": r.gateway,
                                  "device": r.device}
    if r.gateway is None:
        return Check("gateway", subject, "ok",
                     f"default route straight out of {r.device} (point-to-point, no "
                     "gateway to ping)", details)
    addr = r.gateway
    if ipaddress.ip_address(addr).is_link_local:
        addr = f"{addr}%{r.device}"  # a link-local gateway is only meaningful with its link
    try:
        res = ping(addr, count=GATEWAY_PINGS, interval=PING_GAP_S, timeout=cfg.wait,
                   interface=r.device, version=r.version)
    except RawtoolsError as e:
        return Check("gateway", subject, "fail", str(e), details)
    t = res.targets[0]
    details.update(sent=t.transmitted, received=t.received, avg_ms=t.avg_ms)
    if not t.received:
        seen = f"; {t.errors_seen[0].src}: {t.errors_seen[0].text}" if t.errors_seen else ""
        return Check("gateway", subject, "fail",
                     f"no reply to {t.transmitted} pings{seen}", details)
    return Check("gateway", subject, "ok" if t.received >= t.transmitted else "warn",
                 f"{t.received}/{t.transmitted} replies, avg {t.avg_ms:.3f} ms", details)


def dns(cfg: DoctorConfig) -> list[Check]:
    """Ask every resolver (--dns, else resolv.conf's) the question, each on its own."""
    servers = list(cfg.dns)
    source = "--dns"
    if not servers:
        source = cfg.resolv_conf
        try:
            with open(cfg.resolv_conf) as f:
                servers = nameservers(f.read())
        except OSError as e:
            return [Check("dns", "resolvers", "fail",
                          f"cannot read {cfg.resolv_conf}: {e.strerror}", {})]
        if not servers:
            return [Check("dns", "resolvers", "fail", f"no nameserver in {cfg.resolv_conf}", {})]
    out = []
    for server in servers:
        o = query(server, cfg.query, cfg.qtype, cfg.wait)
        details = {"server": server, "from": source, "query": cfg.query, "qtype": cfg.qtype,
                   "rcode": o.rcode_name, "answers": o.answers, "rtt_ms": o.rtt_ms,
                   "tries": o.tries}
        subject = f"resolver {server}"
        if o.rcode is None:
            out.append(Check("dns", subject, "fail", o.error or "no answer", details))
        elif o.rcode != 0:
            out.append(Check("dns", subject, "fail",
                             f"answered {o.rcode_name} to {cfg.query} {cfg.qtype}", details))
        else:
            out.append(Check("dns", subject, "ok",
                             f"{cfg.query} {cfg.qtype}: NOERROR, {o.answers} "
                             f"answer{'' if o.answers == 1 else 's'} in "
                             f"{o.rtt_ms:.3f} ms", details))
    return out


def _hop_text(ttl: int, addrs: list[str]) -> str:
    return f"hop {ttl} ({', '.join(addrs)})" if addrs else f"hop {ttl}"


def path(cfg: DoctorConfig, res: TraceResult) -> Check:
    """Whether the trace reached the host, and the first hop that failed or fell silent.

    A silent hop on a path that reaches its end is a router that sends no
    time-exceeded (a policy, not a fault): a warning. On a path that does
    not reach, the first hop to answer with an error (!H, !N, !X...) or the
    first silent hop past the last that answered is where it breaks.
    """
    subject = f"path to {res.host}" + (f" ({res.addr})" if res.host != res.addr else "")
    hops = res.hops
    silent = [h.ttl for h in hops if not h.addrs]
    details: dict[str, object] = {"dst": res.addr, "reached": res.reached, "end": res.end,
                                  "hops": len(hops), "silent": silent, "failed_hop": None}
    if res.reached:
        last = hops[-1] if hops else None
        rtts = [p.rtt_ms for p in last.probes if p.rtt_ms is not None] if last else []
        shown = f"reached in {len(hops)} hops" + (f", {min(rtts):.3f} ms" if rtts else "")
        if silent:
            return Check("path", subject, "warn",
                         f"{shown}; silent (no time-exceeded): "
                         + ", ".join(f"hop {t}" for t in silent), details)
        return Check("path", subject, "ok", shown, details)
    for h in hops:
        errs = [p for p in h.probes if p.kind not in (None, "time-exceeded")]
        if errs:
            details["failed_hop"] = h.ttl
            return Check("path", subject, "fail",
                         f"{_hop_text(h.ttl, h.addrs)} answered {errs[0].kind}"
                         + (f" {errs[0].note}" if errs[0].note else ""), details)
    answered = [h.ttl for h in hops if h.addrs]
    first_silent = next((t for t in silent if not answered or t > answered[-1]), None)
    if first_silent is None:
        return Check("path", subject, "fail", f"not reached ({res.end})", details)
    details["failed_hop"] = first_silent
    before = next(h for h in hops if h.ttl == answered[-1]) if answered else None
    after = f" after {_hop_text(before.ttl, before.addrs)}" if before else ""
    return Check("path", subject, "fail",
                 f"not reached: hop {first_silent} and beyond are silent{after} "
                 f"({res.end})", details)


def mtu(cfg: DoctorConfig, addr: str, version: int) -> Check:
    """Path MTU by DF probes of falling size, as tracepath finds it.

    Start at the outgoing interface's MTU; a fragmentation-needed or
    packet-too-big names the next size to try; a size that vanishes
    without one steps down the plateau table, and is a PMTU black hole if
    a smaller size then gets through: large transfers over such a path
    hang, which is a failure. A path MTU below the interface's with working
    ICMP is handled by the kernel: a warning.
    """
    subject = f"path MTU to {addr}"
    route = route_to(read_routes(), addr)
    dev = route.device if route else None
    dev_mtu = next((i.mtu for i in ifaces() if i.name == dev and i.mtu), None)
    size = min(dev_mtu or 1500, 65535)
    details: dict[str, object] = {"device": dev, "device_mtu": dev_mtu, "pmtu": None,
                                  "tried": [], "told_by": None, "black_hole": False}
    tried: list[int] = []
    told: list[tuple[str, int]] = []
    vanished: list[int] = []
    while size >= MIN_MTU[version] and len(tried) < 12:
        tried.append(size)
        try:
            res = ping(addr, count=2, interval=PING_GAP_S, timeout=cfg.wait,
                       size=size - OVERHEAD[version], version=version, dont_fragment=True)
        except RawtoolsError as e:
            details["tried"] = tried
            return Check("mtu", subject, "fail", str(e), details)
        t = res.targets[0]
        if t.received:
            break
        smaller = [(e.src, e.mtu) for e in t.errors_seen if e.mtu and e.mtu < size]
        if smaller:
            told.append(min(smaller, key=lambda s: s[1]))
            size = told[-1][1]
        else:
            vanished.append(size)
            size = next((p for p in PLATEAUS if p < size), 0)
    else:
        details["tried"] = tried
        return Check("mtu", subject, "fail",
                     f"no echo reply at any size from {tried[0]} down to {tried[-1]}: the "
                     "host does not answer ping, or the path drops it", details)
    details.update(pmtu=size, tried=tried, black_hole=bool(vanished),
                   told_by=[{"from": s, "mtu": m} for s, m in told])
    said = "; ".join(f"{s} said mtu {m}" for s, m in told)
    if vanished:
        return Check("mtu", subject, "fail",
                     f"{size}, but {', '.join(map(str, vanished))} vanished without a "
                     "fragmentation-needed (a PMTU black hole)" + (f"; {said}" if said else ""),
                     details)
    if dev_mtu is not None and size < dev_mtu:
        return Check("mtu", subject, "warn", f"{size} (below {dev}'s {dev_mtu}; {said})",
                     details)
    return Check("mtu", subject, "ok", f"{size} (= {dev or 'the interface'}'s MTU)", details)


SIMPLE: dict[CheckName, Callable[[DoctorConfig], list[Check]]] = {
    "interfaces": interfaces, "gateway": gateway, "dns": dns,
}
