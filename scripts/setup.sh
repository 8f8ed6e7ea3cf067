#!/usr/bin/env bash
# Create the project's virtual environment (.venv) and install pinned requirements.
# Usage: scripts/setup.sh [requirements file]   (default: requirements.txt)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQS=${1:-requirements.txt}
PYTHON=${PYTHON:-python3}
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQS"
