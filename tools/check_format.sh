#!/bin/bash
# Checks that every C source and header is clang-format clean (the repository's .clang-format) and
# that every BUILD.bazel, *.bzl and WORKSPACE file passes buildifier's formatting and lint checks:
# the files git tracks, and new ones it does not ignore (so a check before a commit sees them).
# Prints each offending file with what is wrong and exits 1; exits 0 when everything is clean. Run
# from anywhere inside the checkout.
#
#   tools/check_format.sh          check only (CI)
#   tools/check_format.sh --fix    format the files in place (clang-format -i, buildifier
#                                  -lint=fix), then check again: lint findings buildifier cannot
#                                  fix by itself are listed and make the run fail
set -euo pipefail

source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools CLANG_FORMAT BUILDIFIER GIT

# Lint warnings switched off, each because its advice cannot be followed in this workspace.
#
# native-*: buildifier 8 asks for cc_*, sh_*, py_*, java_* and cc_common/CcInfo to be loaded from
# @rules_cc's per-rule files, @rules_shell, @rules_python and @rules_java. Those repositories (at
# the versions that have those files) need a newer Bazel and the network; Bazel 4.2.3 has these
# rules built in, and third_party/ re-exports them offline (see third_party/README.md).
DISABLED_WARNINGS=(
  native-cc-binary
  native-cc-common
  native-cc-import
  native-cc-info
  native-cc-library
  native-cc-proto
  native-cc-shared-library
  native-cc-test
  native-cc-toolchain
  native-cc-toolchain-suite
  native-java-binary
  native-java-common
  native-java-import
  native-java-info
  native-java-library
  native-java-plugin
  native-java-runtime
  native-java-test
  native-java-toolchain
  native-proto
  native-py
  native-sh-binary
  native-sh-library
  native-sh-test
)

usage() {
  echo "usage: $0 [--fix]" >&2
  exit 2
}

fix=false
case "$#:${1:-}" in
  0:) ;;
  1:--fix) fix=true ;;
  *) usage ;;
esac

root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
if [ ! -f .clang-format ]; then
  echo "check_format: $root/.clang-format is missing" >&2
  exit 1
fi

warnings=$(printf -- '-%s,' "${DISABLED_WARNINGS[@]}")
warnings=${warnings%,}
buildifier_lint=(-lint=warn "-warnings=$warnings")
# A .buildifier.json somewhere must not change what CI checks: the flags here are the whole rule.
buildifier_common=(-config=off)

# A file deleted but not yet staged is still listed: only existing ones are checked.
existing() {
  while IFS= read -r -d '' file; do
    if [ -f "$file" ]; then printf '%s\0' "$file"; fi
  done
}
mapfile -d '' c_files < <("$GIT" ls-files -z --cached --others --exclude-standard -- '*.c' '*.h' |
  existing)
mapfile -d '' starlark_files < <("$GIT" ls-files -z --cached --others --exclude-standard |
  existing | grep -zE '(^|/)(BUILD|BUILD\.bazel|WORKSPACE|WORKSPACE\.bazel)$|\.bzl$' || true)
# The checkout has both kinds: none found means the listing went wrong, not that all is clean.
if [ ${#c_files[@]} -eq 0 ] || [ ${#starlark_files[@]} -eq 0 ]; then
  echo "check_format: FAIL: found ${#c_files[@]} C and ${#starlark_files[@]} Starlark files in $root" >&2
  exit 1
fi

if $fix; then
  "$CLANG_FORMAT" -i --style=file -- "${c_files[@]}"
  # Lint findings without an automatic fix are reported by the check below.
  "$BUILDIFIER" "${buildifier_common[@]}" -mode=fix -lint=fix "-warnings=$warnings" \
    -- "${starlark_files[@]}" >/dev/null 2>&1 || true
  echo "check_format: formatted ${#c_files[@]} C files and ${#starlark_files[@]} Starlark files; checking again"
fi

failed=()

for file in "${c_files[@]}"; do
  if ! "$CLANG_FORMAT" --dry-run --Werror --style=file -- "$file" >/dev/null 2>&1; then
    lines=$("$CLANG_FORMAT" --dry-run --style=file -- "$file" 2>&1 |
      sed -nE 's/^[^:]+:([0-9]+):[0-9]+: (error|warning): code should be clang-formatted.*/\1/p' |
      sort -nu | sed -n 1,10p | paste -sd, -) # sed, not head: reads all, so no SIGPIPE under pipefail
    echo "check_format: $file: not clang-format clean (lines ${lines:-?})"
    failed+=("$file")
  fi
done

for file in "${starlark_files[@]}"; do
  if ! output=$("$BUILDIFIER" "${buildifier_common[@]}" -mode=check "${buildifier_lint[@]}" \
    -- "$file" 2>&1); then
    echo "check_format: $file: buildifier:"
    # "FILE # reformat" means the formatting differs; other lines are lint warnings.
    printf '%s\n' "$output" | grep -v '^To disable the warning' | sed -e 's/^/    /'
    failed+=("$file")
  fi
done

total=$((${#c_files[@]} + ${#starlark_files[@]}))
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "check_format: FAIL: ${#failed[@]} of $total files need attention:"
  printf '    %s\n' "${failed[@]}"
  if ! $fix; then
    echo "check_format: tools/check_format.sh --fix formats them in place (lint findings may need a hand)"
  fi
  exit 1
fi
echo "check_format: OK: ${#c_files[@]} C files clang-format clean, ${#starlark_files[@]} Starlark files buildifier clean"
