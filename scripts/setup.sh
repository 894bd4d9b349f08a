#!/usr/bin/env bash
# Install everything rawtools, its tests and its demo need, on a fresh machine:
# Debian packages (peers to compare with, nftables for the lab), a virtual
# environment in .venv with rawtools and its test extras. Safe to run again:
# it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS="iputils-ping traceroute mtr-tiny tcpdump tshark fping nftables ethtool iproute2 util-linux tcpreplay linux-libc-dev netbase zsh jq"
missing=""
for p in $DEBS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages (install them as root):$missing" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import rawtools, pcapy, dpkt, netifaces, pytest, hypothesis, jsonschema" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.rawtools-installed ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.rawtools-installed
fi
