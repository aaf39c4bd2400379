#!/bin/bash
# Checks the build's answer to a missing pinned tool: in a copy of the checkout whose pin list
# names a tool that does not exist, `bazel build //kernel:kernel` must fail at once, naming the
# tool, its Debian package and tools/setup.sh. Run from anywhere inside the checkout.
set -euo pipefail
source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL GIT

source_root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/heapkernel-missing-tool.XXXXXX")
trap '"$BAZEL" --output_base="$work/output_base" shutdown 2>/dev/null || true; rm -rf "$work"' EXIT

# The assembler's entry, pointed at a file that does not exist.
missing="$NASM-not-installed"
"$source_root/tools/copy_worktree.sh" "$work/checkout"
sed -i "s|\"NASM\": (\"$NASM\",|\"NASM\": (\"$missing\",|" "$work/checkout/platforms/host_tools.bzl"
grep -qF "\"$missing\"" "$work/checkout/platforms/host_tools.bzl" ||
  { echo "missing_tool: could not plant the missing tool" >&2; exit 1; }

if (cd "$work/checkout" && "$BAZEL" --output_base="$work/output_base" build //kernel:kernel \
  >"$work/log" 2>&1); then
  echo "missing_tool: FAIL: the build succeeded without $missing" >&2
  exit 1
fi
for expected in "pinned build tools are missing" "$missing (Debian package $(tool_package NASM))" \
  "run tools/setup.sh"; do
  if ! grep -qF "$expected" "$work/log"; then
    echo "missing_tool: FAIL: the error does not say \"$expected\":" >&2
    cat "$work/log" >&2
    exit 1
  fi
done
echo "missing_tool: ok: the build stopped with:"
grep -m1 -A2 "pinned build tools are missing" "$work/log" | sed "s/^/  /"
