#!/bin/bash
# Runs a Python script with Debian's pinned interpreter (the project's Python is stdlib only): a
# test of tools/python_test.bzl, or the program of the sh_binary //tools:record_trace.
#   python_test.sh TOOL_PATHS.sh SCRIPT [ARGS...]   (TOOL_PATHS.sh: @host_tools//:tool_paths.sh)
set -euo pipefail
# shellcheck source=/dev/null
source "$1"
shift
exec "$PYTHON" "$@"
