#!/bin/bash
# Runs a Python test script with Debian's pinned interpreter (the project's Python is stdlib only).
set -euo pipefail
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || { echo "python_test: $PYTHON not found: run tools/setup.sh" >&2; exit 1; }
exec "$PYTHON" "$@"
