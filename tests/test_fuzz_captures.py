"""Mutated corpus captures (tests/capmutate.py) against `rawtools sniff -r`, on every run.

Three promises, on files no one has seen before: no traceback (a file that
cannot be read is one line and exit 2), no hang (a time limit per file), and
never fewer packets printed than `tcpdump -r` prints for the same file (where
tcpdump stops at damage, up to where it stopped).

Every case is decoded in-process, which is fast; every third also runs the
real command. The sample is fixed by the seed so a failure is reproduced by
running again; `RAWTOOLS_FUZZ_CASES=2000` (and another `RAWTOOLS_FUZZ_SEED`)
makes a longer hunt.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from capmutate import MUTATIONS, mutate
from conftest import CORPUS, rawtools_argv

from rawtools.errors import CaptureError
from rawtools.io.capture import Capture
from rawtools.tools.sniff.decode import Decoder

CASES = int(os.environ.get("RAWTOOLS_FUZZ_CASES", "300"))
SEED = int(os.environ.get("RAWTOOLS_FUZZ_SEED", "11"))
CLI_EVERY = 3
TIME_LIMIT = 20.0  # seconds per file; the largest corpus file takes well under one
FILES = sorted(p for p in CORPUS.glob("*") if p.suffix in (".pcap", ".pcapng"))
# Output modes cycled through the cases, so -v, -e and the dumps see damage too.
MODES: tuple[dict[str, Any], ...] = (
    {}, {"verbose": 2, "link_header": True}, {"hexdump": "X", "ts_style": "delta"},
    {"verbose": 1, "ts_style": "epoch"})

PACKET_LINE = re.compile(r"^(?:\d\d:\d\d:\d\d\.\d{6}|\[Error converting time\]) ",
                         re.MULTILINE)

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")


# Flags of the real command's runs, cycled; every other one reads standard input.
CLI_FLAGS = (["-n"], ["-n", "-vv", "-e"], ["-n", "-X"], ["-n", "-v", "-A"])


@dataclass
class Case:
    path: Path
    mode: dict[str, Any]
    cli: list[str] | None  # the real command's flags, if it runs on this case
    stdin: bool = False


class Hang(Exception):
    """The per-file time limit passed in-process."""


def printed(text: str) -> int:
    """Packets in `-n` text: the lines that start with a time (some of tcpdump's
    packets take several lines, indented or not)."""
    return len(PACKET_LINE.findall(text))


def make_cases(where: Path) -> list[Case]:
    rng = random.Random(SEED)
    cases = []
    for i in range(CASES):
        mutation = MUTATIONS[i % len(MUTATIONS)]
        source = rng.choice(FILES)
        path = where / f"{i:04d}-{mutation.__name__}-{source.name}"
        path.write_bytes(mutate(source.read_bytes(), rng, mutation))
        run = i // CLI_EVERY
        cases.append(Case(path, MODES[i % len(MODES)],
                          CLI_FLAGS[run % len(CLI_FLAGS)] if i % CLI_EVERY == 0 else None,
                          stdin=run % 2 == 1))
    return cases


def tcpdump_count(path: Path) -> int | None:
    """Packets tcpdump prints before it ends or stops at damage; None if it crashed."""
    try:
        proc = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True,
                              text=True, errors="replace", timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        return None
    return None if proc.returncode < 0 else printed(proc.stdout)


def cli_run(case: Case) -> tuple[int, str, int] | str:
    """(exit status, stderr, packets printed) of the real command, or why it hung."""
    assert case.cli is not None
    try:
        with open(case.path, "rb") as f:
            proc = subprocess.run(rawtools_argv("sniff", *case.cli, "-r",
                                                "-" if case.stdin else str(case.path)),
                                  stdin=f, capture_output=True, text=True, errors="replace",
                                  timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        return f"no end within {TIME_LIMIT:g} s"
    return proc.returncode, proc.stderr, printed(proc.stdout)


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def in_process(case: Case) -> int:
    """Packets the decoder gives text for; a CaptureError ends it as it ends the CLI."""
    count = 0
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        with Capture.open_offline(str(case.path)) as cap:
            decoder = Decoder(cap.linktype, **case.mode)
            for batch in cap.batches():
                assert decoder.lines(batch).count("\n") >= len(batch)
                count += len(batch)
    except CaptureError:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return count


def cli_problem(result: tuple[int, str, int] | str, want: int | None) -> str | None:
    if isinstance(result, str):
        return result
    status, err, count = result
    lines = err.splitlines()
    if "Traceback" in err or status not in (0, 2):
        return f"exit {status}: {err[-400:]}"
    if status == 2 and not (1 <= len(lines) <= 2 and lines[-1].startswith("rawtools sniff: ")):
        return f"exit 2 needs one error line (after the banner): {lines!r}"
    if want is not None and count < want:
        return f"the command printed {count} packets, tcpdump {want}"
    return None


def test_mutated_captures_never_traceback_hang_or_lose_packets(tmp_path, capsys):
    started = time.monotonic()
    cases = make_cases(tmp_path)
    problems: list[str] = []
    compared = 0
    with ThreadPoolExecutor(2) as pool:
        # tcpdump and the real command run beside the in-process decoding.
        theirs = [pool.submit(tcpdump_count, c.path) for c in cases]
        clis: list[Future[tuple[int, str, int] | str] | None] = [
            pool.submit(cli_run, c) if c.cli else None for c in cases]
        for case, their, cli in zip(cases, theirs, clis, strict=True):
            name = case.path.name
            try:
                ours = in_process(case)
            except Hang:
                problems.append(f"{name}: no end within {TIME_LIMIT:g} s in-process")
                continue
            except Exception as e:  # noqa: BLE001 - every escape is a finding
                problems.append(f"{name}: {type(e).__name__}: {e} ({case.mode})")
                continue
            want = their.result()
            if want is not None:
                compared += 1
                if ours < want:
                    problems.append(f"{name}: decoded {ours} packets, tcpdump printed {want}")
            if cli is not None and (why := cli_problem(cli.result(), want)):
                problems.append(f"{name} (CLI {' '.join(case.cli or [])}"
                                f"{' from stdin' if case.stdin else ''}): {why}")
    took = time.monotonic() - started
    with capsys.disabled():
        print(f"\nfuzz: {len(cases)} mutated captures (seed {SEED}), "
              f"{sum(c.cli is not None for c in cases)} through the CLI, {compared} compared with "
              f"tcpdump, {took:.1f} s; RAWTOOLS_FUZZ_CASES=N for more")
    assert not problems, f"seed {SEED}, files in {tmp_path}:\n" + "\n".join(problems)
