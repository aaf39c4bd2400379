#!/bin/bash
# Tests tools/check_format.sh, the formatting check CI runs, on a throwaway git checkout holding the
# script, the project's .clang-format, one C file and one BUILD.bazel: it passes the clean tree,
# and fails, naming the file, on a misformatted C file (tracked, or new and not yet added; one
# misformatted on 20,000 lines too), on a BUILD.bazel that buildifier would reformat or that has a
# lint finding, and on a tree without C or without Starlark files (a listing gone wrong must not
# pass as "all clean"). A misformatted file that .gitignore ignores is left alone, and --fix
# rewrites a misformatted file and passes.
#
#   check_format_test.sh SHELL_TEST_LIB.sh CHECK_FORMAT.sh TOOL_PATHS.sh HOST_TOOLS.bzl
#     CLANG_FORMAT_CONFIG
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
checker=$2 tool_paths=$3 definition=$4 clang_format_config=$5
# The script reads its tool paths (platforms/host_tools.bzl) through tools/tool_paths.sh beside
# it; the throwaway checkout has no platforms/, so the list is named here.
export TOOL_PATHS_DEFINITION=$definition
# shellcheck source=tools/tool_paths.sh
source "$tool_paths"
require_tools GIT
# The checkouts are git's only input: no user or system configuration.
export HOME=$TEST_TMPDIR GIT_CONFIG_NOSYSTEM=1

# The same function, as .clang-format wants it and on one line, which .clang-format does not allow.
clean_c='// The answer.
int answer(void) {
    return 42;
}'
misformatted_c='// The answer.
int answer(void) { return 42; }'
clean_build='# One library of one C file.
cc_library(
    name = "lib",
    srcs = ["lib.c"],
)'

tree=$TEST_TMPDIR/tree
# A committed checkout that passes; each case below changes a fresh copy.
plant_clean_tree() {
  rm -rf "$tree"
  mkdir -p "$tree/tools"
  cp "$checker" "$tree/tools/check_format.sh"
  cp "$tool_paths" "$tree/tools/tool_paths.sh"
  cp "$clang_format_config" "$tree/.clang-format"
  printf '%s\n' "$clean_c" >"$tree/lib.c"
  printf '%s\n' "$clean_build" >"$tree/BUILD.bazel"
  "$GIT" -C "$tree" -c init.defaultBranch=main init -q
  "$GIT" -C "$tree" add .
  "$GIT" -C "$tree" -c user.name=test -c user.email=test@localhost commit -q -m "clean tree"
}

# Each case: the script, run in the tree as planted, exits with a status and prints a line.
check=$tree/tools/check_format.sh

plant_clean_tree
expect_output -x "a clean tree passes" 0 \
  "check_format: OK: 1 C files clang-format clean, 1 Starlark files buildifier clean" "$check"

plant_clean_tree
printf '%s\n' "$misformatted_c" >"$tree/lib.c"
expect_output -x "a misformatted tracked C file fails" 1 \
  "check_format: lib.c: not clang-format clean (lines 2)" "$check"

# Misformatted on 20,000 lines: the first ten are named, and the list's pipe, cut short by what
# takes the first ten, must not end the script (pipefail) before it says which file.
plant_clean_tree
for i in $(seq 20000); do echo "int   x$i ;"; done >"$tree/lib.c"
expect_output -x "a C file misformatted on many lines fails, its first lines named" 1 \
  "check_format: lib.c: not clang-format clean (lines 1,2,3,4,5,6,7,8,9,10)" "$check"

plant_clean_tree
printf '%s\n' "$misformatted_c" >"$tree/new.c"
expect_output -x "a misformatted C file git does not track yet fails" 1 \
  "check_format: new.c: not clang-format clean (lines 2)" "$check"

plant_clean_tree
printf '%s\n' "$misformatted_c" >"$tree/generated.c"
echo "generated.c" >"$tree/.gitignore"
expect_output -x "a misformatted C file .gitignore ignores is not checked" 0 \
  "check_format: OK: 1 C files clang-format clean, 1 Starlark files buildifier clean" "$check"

plant_clean_tree
echo 'cc_library(name="lib",srcs=["lib.c"])' >"$tree/BUILD.bazel"
expect_output -x "a BUILD.bazel buildifier would reformat fails" 1 "    BUILD.bazel # reformat" \
  "$check"

plant_clean_tree
printf '%s\n\n%s\n' 'load(":defs.bzl", "unused")' "$clean_build" >"$tree/BUILD.bazel"
expect_output -x "a BUILD.bazel with a lint finding fails" 1 \
  '    BUILD.bazel:1: load: Loaded symbol "unused" is unused. Please remove it.' "$check"

plant_clean_tree
printf '%s\n' "$misformatted_c" >"$tree/lib.c"
failures_before=$failures
expect_output -x "--fix formats a misformatted C file and passes" 0 \
  "check_format: OK: 1 C files clang-format clean, 1 Starlark files buildifier clean" \
  "$check" --fix
# lib.c is read only after a run that passed: a run that failed has been reported already.
if [ "$failures" -eq "$failures_before" ] && [ "$(cat "$tree/lib.c")" != "$clean_c" ]; then
  fail "--fix left lib.c as:"
  sed 's/^/    /' "$tree/lib.c"
fi

plant_clean_tree
"$GIT" -C "$tree" rm -q lib.c
expect_output -x "a tree without C files fails" 1 \
  "check_format: FAIL: found 0 C and 1 Starlark files in $tree" "$check"

plant_clean_tree
"$GIT" -C "$tree" rm -q BUILD.bazel
expect_output -x "a tree without Starlark files fails" 1 \
  "check_format: FAIL: found 1 C and 0 Starlark files in $tree" "$check"

exit_with_summary
