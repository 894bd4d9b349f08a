"""ping's statistics and reply times against iputils' rules written out independently.

The oracle (tests/iputils_oracle.py) restates iputils ping's arithmetic with
exact fractions and Newton's iteration; a few figures are also worked by hand
in the comments so that the oracle itself is checked.
"""

from __future__ import annotations

import io
import random
import statistics

import pytest
from iputils_oracle import iputils_rtt_line, iputils_stats_us, iputils_time, newton_isqrt

from rawtools.engine import Received
from rawtools.tools.ping.engine import NS, PingEngine, PingOptions, Target, rtt_stats, rtt_stats_us
from rawtools.tools.ping.events import Reply
from rawtools.tools.ping.render import TextRenderer
from rawtools.wire.icmp import Icmp

LITERAL = [
    [136, 105, 106, 98],        # captures/ping-v4-raw
    [104, 105, 114, 114, 110],  # captures/ping-v4-dup, duplicates included
    [250, 114, 116],
    [57],
    [0, 0, 0],
    [90, 90, 94],               # variance 3: iputils' llsqrt gives 2
    [90, 90, 96],               # variance 8: 3
    [90, 95, 124],              # variance 224: 15
    [1000, 1000, 1001, 99_999, 12_345_678],
    [800_000_000, 900_000_000, 1_000_000_000],  # tsum past INT_MAX: the other branch
]


def ours(us: list[int]) -> tuple[int, int, int, int]:
    st = rtt_stats_us(us)
    assert st is not None
    return st.min_us, st.avg_us, st.max_us, st.mdev_us


def test_the_oracle_on_figures_worked_by_hand():
    # 136,105,106,98: tsum 445, tsum2 50361; 445^2 = 198025, /4 = 49506;
    # (50361 - 49506) / 4 = 213 (855/4); llsqrt(213) = 14.
    assert iputils_stats_us([136, 105, 106, 98]) == (98, 111, 136, 14)
    # 104,105,114,114,110: tsum 547, tsum2 59933; 547^2/5 = 59841; 92/5 = 18 -> 4.
    assert iputils_stats_us([104, 105, 114, 114, 110]) == (104, 109, 114, 4)
    # llsqrt stops when Newton's x stops falling: 8 -> 4 -> 3 -> 2 -> 3, returns 3.
    assert [newton_isqrt(a) for a in (0, 1, 2, 3, 4, 8, 9, 224, 225)] == \
        [0, 1, 1, 2, 2, 3, 3, 15, 15]


@pytest.mark.parametrize("us", LITERAL, ids=lambda u: "-".join(map(str, u[:3])))
def test_rtt_stats_are_iputils_figures_on_literal_rtts(us):
    assert ours(us) == iputils_stats_us(us)
    st = rtt_stats([u * 1000 + 999 for u in us])  # nanoseconds truncate to microseconds
    assert st is not None and (st.min_us, st.avg_us, st.max_us, st.mdev_us) == \
        iputils_stats_us(us)


def test_mdev_subtracts_before_dividing_unlike_the_old_formula():
    us = [136, 105, 106, 98]
    tsum, tsum2, n = sum(us), sum(u * u for u in us), len(us)
    divided_first = tsum2 // n - (tsum // n) ** 2  # rawtools before issue 14: 269 -> 16
    assert divided_first == 269 and ours(us)[3] == 14


def test_rtt_stats_agree_with_the_oracle_on_random_samples():
    rng = random.Random(14)
    for _ in range(2000):
        n = rng.randint(1, 12)
        scale = rng.choice([60, 200, 5_000, 300_000])
        us = [rng.randint(0, scale) for _ in range(n)]
        assert ours(us) == iputils_stats_us(us), us
        # and close to the textbook population deviation, as a sanity check
        # on both (integer truncations move it by at most a microsecond)
        assert abs(ours(us)[3] - statistics.pstdev(us)) <= 1.5, us


def icmp(seq: int) -> Icmp:
    return Icmp(version=4, src="198.18.3.2", dst="198.18.0.1", ttl=61, type=0, code=0,
                kind="echo-reply", cksum_ok=True, ident=1, seq=seq, length=64)


def test_duplicates_count_in_the_statistics_as_iputils_sums_them():
    """Replies and duplicates both go into min/avg/max/mdev (total = nreceived + nrepeats)."""
    from test_ping_engine import reply_for
    e = PingEngine([Target("198.18.3.2", "198.18.3.2")], PingOptions(count=2, interval_ns=NS),
                   idents={4: 0x4242})
    rtts = {1: [104_000, 105_000], 2: [114_000, 300_000]}  # the second of each: a copy
    for seq in (1, 2):
        now = seq * NS
        s = e.poll(now)[0]
        e.sent(s, now)
        for rtt in rtts[seq]:
            e.received(Received(now + rtt, reply_for(s.data)))
    t = e.targets[0]
    assert (t.received, t.duplicates) == (2, 1)  # the 2nd copy of seq 2 came after the end
    out = io.StringIO()
    TextRenderer(out).summary(e)
    samples = [104, 105, 114]
    assert iputils_rtt_line(samples) in out.getvalue()
    assert iputils_rtt_line([104, 114]) not in out.getvalue()


TIMES_US = [0, 7, 98, 136, 999, 1000, 1004, 1005, 1234, 1235, 9994, 9995, 9999, 10_000,
            10_049, 10_050, 12_345, 12_350, 99_949, 99_950, 99_999, 100_000, 123_456,
            123_500, 1_234_567]


def test_the_time_oracle_on_figures_worked_by_hand():
    assert [iputils_time(u) for u in (136, 1234, 1235, 9995, 12_350, 99_950, 123_500)] == \
        ["0.136", "1.23", "1.24", "10.0", "12.4", "100", "124"]


@pytest.mark.parametrize("us", TIMES_US)
def test_reply_line_time_is_rounded_as_iputils_prints_it(us):
    """The rendered reply line, not only the helper: `time=` as iputils would print it."""
    out = io.StringIO()
    t = Target("198.18.3.2", "198.18.3.2")
    TextRenderer(out).event(Reply(t, 1, 0, icmp(1), us * 1000 + 999, "kernel", False, 0))
    assert out.getvalue() == \
        f"64 bytes from 198.18.3.2: icmp_seq=1 ttl=61 time={iputils_time(us)} ms\n"
