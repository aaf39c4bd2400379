#!/bin/bash
# Checks that the kernel ELF (default and -c opt) and the ISO are bit-identical when built from two
# copies of the sources at different paths, in two fresh Bazel output bases, and that none of them
# holds today's date or a path of the build. Prints each file's sha256 and exits 1 naming every
# file that differs or holds one. Run from anywhere inside the checkout.
set -euo pipefail
source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL GIT
# dates and check_copies: what the script decides, tested by //tools:check_reproducible_test.
source "$(dirname "$0")/check_reproducible_lib.sh"

# Each build: a name, its flags, its targets and the outputs compared (below bazel-bin).
BUILD_NAMES=(default opt)
BUILD_FLAGS_default=()
BUILD_TARGETS_default=(//kernel:kernel //kernel:iso)
BUILD_OUTPUTS_default=(kernel/kernel.elf kernel/iso.iso)
BUILD_FLAGS_opt=(--compilation_mode=opt)
BUILD_TARGETS_opt=(//kernel:kernel)
BUILD_OUTPUTS_opt=(kernel/kernel.elf)
# A disk or remote cache in a user's or the system's bazelrc would hand the second build the first
# one's outputs, and the check would compare a file with itself: both builds run every action.
NO_CACHE_FLAGS=(--disk_cache= --remote_cache=)

source_root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/heapkernel-repro.XXXXXX")
trap 'for ob in "$work"/output_base_*; do "$BAZEL" --output_base="$ob" shutdown 2>/dev/null || true; done; rm -rf "$work"' EXIT

dates_before=$(dates)

# Two different depths and names, so no path can hide in an output by coincidence.
checkouts=("$work/a/heapkernel" "$work/bb/other/place/kernel-src")
for index in 0 1; do
  checkout=${checkouts[$index]}
  "$source_root/tools/copy_worktree.sh" "$checkout"
  for name in "${BUILD_NAMES[@]}"; do
    flags=BUILD_FLAGS_$name[@] targets=BUILD_TARGETS_$name[@] outputs=BUILD_OUTPUTS_$name[@]
    echo "reproducible: building $name in $checkout"
    (cd "$checkout" && "$BAZEL" --output_base="$work/output_base_$index" build --noshow_progress \
      "${NO_CACHE_FLAGS[@]}" "${!flags}" "${!targets}" >"$work/build_$index.log" 2>&1) || {
      cat "$work/build_$index.log" >&2
      exit 1
    }
    bin=$(cd "$checkout" && "$BAZEL" --output_base="$work/output_base_$index" info "${!flags}" \
      bazel-bin 2>/dev/null)
    for output in "${!outputs}"; do
      mkdir -p "$work/out_$index/$name/$(dirname "$output")"
      cp "$bin/$output" "$work/out_$index/$name/$output"
    done
  done
done
# Before and after the builds, in case midnight passed meanwhile.
mapfile -t date_texts < <({ printf '%s\n' "$dates_before"; dates; } | sort -u)

status=0
for name in "${BUILD_NAMES[@]}"; do
  outputs=BUILD_OUTPUTS_$name[@]
  for output in "${!outputs}"; do
    check_copies "$output ($name)" "$work/out_0/$name/$output" "$work/out_1/$name/$output" \
      "${checkouts[@]}" "${date_texts[@]}" "$work" || status=1
  done
done
exit $status
