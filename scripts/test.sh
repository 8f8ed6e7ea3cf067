#!/usr/bin/env bash
# Set up and run the whole test suite: lint, unit, callback and browser tests.
# Browser tests need Debian's chromium and chromium-driver, the store tests a PostgreSQL
# server (Debian's postgresql), the worker tests a Redis server (Debian's redis-server):
# the tests start their own in a temporary folder. They are installed here when missing
# (as root, or through sudo). A missing one fails the run.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# Debian packages the tests need: the browser and its driver, Node.js for the local
# OpenID provider of the single sign-on tests, PostgreSQL's server binaries
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
command -v chromedriver >/dev/null 2>&1 || MISSING="$MISSING chromium-driver"
command -v node >/dev/null 2>&1 || MISSING="$MISSING nodejs"
command -v npm >/dev/null 2>&1 || MISSING="$MISSING npm"
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || MISSING="$MISSING postgresql"
command -v redis-server >/dev/null 2>&1 || MISSING="$MISSING redis-server"
# the briefs: PDF text and pages for their tests (poppler-utils), their font
command -v pdftotext >/dev/null 2>&1 || MISSING="$MISSING poppler-utils"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || MISSING="$MISSING fonts-dejavu-core"
if [ -n "$MISSING" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING
fi
chromium --version 2>/dev/null | head -1
chromedriver --version | head -1
ls -d /usr/lib/postgresql/*/bin | tail -1
redis-server --version

"$ROOT/scripts/setup.sh" requirements-dev.txt
# the OpenID provider the single sign-on tests start, from its lock file (again when it changes)
OIDC="$ROOT/tests/oidc_provider"
if [ ! "$OIDC/node_modules/.package-lock.json" -nt "$OIDC/package-lock.json" ]; then
  npm ci --prefix "$OIDC" --no-audit --no-fund --loglevel=error
fi
.venv/bin/ruff check .
.venv/bin/python -m pytest --headless "$@"
