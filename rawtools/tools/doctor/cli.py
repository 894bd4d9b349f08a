"""`rawtools doctor [HOST]`: one line per check (ok / warn / fail and the evidence).

Exit status: 0 when every check passed, 1 when one failed, 2 for bad
input. A warning passes, as a monitoring check's "degraded but working"
should not page anyone; `--strict` makes it fail too.
"""

from __future__ import annotations

import argparse

from rawtools.tools.doctor.api import doctor
from rawtools.tools.doctor.report import CHECKS, Check
from rawtools.tools.doctor.resolvconf import RESOLV_CONF
from rawtools.tools.options import add_family_flags, add_json_flag


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("host", nargs="?", metavar="HOST",
                   help="also check the path (trace) and path MTU to this host")
    add_family_flags(p)
    p.add_argument("--dns", action="append", metavar="ADDR",
                   help=f"resolver to ask (repeatable; default: the nameservers of "
                        f"{RESOLV_CONF})")
    p.add_argument("--check", dest="checks", action="append", choices=CHECKS,
                   help="run only this check (repeatable; default: all that apply)")
    p.add_argument("-w", "--wait", type=float, default=1.0, metavar="SEC",
                   help="seconds to wait for any answer (default 1)")
    p.add_argument("-m", dest="max_ttl", type=int, default=30, metavar="TTL",
                   help="longest path traced (default 30 hops)")
    p.add_argument("--query", default=".", metavar="NAME",
                   help="name asked of each resolver (default: the root, '.')")
    p.add_argument("--qtype", default="NS", choices=["A", "AAAA", "NS", "SOA"],
                   help="record type asked (default NS)")
    p.add_argument("--resolv-conf", default=RESOLV_CONF, metavar="FILE",
                   help=f"where the resolvers are listed (default {RESOLV_CONF})")
    p.add_argument("--strict", action="store_true", help="a warning fails too (exit 1)")
    add_json_flag(p)


def line(c: Check) -> str:
    """`verdict  check  subject: evidence`, columns aligned for a terminal."""
    return f"{c.verdict:<5}{c.name:<11}{c.subject}: {c.evidence}"


def run(args: argparse.Namespace) -> int:
    if args.json:
        from rawtools.jsonout import JsonLines  # before any socket: json loads now
        out = JsonLines("doctor")

        def show(c: Check) -> None:
            out.write(c.to_dict())
    else:
        def show(c: Check) -> None:
            print(line(c), flush=True)

    result = doctor(args.host, dns=args.dns, checks=args.checks, wait=args.wait,
                    resolv_conf=args.resolv_conf, query=args.query, qtype=args.qtype,
                    version=args.version, max_ttl=args.max_ttl, strict=args.strict,
                    on_check=show)
    if args.json:
        out.write(result.to_dict())
    else:
        verdict = "passed" if result.passed else "FAILED"
        print(f"doctor: {result.count('ok')} ok, {result.count('warn')} warn, "
              f"{result.count('fail')} fail: {verdict}")
    return 0 if result.passed else 1
