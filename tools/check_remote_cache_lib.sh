# What tools/check_remote_cache.sh decides from its builds, apart from running them and nginx, so
# that //tools:check_remote_cache_test can try it on Bazel output written for the purpose: whether
# a build failed, the counts in Bazel's "INFO: N processes: ..." line, whether the build reading
# from the cache got hits, and the warnings about the cache in a log. Sourced by the script and
# the test, which run under set -euo pipefail.

# check_build NAME STATUS LOG: returns 0 if the build NAME exited with STATUS 0; otherwise prints
# that it failed and the end of its LOG on stderr, and returns 1.
check_build() {
  local name=$1 status=$2 log=$3
  if [ "$status" -ne 0 ]; then
    echo "check_remote_cache: FAIL: build $name failed (status $status); the end of its log:" >&2
    tail -30 "$log" >&2
    return 1
  fi
}

# processes_line LOG: prints Bazel's last "INFO: N processes: ..." line in LOG, nothing if none.
processes_line() {
  grep -E '^INFO: [0-9]+ process(es)?: ' "$1" | tail -1 || true
}

# count_of KIND LINE: prints the number before KIND in a processes line, 0 if KIND is not there.
count_of() {
  local kind=$1 line=$2
  sed -nE "s/.*[ :,]([0-9]+) ${kind}[,.].*/\1/p" <<<"$line" | head -1 | grep . || echo 0
}

# check_hits LINE FIRST_LINE: prints the remote cache hits in LINE, the processes line of the
# build that read from the cache, and returns 0 if every process not internal to Bazel was one
# (at least one); otherwise prints that build's and the first build's (FIRST_LINE) lines on
# stderr and returns 1. A cache key that changes with the output base would still let some
# actions hit (those whose inputs do not show it): all of them must.
check_hits() {
  local line=$1 first_line=$2 hits total internal
  hits=$(count_of "remote cache hit" "$line")
  total=$(sed -nE 's/^INFO: ([0-9]+) process.*/\1/p' <<<"$line")
  internal=$(count_of internal "$line")
  local external=$((${total:-0} - internal))
  echo "check_remote_cache: remote cache hits: $hits of ${total:-?} processes" \
    "($external not internal to Bazel)"
  if [ "$hits" -eq 0 ] || [ "$hits" -lt "$external" ]; then
    if [ "$hits" -eq 0 ]; then
      echo "check_remote_cache: FAIL: the second clean build got nothing from the cache" >&2
    else
      echo "check_remote_cache: FAIL: the second clean build ran $((external - hits))" \
        "processes instead of taking them from the cache" >&2
    fi
    echo "check_remote_cache: first build:  $first_line" >&2
    echo "check_remote_cache: second build: $line" >&2
    return 1
  fi
}

# cache_warnings LOG: prints each failed cache transfer in LOG on one line. Bazel reports one as
# "WARNING: Reading from Remote Cache:" (or Writing) with the reason on the next line.
cache_warnings() {
  local line reason
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ ^WARNING:\ .*Remote\ Cache:$ ]]; then
      IFS= read -r reason || reason=
      printf '%s %s\n' "$line" "$reason"
    fi
  done <"$1"
}
