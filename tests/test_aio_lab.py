"""rawtools.aio on real kernels: the engines driven by asyncio's loop, several at once, no threads.

Every script runs inside the lab's host namespace (never from the test
process) and prints JSON. Oracles: the lab's addresses; iputils ping, run
as a subprocess while rawtools sniffs, for how many packets a capture must
see; the event timestamps themselves for concurrency (runs that overlap in
time, not one after the other).
"""

from __future__ import annotations

import json
import sys

import pytest

pytestmark = pytest.mark.lab

CONCURRENT = """
import asyncio, json, sys, threading
import rawtools.aio as aio
dst4, dst6 = sys.argv[1:3]
seen = {}

async def main():
    threads = threading.active_count()
    pings = [aio.ping(a, count=4, interval=0.2,
                      on_event=lambda ev, a=a: seen.setdefault(a, []).append(ev.ts_ns))
             for a in (dst4, dst6)]
    r4, r6, tr = await asyncio.gather(*pings, aio.trace(dst4, nqueries=1))
    print(json.dumps({
        "threads": [threads, threading.active_count()],
        "received": [r4.targets[0].received, r6.targets[0].received],
        "spans": {a: [min(t), max(t)] for a, t in seen.items()},
        "hops": [h.addrs for h in tr.hops], "reached": tr.reached}))

asyncio.run(main())
"""

SNIFF = """
import asyncio, json, sys
import rawtools.aio as aio
dst = sys.argv[1]

async def main():
    got = []
    async def capture():
        async for p in aio.sniff("l0a", f"icmp and host {dst}", timeout=3):
            got.append(p.fields["icmp_type"] if "icmp_type" in p.fields else p.summary)
    task = asyncio.create_task(capture())
    await asyncio.sleep(0.5)
    proc = await asyncio.create_subprocess_exec("ping", "-n", "-c", "3", "-i", "0.2", dst,
                                                stdout=asyncio.subprocess.DEVNULL)
    await proc.wait()
    await task
    print(json.dumps({"captured": len(got), "ping_exit": proc.returncode}))

asyncio.run(main())
"""

STOP = """
import asyncio, json, sys
import rawtools.aio as aio
dst = sys.argv[1]

async def main():
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(1.0, stop.set)
    r = await aio.ping(dst, interval=0.2, stop=stop)
    stop2 = asyncio.Event()
    asyncio.get_running_loop().call_later(2.5, stop2.set)
    t = await aio.trace(dst, cycles=0, nqueries=1, stop=stop2)
    print(json.dumps({"transmitted": r.targets[0].transmitted,
                      "received": r.targets[0].received,
                      "rounds": len(t.rounds), "interrupted": t.interrupted,
                      "sent": [s.sent for s in t.stats]}))

asyncio.run(main())
"""


def script(lab, text: str, *args: str) -> dict:
    r = lab.run("host", [sys.executable, "-c", text, *args], timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_pings_and_a_trace_run_together_on_one_loop_without_threads(make_lab):
    lab = make_lab(2)
    got = script(lab, CONCURRENT, lab.dst4, lab.dst6)
    assert got["threads"][0] == got["threads"][1] == 1
    assert got["received"] == [4, 4]
    (a0, a1), (b0, b1) = got["spans"][lab.dst4], got["spans"][lab.dst6]
    assert a0 < b1 and b0 < a1  # the two runs overlap in time: concurrent, not in turn
    assert got["hops"] == [[lab.router4(1)], [lab.router4(2)], [lab.dst4]] and got["reached"]


def test_async_for_sees_what_iputils_sent_meanwhile(make_lab):
    lab = make_lab(1)
    got = script(lab, SNIFF, lab.dst4)
    assert got["ping_exit"] == 0
    assert got["captured"] == 6  # iputils' 3 requests and their 3 replies


def test_stop_ends_a_run_with_its_results(make_lab):
    lab = make_lab(1)
    got = script(lab, STOP, lab.dst4)
    assert 3 <= got["transmitted"] <= 7 and got["received"] >= got["transmitted"] - 1
    assert got["interrupted"] and got["rounds"] >= 2
    assert all(s >= got["rounds"] - 1 for s in got["sent"])


def test_bad_arguments_are_usage_errors():
    import asyncio

    import rawtools.aio as aio
    from rawtools.errors import UsageError

    for coro in (aio.ping("198.18.0.1", stop=5), aio.ping("198.18.0.1", on_event="x"),
                 aio.trace("198.18.0.1", on_hop=3), aio.trace("198.18.0.1", cycles=0),
                 aio.ping("198.18.0.1", interval=float("nan"))):
        with pytest.raises(UsageError):
            asyncio.run(coro)
