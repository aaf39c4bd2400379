#!/bin/bash
# Tests tools/shell_test_lib.sh, what the shell self-tests of tools/ share, through small tests
# that source it as those do (under set -euo pipefail): one whose cases all pass exits 0, and one
# failed case, whether recorded by fail or by expect_output (wrong status, text missing, text not a
# whole line with -x), makes it exit 1 with the count, after its later cases have run. This test
# counts its own verdict rather than through the library's summary, which is what it tests.
#
#   shell_test_lib_test.sh SHELL_TEST_LIB.sh
set -euo pipefail

lib=$1
problems=0

# expect_test NAME STATUS LAST_LINE BODY [LINE]: a test named example_test, BODY after sourcing the
# library, exits with STATUS, its last line is LAST_LINE, and it prints LINE if given.
expect_test() {
  local name=$1 expected=$2 last=$3 body=$4 line=${5-} status=0 output
  output=$(bash -c "set -euo pipefail; source \"\$1\"; $body" example_test "$lib" 2>&1) || status=$?
  if [ "$status" -ne "$expected" ] || [ "$(tail -1 <<<"$output")" != "$last" ] ||
    { [ -n "$line" ] && ! grep -qxF -- "$line" <<<"$output"; }; then
    local wanted="the last line \"$last\""
    [ -z "$line" ] || wanted+=" and the line \"$line\""
    echo "FAIL: $name: expected exit $expected, $wanted; got exit $status:"
    printf '%s\n' "$output" | sed 's/^/    /'
    problems=$((problems + 1))
  else
    echo "ok   $name"
  fi
}

# A command that prints on stderr and exits 3.
noisy='noisy() { echo "the wanted text" >&2; return 3; }'

expect_test "a test whose cases pass exits 0" 0 "example_test: all passed" \
  "$noisy; expect_output 'noisy' 3 'wanted' noisy; exit_with_summary" "ok   noisy"
expect_test "a case recorded by fail makes the test exit 1" 1 "example_test: 1 failed" \
  "fail planted; exit_with_summary" "FAIL: planted"
expect_test "each failed case is counted" 1 "example_test: 2 failed" \
  "fail first; fail second; exit_with_summary"
expect_test "a command exiting with another status fails its case, and later cases run" 1 \
  "example_test: 1 failed" \
  "$noisy; expect_output 'noisy' 0 'wanted' noisy; expect_output 'true' 0 '' true
   exit_with_summary" \
  'FAIL: noisy: expected exit 0 and "wanted"; got exit 3:'
expect_test "output without the text fails its case" 1 "example_test: 1 failed" \
  "expect_output 'echo' 0 'wanted' echo other; exit_with_summary" "    other"
expect_test "with -x, the text within a longer line fails its case" 1 "example_test: 1 failed" \
  "expect_output -x 'part' 0 'wanted' echo 'the wanted text'; exit_with_summary" \
  'FAIL: part: expected exit 0 and the line "wanted"; got exit 0:'
expect_test "with -x, the text as a whole line passes" 0 "example_test: all passed" \
  "expect_output -x 'whole' 0 'wanted' printf 'first\\nwanted\\n'; exit_with_summary"

if [ "$problems" -gt 0 ]; then
  echo "shell_test_lib_test: $problems failed"
  exit 1
fi
echo "shell_test_lib_test: all passed"
