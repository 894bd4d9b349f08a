#!/usr/bin/env bash
# The whole test suite: lint and type checks, then unit, replay and lab tests. Lab tests need
# root (network namespaces); run as root they all run, none skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check rawtools tests scripts
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
