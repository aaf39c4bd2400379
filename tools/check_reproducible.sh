#!/bin/bash
# Checks that the kernel ELF and the ISO are bit-identical when built from two copies of the
# sources at different paths, in two fresh Bazel output bases. Prints each file's sha256 and
# exits 1 naming every file that differs. Run from anywhere inside the checkout.
set -euo pipefail
source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL GIT

TARGETS=(//kernel:kernel //kernel:iso)
OUTPUTS=(kernel/kernel.elf kernel/iso.iso)

source_root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d /tmp/heapkernel-repro.XXXXXX)
trap 'for ob in "$work"/output_base_*; do "$BAZEL" --output_base="$ob" shutdown 2>/dev/null || true; done; rm -rf "$work"' EXIT

# Two different depths and names, so no path can hide in an output by coincidence.
checkouts=("$work/a/heapkernel" "$work/bb/other/place/kernel-src")
for index in 0 1; do
  checkout=${checkouts[$index]}
  "$source_root/tools/copy_worktree.sh" "$checkout"
  echo "reproducible: building in $checkout"
  (cd "$checkout" && "$BAZEL" --output_base="$work/output_base_$index" build --noshow_progress \
    "${TARGETS[@]}" >"$work/build_$index.log" 2>&1) || {
    cat "$work/build_$index.log" >&2
    exit 1
  }
  bin=$(cd "$checkout" && "$BAZEL" --output_base="$work/output_base_$index" info bazel-bin 2>/dev/null)
  for output in "${OUTPUTS[@]}"; do
    mkdir -p "$work/out_$index/$(dirname "$output")"
    cp "$bin/$output" "$work/out_$index/$output"
  done
done

status=0
for output in "${OUTPUTS[@]}"; do
  first=$(sha256sum "$work/out_0/$output" | cut -d' ' -f1)
  second=$(sha256sum "$work/out_1/$output" | cut -d' ' -f1)
  if [ "$first" = "$second" ]; then
    echo "reproducible: $output $first (identical)"
  else
    echo "reproducible: DIFFERS: $output $first vs $second" >&2
    cmp -l "$work/out_0/$output" "$work/out_1/$output" | head -5 >&2 || true
    status=1
  fi
done
exit $status
