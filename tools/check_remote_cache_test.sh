#!/bin/bash
# Tests what tools/check_remote_cache.sh decides from its builds (tools/check_remote_cache_lib.sh),
# on Bazel output written here in the form Bazel 4.2.3 prints it rather than from three clean
# builds against nginx: a failed build fails, naming it and showing its log; the last processes
# line of a log is the one read, and its counts (hits, total, internal, one process) are read
# right; a build reading from the cache passes with hits, and fails without (or without a
# processes line); each warning about the cache is read with its reason.
#
#   check_remote_cache_test.sh SHELL_TEST_LIB.sh CHECK_REMOTE_CACHE_LIB.sh
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
# shellcheck source=tools/check_remote_cache_lib.sh
source "$2"

# whole COMMAND [ARG...]: prints the command's whole output as one line, in brackets, and returns
# its status, so that a case can match all of its output (or none: "[]").
whole() {
  local output status=0
  output=$("$@") || status=$?
  echo "[$output]"
  return $status
}

dir=$TEST_TMPDIR
first='INFO: 982 processes: 485 internal, 497 linux-sandbox.'
from_cache='INFO: 982 processes: 497 remote cache hit, 485 internal.'
cat >"$dir/from_cache.log" <<LOG
INFO: Analyzed 12 targets (51 packages loaded, 1830 targets configured).
INFO: Found 12 targets...
INFO: 3 processes: 3 internal.
INFO: Elapsed time: 41.277s, Critical Path: 6.02s
$from_cache
INFO: Build completed successfully, 982 total actions
LOG
printf 'INFO: Analyzed 1 target.\nINFO: Build completed successfully, 1 total action\n' \
  >"$dir/no_processes.log"
printf 'INFO: Analyzed 1 target.\nINFO: 1 process: 1 remote cache hit.\n' >"$dir/one_process.log"
cat >"$dir/failed.log" <<'LOG'
INFO: Analyzed 1 target (0 packages loaded, 0 targets configured).
ERROR: /src/kernel/BUILD.bazel:12:10: Linking kernel/kernel.elf failed: (Exit 1)
FAILED: Build did NOT complete successfully
LOG
cat >"$dir/cache_down.log" <<'LOG'
WARNING: Reading from Remote Cache:
Connection refused: /127.0.0.1:56503
WARNING: Writing to Remote Cache:
4 errors during bulk transfer
INFO: 982 processes: 485 internal, 497 linux-sandbox.
LOG

expect_output "a build that succeeded passes" 0 "" check_build from_cache 0 "$dir/from_cache.log"
expect_output "a failed build fails, naming it" 1 \
  "check_remote_cache: FAIL: build cache_down failed (status 1); the end of its log:" \
  check_build cache_down 1 "$dir/failed.log"
expect_output -x "a failed build's log is shown" 1 "FAILED: Build did NOT complete successfully" \
  check_build cache_down 1 "$dir/failed.log"

expect_output -x "the last processes line of a log is read" 0 "[$from_cache]" \
  whole processes_line "$dir/from_cache.log"
expect_output -x "a processes line of one process is read" 0 \
  "[INFO: 1 process: 1 remote cache hit.]" whole processes_line "$dir/one_process.log"
expect_output -x "a log without a processes line gives nothing" 0 "[]" \
  whole processes_line "$dir/no_processes.log"
expect_output -x "the hits are counted" 0 "[497]" whole count_of "remote cache hit" "$from_cache"
expect_output -x "a kind after the hits is counted" 0 "[485]" whole count_of internal "$from_cache"
expect_output -x "a line without hits counts 0 of them" 0 "[0]" \
  whole count_of "remote cache hit" "$first"
expect_output -x "one process, a hit, is counted" 0 "[1]" \
  whole count_of "remote cache hit" "INFO: 1 process: 1 remote cache hit."

expect_output -x "a build reading from the cache with hits passes" 0 \
  "check_remote_cache: remote cache hits: 497 of 982 processes (497 not internal to Bazel)" \
  check_hits "$from_cache" "$first"
expect_output -x "a build of one process, a hit, passes" 0 \
  "check_remote_cache: remote cache hits: 1 of 1 processes (1 not internal to Bazel)" \
  check_hits "INFO: 1 process: 1 remote cache hit." "INFO: 1 process: 1 linux-sandbox."
expect_output -x "a build that ran some processes itself fails" 1 \
  "check_remote_cache: FAIL: the second clean build ran 28 processes instead of taking them from the cache" \
  check_hits "INFO: 61 processes: 1 remote cache hit, 32 internal, 28 linux-sandbox." "$first"
expect_output -x "a build reading from the cache without hits fails" 1 \
  "check_remote_cache: FAIL: the second clean build got nothing from the cache" \
  check_hits "$first" "$first"
expect_output -x "a build without a processes line fails" 1 \
  "check_remote_cache: remote cache hits: 0 of ? processes (0 not internal to Bazel)" \
  check_hits "" "$first"

expect_output -x "a failed read from the cache is read with its reason" 0 \
  "WARNING: Reading from Remote Cache: Connection refused: /127.0.0.1:56503" \
  cache_warnings "$dir/cache_down.log"
expect_output -x "a failed write to the cache is read with its reason" 0 \
  "WARNING: Writing to Remote Cache: 4 errors during bulk transfer" \
  cache_warnings "$dir/cache_down.log"

exit_with_summary
