#!/usr/bin/env bash
# Mutation score of the fast tests (issue 14): mutmut 2 changes the code one small
# thing at a time (an operator, a constant, a comparison) and runs the tests that
# concern it; a mutant the tests still pass "survived" and shows where they are blind.
#
#   bash scripts/mutation.sh [TARGET ...]
#
# TARGET: wire (rawtools/wire/), engines (rawtools/tools/*/engine.py), privileges
# (rawtools/io/privileges.py), or one file under rawtools/; default: wire.
# It takes long (seconds a mutant, thousands of mutants for all of wire/ on two
# cores): a script to run by hand, not part of CI. mutmut is installed into .venv
# here, not as a test dependency. The mutants are made in a scratch copy of the
# tree, so the worktree is never touched, and lab tests never run (-m "not lab").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ -x .venv/bin/python ] || bash scripts/setup.sh
# mutmut 2: it runs any test command on mutants written in place (in the copy);
# mutmut 3's own test runner finds no test for any mutant in this layout.
[ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mutmut"))' \
    2>/dev/null)" = 2.5.1 ] || .venv/bin/python -m pip install -q "mutmut==2.5.1"

WIRE_TESTS="tests/test_wire_icmp.py tests/test_wire_checksum.py tests/test_wire_ethernet.py
  tests/test_wire_udperror.py tests/test_link.py tests/test_trace_probes.py
  tests/test_trace_icmpext.py tests/test_udpcksum_wire.py tests/test_icmpd_protocol.py
  tests/test_icmpd_engine.py"
ENGINE_TESTS="tests/test_trace_engine.py tests/test_ping_engine.py tests/test_ping_stats.py
  tests/test_udpcksum_engine.py tests/test_icmpd_engine.py tests/test_inject_engine.py
  tests/test_trace_replay.py tests/test_ping_replay.py tests/test_udpcksum_replay.py"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire)
for t in "${targets[@]}"; do
    case $t in
    wire) paths=rawtools/wire/ tests=$WIRE_TESTS ;;
    engines) paths=$(ls rawtools/tools/*/engine.py | paste -sd,) tests=$ENGINE_TESTS ;;
    privileges) paths=rawtools/io/privileges.py
                tests="tests/test_ping_cli.py tests/test_ping_replay.py" ;;
    rawtools/wire/*.py) paths=$t tests=$WIRE_TESTS ;;
    rawtools/*.py) paths=$t tests="$WIRE_TESTS $ENGINE_TESTS" ;;
    *) echo "mutation.sh: unknown target $t (wire, engines, privileges or rawtools/...py)" >&2
       exit 2 ;;
    esac
    work=$(mktemp -d)
    git ls-files -z | xargs -0 cp --parents -t "$work"
    echo "== $t: mutating $paths in $work (mutmut show ID there gives a survivor's diff)" >&2
    (
        cd "$work"
        # The copy is what the tests import (PYTHONPATH first), not the editable install.
        export PYTHONPATH=$work
        # shellcheck disable=SC2086  # $tests is a list of paths
        "$ROOT/.venv/bin/mutmut" run --paths-to-mutate "$paths" --tests-dir tests \
            --runner "$ROOT/.venv/bin/python -m pytest -x -q -p no:cacheprovider -m 'not lab' $(echo $tests)" \
            --no-progress >/dev/null 2>&1 || true   # its exit code is a bit mask of outcomes
        "$ROOT/.venv/bin/python" - "$t" <<'EOF'
import sqlite3
import sys

rows = sqlite3.connect(".mutmut-cache").execute(
    "SELECT m.id, m.status, l.line_number, l.line FROM Mutant m JOIN Line l ON m.line = l.id"
    " ORDER BY m.id").fetchall()
killed = sum(1 for _, st, _, _ in rows if st in ("ok_killed", "bad_timeout"))
survived = [(i, n, line) for i, st, n, line in rows if st in ("bad_survived", "ok_suspicious")]
tested = killed + len(survived)
print(f"{sys.argv[1]}: {killed}/{tested} mutants killed"
      + (f" = {100 * killed / tested:.1f}%" if tested else ""))
for i, n, line in survived:
    print(f"  survived #{i} (line {n + 1}): {line.strip()}")
EOF
    )
done
