#!/usr/bin/env bash
# Mutation score of the fast tests (issue 14): mutmut 2 changes the code one small
# thing at a time (an operator, a constant, a comparison) and runs the tests that
# concern it; a mutant the tests still pass "survived" and shows where they are blind.
#
#   bash scripts/mutation.sh [-j JOBS] [TARGET ...]
#
# TARGET: wire (rawtools/wire/), engines (every tool's engine.py, trace's mda.py, the contract
# rawtools/engine.py), privileges (rawtools/io/privileges.py), all (the three), or
# one file under rawtools/; default: all. Each file is mutated in its own scratch
# copy of the tree, JOBS files at a time (default: the number of CPUs), with only
# the tests that concern that file, fast ones first, so a killed mutant costs
# about a second. It still takes an hour or more on two cores: a script to run by
# hand, not part of CI. mutmut is installed into .venv here, not as a test
# dependency; the worktree is never touched, and lab tests never run (-m "not lab").
# The per-file reports and the totals are left in $MUTATION_OUT (default
# .mutation/, ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${MUTATION_OUT:-$ROOT/.mutation}

if [ "${1:-}" = --one ]; then
    # One file, in its own copy: the worker the parallel run below starts, or a
    # single file by hand (bash scripts/mutation.sh --one FILE "TESTS").
    file=$2 tests=$3
    # The copy and mutmut's cache of results stay in $OUT/work/, so that a run stopped
    # part-way (Ctrl-C, a reboot, a hang) goes on where it stopped: mutmut 2 runs again
    # only the mutants never run and those of lines changed since. The copy is refreshed
    # from the worktree first, which also undoes a mutant left applied. (Reading
    # .mutmut-cache while mutmut runs, even with sqlite3, can hang it for good.)
    work=$OUT/work/$(echo "$file" | tr / _ | sed 's/\.py$//')
    mkdir -p "$work"
    git ls-files -z | xargs -0 cp --parents -t "$work"
    cd "$work"
    # The copy is what the tests import (PYTHONPATH first), not the editable install.
    export PYTHONPATH=$work
    # mutmut 2 counts only exit code 1 as "the tests failed"; a mutant that breaks
    # the import makes pytest exit 2 or 4, which it would count as a survivor.
    # A mutant can loop forever (a loop bound mutated away); mutmut's own timeout kills the
    # runner but not pytest under it, whose open stdout then keeps mutmut waiting for good.
    # timeout(1) ends pytest itself; a mutant whose tests run 30 s is counted killed (they
    # take seconds; a loop mutated to spin costs 30 s, not minutes).
    # No hypothesis plugin: importing it is half of each run's start-up, and no test run
    # here uses hypothesis (only tests/test_prop_hostile.py does).
    # The first test file (the file's own unit tests) alone first: most mutants fail
    # there, and pytest then collects one file, not all of them, before saying so.
    read -r first rest <<<"$tests"
    cat > .mutation-runner.sh <<RUNNER
timeout -k 2 30 "$ROOT/.venv/bin/python" -m pytest -x -q -p no:cacheprovider \\
    -p no:hypothesispytest -m 'not lab' $first || exit 1
RUNNER
    if [ -n "${rest// /}" ]; then
        echo "timeout -k 2 30 \"$ROOT/.venv/bin/python\" -m pytest -x -q -p no:cacheprovider \
-p no:hypothesispytest -m 'not lab' $rest || exit 1" >> .mutation-runner.sh
    fi
    # A mutant the tests pass then meets the type checker, as every change does (mypy strict
    # is part of the checks): the contract rawtools/engine.py is mostly types, and every
    # file's annotations are strings under `from __future__ import annotations` that only
    # mypy reads (`int | None` -> `int & None`, a record default of the wrong type, an
    # engine's Literal Outcome names). Only the mutants the tests missed pay for it.
    echo "\"$ROOT/.venv/bin/python\" -m mypy rawtools >/dev/null || exit 1" \
        >> .mutation-runner.sh
    "$ROOT/.venv/bin/python" -m mutmut run --paths-to-mutate "$file" --tests-dir tests \
        --runner "bash $work/.mutation-runner.sh" \
        --no-progress >/dev/null 2>&1 || true   # its exit code is a bit mask of outcomes
    report="$OUT/$(echo "$file" | tr / _).txt"
    "$ROOT/.venv/bin/python" - "$file" > "$report" <<'EOF'
import sqlite3
import sys

rows = sqlite3.connect(".mutmut-cache").execute(
    "SELECT m.id, m.status, l.line_number, l.line FROM Mutant m JOIN Line l ON m.line = l.id"
    " ORDER BY m.id").fetchall()
# "suspicious" is killed, only slower than the unmutated run (a loaded machine).
killed = sum(1 for _, st, _, _ in rows if st in ("ok_killed", "ok_suspicious", "bad_timeout"))
survived = [(i, n, line) for i, st, n, line in rows if st == "bad_survived"]
print(f"{sys.argv[1]} {killed} {killed + len(survived)}")
for i, n, line in survived:
    print(f"  survived #{i} line {n + 1}: {line.strip()}")
EOF
    # Each survivor's diff, to judge it: a missing test, or a change that cannot matter.
    for id in $(sed -n 's/^  survived #\([0-9]*\) .*/\1/p' "$report"); do
        echo "  #$id" >> "$report.diff"
        "$ROOT/.venv/bin/python" -m mutmut show "$id" 2>/dev/null | sed -n '/^@@/,$p' \
            | sed 's/^/      /' >> "$report.diff" || true
    done
    head -1 "$report" >&2
    exit 0
fi

jobs=$(nproc)
if [ "${1:-}" = -j ]; then jobs=$2; shift 2; fi
[ -x .venv/bin/python ] || bash scripts/setup.sh
# mutmut 2: it runs any test command on mutants written in place (in the copy);
# mutmut 3's own test runner finds no test for any mutant in this layout.
[ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mutmut"))' \
    2>/dev/null)" = 2.5.1 ] || .venv/bin/python -m pip install -q "mutmut==2.5.1"

WIRE_TESTS="tests/test_wire_constants.py tests/test_frozen_values.py tests/test_wire_ip.py
  tests/test_wire_udp.py tests/test_wire_link.py tests/test_wire_probes.py tests/test_wire_checksum.py tests/test_wire_icmp.py tests/test_wire_ethernet.py
  tests/test_wire_udperror.py tests/test_link.py tests/test_trace_probes.py
  tests/test_trace_icmpext.py tests/test_udpcksum_wire.py tests/test_icmpd_protocol.py
  tests/test_icmpd_engine.py"

# The tests that concern a file, the quick unit tests before the replays.
tests_for() {
    case $1 in
    rawtools/wire/flows.py) echo tests/test_wire_flows.py tests/test_frozen_values.py tests/test_trace_mda.py ;;
    # A file's own tests first, so that a killed mutant costs one short run.
    rawtools/wire/icmp.py) echo tests/test_wire_icmp.py tests/test_wire_icmp_mutants.py $WIRE_TESTS ;;
    # Only these reach icmpext (in rawtools only trace's renderer uses it, and no wire test
    # renders a trace): the rest of the wire tests could not kill one of its mutants.
    rawtools/wire/icmpext.py)
        echo tests/test_wire_icmpext.py tests/test_trace_icmpext.py tests/test_wire_constants.py \
             tests/test_frozen_values.py ;;
    # link.py's decapsulations of other link types (PPP, Frame Relay, Cisco HDLC,
    # ARCnet, NFLOG, SLIP...) are read only by sniff: its printer tests, the corpus
    # captures and the fidelity floor judge them against tcpdump.
    rawtools/wire/link.py)
        echo tests/test_wire_link.py tests/test_sniff_printers.py tests/test_sniff_linkfix.py \
             tests/test_sniff_printers_corpus.py tests/test_sniff_fidelity.py \
             tests/test_sniff_decode.py $WIRE_TESTS ;;
    rawtools/wire/*)
        own=tests/test_wire_$(basename "$1")
        [ "$1" = rawtools/wire/icmpdmsg.py ] && own=tests/test_icmpd_protocol.py
        [ -f "$own" ] || own=
        echo $own
        for t in $WIRE_TESTS; do [ "$t" = "$own" ] || echo "$t"; done ;;
    rawtools/tools/trace/mda.py) echo tests/test_trace_mda.py tests/test_frozen_values.py ;;
    rawtools/tools/trace/engine.py)
        echo tests/test_trace_engine.py tests/test_trace_engine_mutants.py tests/test_frozen_values.py \
             tests/test_trace_loss.py \
             tests/test_trace_fixture_oracle.py \
             tests/test_trace_replay.py ;;
    rawtools/tools/ping/engine.py)
        echo tests/test_frozen_values.py tests/test_ping_engine.py tests/test_ping_engine_mutants.py \
             tests/test_ping_stats.py tests/test_ping_replay.py ;;
    rawtools/tools/udpcksum/engine.py)
        echo tests/test_udpcksum_engine.py tests/test_frozen_values.py \
             tests/test_udpcksum_replay.py ;;
    rawtools/tools/icmpd/engine.py)
        echo tests/test_icmpd_engine.py tests/test_frozen_values.py tests/test_icmpd_replay.py ;;
    rawtools/tools/inject/engine.py)
        echo tests/test_inject_engine.py tests/test_inject_engine_mutants.py \
             tests/test_frozen_values.py ;;
    rawtools/engine.py)
        echo tests/test_frozen_values.py tests/test_contract.py tests/test_ping_engine.py \
             tests/test_trace_engine.py ;;
    rawtools/io/privileges.py) echo tests/test_privileges.py ;;
    *) echo $WIRE_TESTS tests/test_trace_engine.py tests/test_ping_engine.py ;;
    esac
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(all)
files=()
for t in "${targets[@]}"; do
    case $t in
    all) files+=(rawtools/wire/[a-z]*.py rawtools/tools/*/engine.py rawtools/tools/trace/mda.py
                 rawtools/engine.py rawtools/io/privileges.py) ;;
    wire) files+=(rawtools/wire/[a-z]*.py) ;;
    engines) files+=(rawtools/tools/*/engine.py rawtools/tools/trace/mda.py rawtools/engine.py) ;;
    privileges) files+=(rawtools/io/privileges.py) ;;
    rawtools/*.py) [ -f "$t" ] || { echo "mutation.sh: no file $t" >&2; exit 2; }
                   files+=("$t") ;;
    *) echo "mutation.sh: unknown target $t (wire, engines, privileges, all or rawtools/...py)" >&2
       exit 2 ;;
    esac
done

mkdir -p "$OUT"
echo "== mutating ${#files[@]} files, $jobs at a time; reports in $OUT" >&2
for f in "${files[@]}"; do
    printf '%s\0%s\0' "$f" "$(tests_for "$f" | tr '\n' ' ')"
done | xargs -0 -n 2 -P "$jobs" bash "$0" --one

# Totals per group, then every survivor, from the per-file reports.
"$ROOT/.venv/bin/python" - "$OUT" "${files[@]}" <<'EOF'
import pathlib
import sys

out, files = pathlib.Path(sys.argv[1]), sys.argv[2:]
groups: dict[str, list[int]] = {}
survivors = []
for f in files:
    lines = (out / (f.replace("/", "_") + ".txt")).read_text().splitlines()
    _, killed, tested = lines[0].split()
    group = ("wire" if f.startswith("rawtools/wire/") else
             "engines" if f.endswith(("engine.py", "mda.py")) else f)
    g = groups.setdefault(group, [0, 0])
    g[0] += int(killed)
    g[1] += int(tested)
    print(f"{f}: {killed}/{tested}")
    survivors += [f"{f}{s}" for s in lines[1:]]
for group, (killed, tested) in groups.items():
    share = f" = {100 * killed / tested:.1f}%" if tested else ""
    print(f"{group}: {killed}/{tested} mutants killed{share}")
print("\n".join(survivors))
EOF
