#!/usr/bin/env bash
# Mutation score of the fast tests (issue 14): mutmut (PyPI, installed here into .venv,
# not a test dependency) mutates the code one change at a time and runs the tests
# that concern it; a mutant the tests still pass "survived".
#
#   bash scripts/mutation.sh [TARGET ...]
#
# TARGET: wire (rawtools/wire/), engines (rawtools/tools/*/engine.py), privileges
# (rawtools/io/privileges.py), or a path under rawtools/; default: all three.
# MUTATION_JOBS (default 2) mutants run at a time. Lab tests never run (-m "not lab").
# It is slow (tens of minutes for wire/ on two cores): a script to run, not CI.
#
# The work happens in a scratch copy (.mutation/, ignored by git): mutmut writes its
# mutants/ tree beside the sources, and the worktree stays as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
[ -x "$VENV/bin/python" ] || bash scripts/setup.sh
"$VENV/bin/python" -m pip show -q mutmut >/dev/null 2>&1 ||
    "$VENV/bin/python" -m pip install -q "mutmut>=3.3"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire engines privileges)

only=()     # mutmut's only_mutate globs
tests=()    # the fast tests that concern them
for t in "${targets[@]}"; do
    case $t in
    wire)
        only+=("rawtools/wire/*")
        tests+=(tests/test_wire_icmp.py tests/test_wire_checksum.py tests/test_wire_ethernet.py
                tests/test_wire_udperror.py tests/test_link.py tests/test_trace_probes.py
                tests/test_trace_icmpext.py tests/test_udpcksum_wire.py
                tests/test_icmpd_protocol.py tests/test_trace_engine.py
                tests/test_ping_engine.py tests/test_udpcksum_engine.py
                tests/test_icmpd_engine.py tests/test_inject_engine.py) ;;
    engines)
        only+=("rawtools/tools/*/engine.py")
        tests+=(tests/test_trace_engine.py tests/test_ping_engine.py
                tests/test_udpcksum_engine.py tests/test_icmpd_engine.py
                tests/test_inject_engine.py tests/test_trace_replay.py
                tests/test_ping_replay.py tests/test_udpcksum_replay.py
                tests/test_icmpd_replay.py tests/test_contract.py) ;;
    privileges)
        only+=("rawtools/io/privileges.py")
        tests+=(tests/test_ping_cli.py tests/test_trace_replay.py tests/test_ping_replay.py
                tests/test_udpcksum_replay.py tests/test_inject_cli.py) ;;
    rawtools/*)  # one file or folder, with the wire and engine tests
        only+=("$t")
        tests+=(tests/test_wire_*.py tests/test_link.py tests/test_trace_probes.py
                tests/test_trace_icmpext.py tests/test_udpcksum_wire.py
                tests/test_icmpd_protocol.py tests/test_*_engine.py) ;;
    *)
        echo "mutation.sh: unknown target $t (wire, engines, privileges or rawtools/...)" >&2
        exit 2 ;;
    esac
done
mapfile -t tests < <(printf '%s\n' "${tests[@]}" | sort -u)

WORK=$ROOT/.mutation
rm -rf "$WORK"
mkdir -p "$WORK"
cp -a rawtools tests captures "$WORK"/
# No [tool.mutmut] in the copy's pyproject.toml: mutmut then reads setup.cfg.
cp pyproject.toml "$WORK"/
{
    echo "[mutmut]"
    echo "source_paths = ."
    echo "only_mutate ="
    printf '    %s\n' "${only[@]}"
    # One argument a line (mutmut adds -x -q itself).
    printf '%s\n' "pytest_add_cli_args =" "    -p" "    no:cacheprovider" "    -m" "    not lab"
    echo "pytest_add_cli_args_test_selection ="
    printf '    %s\n' "${tests[@]}"
    echo "also_copy ="
    echo "    captures/"
} > "$WORK/setup.cfg"

cd "$WORK"
echo "mutating: ${only[*]}" >&2
echo "tests:    ${tests[*]}" >&2
# The copy must be what the tests import, not the editable install of the worktree:
# mutmut puts its mutants/ first on sys.path.
export PYTHONPATH=$WORK/mutants
"$VENV/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" >"$WORK/run.log" 2>&1 || {
    tail -30 "$WORK/run.log" >&2
    exit 1
}
"$VENV/bin/mutmut" results --all true >"$WORK/results.txt" 2>&1 || true
"$VENV/bin/python" - "$WORK/results.txt" <<'EOF'
import collections
import re
import sys

status = {}
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"\s*(\S+): (\w[\w ]*)$", line.rstrip())
    if m:
        status[m.group(1)] = m.group(2).strip()
counts = collections.Counter(status.values())
killed = counts["killed"] + counts["timeout"]
tested = killed + counts["survived"]
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
if tested:
    print(f"mutation score: {killed}/{tested} killed = {100 * killed / tested:.1f}%")
print("survivors (mutmut show NAME, in .mutation/, for the diff):")
for name, st in sorted(status.items()):
    if st == "survived":
        print("  " + name)
EOF
