#!/usr/bin/env bash
# The main job: install what is needed, then tour the tools on a namespace lab.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E bash "$0" "$@"
fi
bash scripts/setup.sh
exec .venv/bin/python scripts/demo.py
