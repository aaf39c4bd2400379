# What the shell self-tests of tools/ share (tool_paths_test.sh, elf_target_test.sh,
# check_format_test.sh, check_tidy_test.sh, check_reproducible_test.sh,
# check_remote_cache_test.sh): a count of failed cases ($failures), fail to record one,
# expect_output to run a command and compare its exit status and a line of its output, and
# exit_with_summary to end the test. One copy, so every test reports a failed case the same way
# and none can finish with status 0 after a case failed; //tools:shell_test_lib_test checks that.
# Sourced by a test that runs under set -euo pipefail; the test's name in the summary is its
# script's ($0, without .sh).

failures=0
test_name=${0##*/}
test_name=${test_name%.sh}

# fail MESSAGE...: prints MESSAGE as a failed case and counts it.
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_output [-x] NAME STATUS TEXT COMMAND [ARG...]: runs COMMAND, its output and errors
# together, and passes the case NAME if it exits with STATUS and prints TEXT within a line (with
# -x: as a whole line); otherwise fails it, printing what the command printed. Returns 0 either
# way, so that a test under set -e goes on to its other cases: a test with more to check after a
# passing run compares $failures before and after.
expect_output() {
  local match=-qF what=
  if [ "$1" = -x ]; then
    match=-qxF what="the line "
    shift
  fi
  local name=$1 expected=$2 text=$3 status=0 output
  shift 3
  output=$("$@" 2>&1) || status=$?
  if [ "$status" -ne "$expected" ] || ! grep "$match" -- "$text" <<<"$output"; then
    fail "$name: expected exit $expected and $what\"$text\"; got exit $status:"
    printf '%s\n' "$output" | sed 's/^/    /'
  else
    echo "ok   $name"
  fi
}

# exit_with_summary: ends the test, with status 1 and the number of failed cases if any failed.
exit_with_summary() {
  if [ "$failures" -gt 0 ]; then
    echo "$test_name: $failures failed"
    exit 1
  fi
  echo "$test_name: all passed"
  exit 0
}
