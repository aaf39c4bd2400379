#!/bin/bash
# Tests tools/check_tidy.sh, the static analysis CI runs, on a throwaway git checkout holding the
# script and the project's .clang-tidy: it passes clean sources, and fails, naming file, line and
# check, on a bug-prone pattern and on a static analyzer finding that .clang-tidy enables; it
# fails showing clang-tidy's error when clang-tidy fails without a finding (a configuration it
# cannot read), and when compile_commands.json cannot be written rather than reading a stale one.
# tools/compile_commands.sh needs a Bazel build of the workspace, so the checkout has a stand-in
# that writes compile_commands.json as it does: the sources named relative to an execution root
# outside the checkout (where .clang-tidy is not found by itself), linked to the checkout's files.
#
#   check_tidy_test.sh SHELL_TEST_LIB.sh CHECK_TIDY.sh TOOL_PATHS.sh HOST_TOOLS.bzl
#     CLANG_TIDY_CONFIG
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
checker=$2 tool_paths=$3 definition=$4 clang_tidy_config=$5
# The script reads its tool paths (platforms/host_tools.bzl) through tools/tool_paths.sh beside
# it; the throwaway checkout has no platforms/, so the list is named here.
export TOOL_PATHS_DEFINITION=$definition
# shellcheck source=tools/tool_paths.sh
source "$tool_paths"
# CLANG_TIDY and GIT are SCRIPT_TOOLS, which Bazel does not check when it loads: a missing one
# fails here, once, naming it and tools/setup.sh, rather than in every case below.
require_tools CLANG CLANG_TIDY GIT PYTHON
# The checkout is git's only input: no user or system configuration.
export HOME=$TEST_TMPDIR GIT_CONFIG_NOSYSTEM=1

clean_c='// A sum: nothing for clang-tidy to find.
int sum(int first, int second) {
    return first + second;
}'
# bugprone-infinite-loop: nothing in the body changes the condition.
endless_loop_c='// A count that never ends.
int count(int limit) {
    int counted = 0;
    while (counted < limit) {
    }
    return counted;
}'
# clang-analyzer-core.DivideZero: the analyzer follows the zero into the division.
divide_by_zero_c='// A quotient whose divisor is always zero.
int quotient(int dividend) {
    int divisor = 0;
    return dividend / divisor;
}'

tree=$TEST_TMPDIR/tree
execution_root=$TEST_TMPDIR/execution_root
# A checkout with src/lib.c clean; each case below adds to a fresh copy.
plant_clean_tree() {
  rm -rf "$tree" "$execution_root"
  mkdir -p "$tree/tools" "$tree/src" "$execution_root"
  cp "$checker" "$tree/tools/check_tidy.sh"
  cp "$tool_paths" "$tree/tools/tool_paths.sh"
  cp "$clang_tidy_config" "$tree/.clang-tidy"
  printf '%s\n' "$clean_c" >"$tree/src/lib.c"
  ln -s "$tree/src" "$execution_root/src"
  cat >"$tree/tools/compile_commands.sh" <<SH
#!/bin/bash
# Stand-in for the script that asks Bazel: one entry for each src/*.c, compiled in
# $execution_root.
set -euo pipefail
cd "\$(dirname "\$0")/.."
"$PYTHON" - "$execution_root" "$CLANG" src/*.c >compile_commands.json <<'PYTHON'
import json
import sys

execution_root, compiler, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
json.dump([{"directory": execution_root, "file": source,
            "arguments": [compiler, "-c", source]} for source in sources], sys.stdout)
PYTHON
SH
  chmod +x "$tree/tools/compile_commands.sh"
  "$GIT" -C "$tree" -c init.defaultBranch=main init -q
  "$GIT" -C "$tree" add .
  "$GIT" -C "$tree" -c user.name=test -c user.email=test@localhost commit -q -m "clean tree"
}

# Each case: the script, run in the tree as planted, exits with a status and prints a text
# (within a line).
check=$tree/tools/check_tidy.sh

plant_clean_tree
expect_output "clean sources pass" 0 "check_tidy: ok: no findings" "$check"

plant_clean_tree
printf '%s\n' "$endless_loop_c" >"$tree/src/loop.c"
expect_output "a bug-prone pattern .clang-tidy enables fails" 1 \
  "src/loop.c:4:5: error: this loop is infinite; none of its condition variables (counted, limit) are updated in the loop body [bugprone-infinite-loop,-warnings-as-errors]" \
  "$check"

plant_clean_tree
printf '%s\n' "$divide_by_zero_c" >"$tree/src/divide.c"
expect_output "a static analyzer finding fails" 1 \
  "src/divide.c:4:21: error: Division by zero [clang-analyzer-core.DivideZero,-warnings-as-errors]" \
  "$check"

plant_clean_tree
# A configuration clang-tidy cannot read: it fails without a finding, and says why on stderr.
printf 'Checks: [\n' >"$tree/.clang-tidy"
expect_output "a clang-tidy failure without a finding shows clang-tidy's error" 1 \
  "Error: invalid configuration specified." "$check"

plant_clean_tree
# A compile_commands.json left by an earlier run, and a stand-in that now fails as Bazel would.
"$tree/tools/compile_commands.sh"
printf '#!/bin/bash\necho "compile_commands: bazel aquery failed" >&2\nexit 1\n' \
  >"$tree/tools/compile_commands.sh"
expect_output "a compile_commands.json that cannot be written fails" 1 \
  "compile_commands: bazel aquery failed" "$check"

exit_with_summary
