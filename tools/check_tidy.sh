#!/bin/bash
# Static analysis: runs clang-tidy-19 (clang's static analyzer and the bug-prone checks chosen in
# .clang-tidy) over every C source Bazel compiles, host and kernel, with the exact flags Bazel uses
# (compile_commands.json from tools/compile_commands.sh). Any finding fails. Run from anywhere in
# the checkout.
set -euo pipefail

source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools CLANG_TIDY GIT PYTHON

root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
tools/compile_commands.sh >/dev/null
# The sources, one a line: a failure to list them stops the script here (set -e), and none listed
# means compile_commands.json went wrong, not that there is nothing to check.
listing=$("$PYTHON" -c '
import json
for file in sorted({entry["file"] for entry in json.load(open("compile_commands.json"))}):
    print(file)
')
if [ -z "$listing" ]; then
  echo "check_tidy: FAIL: compile_commands.json in $root lists no sources" >&2
  exit 1
fi
mapfile -t sources <<<"$listing"

echo "check_tidy: ${#sources[@]} sources"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The sources are named relative to Bazel's execution root, where .clang-tidy is not visible:
# name the configuration explicitly.
if ! printf '%s\0' "${sources[@]}" |
  xargs -0 -P "$(nproc)" -n 4 "$CLANG_TIDY" -p . --quiet --config-file=.clang-tidy >"$log" 2>/dev/null; then
  grep -E "(warning|error):" "$log" | sort -u >&2 || true
  echo "check_tidy: FAIL: findings above" >&2
  exit 1
fi
echo "check_tidy: ok: no findings"
