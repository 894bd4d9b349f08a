#!/usr/bin/env bash
# Every tool's --json is JSON lines; jq picks what a report needs.
#   sudo bash scripts/examples/json_jq.sh 198.18.3.2
set -euo pipefail
host=${1:?usage: json_jq.sh HOST}
rawtools=${RAWTOOLS:-rawtools}
# The average RTT, from ping's summary line (the last one).
$rawtools ping -c 3 -i 0.2 --json "$host" | jq -r 'select(.type == "summary") | .targets[0].avg_ms'
# Each hop's address, from trace's hop lines ("*" for a silent hop).
$rawtools trace -n -q 1 --json "$host" | jq -r 'select(.type == "hop") | "\(.ttl) \(.probes[0].addr // "*")"'
