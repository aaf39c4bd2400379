#!/bin/bash
# Static analysis: runs clang-tidy (CLANG_TIDY: clang's static analyzer and the bug-prone checks
# chosen in .clang-tidy) over every C source Bazel compiles, host and kernel, with the exact flags Bazel uses
# (compile_commands.json from tools/compile_commands.sh). Any finding fails, printed once; so does
# clang-tidy failing without one (a configuration it cannot read, a crash), printing what it said.
# Run from anywhere in the checkout.
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
log=$(mktemp) errors=$(mktemp)
trap 'rm -f "$log" "$errors"' EXIT
# The sources are named relative to Bazel's execution root, where .clang-tidy is not visible:
# name the configuration explicitly. Findings go to stdout ($log); clang-tidy's progress, its
# counts and why it could not run (a bad configuration, a crash), and xargs' own messages, go to
# stderr ($errors).
status=0
printf '%s\0' "${sources[@]}" |
  xargs -0 -P "$(nproc)" -n 4 "$CLANG_TIDY" -p . --quiet --config-file=.clang-tidy \
    >"$log" 2>"$errors" || status=$?
if [ "$status" -eq 0 ]; then
  echo "check_tidy: ok: no findings"
  exit 0
fi
findings=$(grep -E "(warning|error):" "$log" | sort -u || true)
# What stderr holds besides the lines every run prints (progress, counts, the files with a
# finding): at most its last 40 lines.
routine='^(\[[0-9]+/[0-9]+\] Processing file .*'
routine+='|[0-9]+ (warning|error)s?( and [0-9]+ (warning|error)s?)? generated\.'
routine+='|Error while processing .*\.|Suppressed [0-9]+ warnings.*|Use -header-filter=.*)$'
other=$(grep -vE "$routine" "$errors" | tail -n 40 || true)
[ -z "$findings" ] || printf '%s\n' "$findings" >&2
[ -z "$other" ] || printf '%s\n' "clang-tidy's stderr, progress and counts left out (last 40 lines):" "$other" >&2
if [ -n "$findings" ]; then
  echo "check_tidy: FAIL: findings above" >&2
elif [ -n "$other" ]; then
  echo "check_tidy: FAIL: clang-tidy failed (xargs: exit $status) without a finding: its messages above" >&2
elif output=$(cat "$log" "$errors" | tail -n 40) && [ -n "$output" ]; then
  printf '%s\n' "clang-tidy's output (last 40 lines):" "$output" >&2
  echo "check_tidy: FAIL: clang-tidy failed (xargs: exit $status) without a finding: its output above" >&2
else
  echo "check_tidy: FAIL: clang-tidy failed (xargs: exit $status) without a finding, printing nothing" >&2
fi
exit 1
