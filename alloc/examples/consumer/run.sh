#!/bin/bash
# Proves that //alloc:alloc can be reused by another Bazel workspace: instantiates the consumer
# workspace (WORKSPACE.in, BUILD.in, consumer.c) in a scratch directory with local_repository
# pointing at this checkout, builds and runs its host program with Bazel, and checks that it
# printed "consumer: ok". Exits 0 on success.
#
# The consumer uses Bazel's auto-configured C toolchain (the pinned clang via CC), as an unrelated
# project would, not heapkernel's platforms. Its output base is its own
# (CONSUMER_OUTPUT_BASE, default ~/.cache/bazel_consumer_alloc), so it never waits on another
# Bazel server.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
source "$repo/tools/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL CLANG
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed "s|@REPO@|$repo|g" "$here/WORKSPACE.in" >"$work/WORKSPACE"
cp "$here/BUILD.in" "$work/BUILD.bazel"
cp "$here/consumer.c" "$work/consumer.c"
# Debian's /etc/bazel/bazelrc keeps sandboxes around; the consumer is built with the pinned clang.
cat >"$work/.bazelrc" <<RC
build --nosandbox_debug
build --repo_env=CC=$CLANG
RC

output_base=${CONSUMER_OUTPUT_BASE:-$HOME/.cache/bazel_consumer_alloc}
cd "$work"
status=0
output=$("$BAZEL" --output_base="$output_base" run --symlink_prefix=/ //:consumer 2>&1) || status=$?
"$BAZEL" --output_base="$output_base" shutdown >/dev/null 2>&1 || true
echo "$output" | grep -E "^consumer:" || true
if [ "$status" -ne 0 ] || ! echo "$output" | grep -qx "consumer: ok"; then
  echo "$output" | tail -20 >&2
  echo "consumer workspace: FAIL" >&2
  exit 1
fi
echo "consumer workspace: ok"
