#!/usr/bin/env bash
# Set up and start the app on the synthetic demo data (created on first run).
# Options are passed to `python -m dashapp serve` (e.g. --port 8060 --lang en).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh" requirements.txt
cd "$ROOT"
exec .venv/bin/python -m dashapp serve "$@"
