# What tools/check_reproducible.sh decides, apart from its builds, so that
# //tools:check_reproducible_test can try it on files made for the purpose: the texts that show
# today's date as a build would write it, and whether the two copies of an output, built from two
# checkouts, are identical and hold none of those dates and no path of the builds. Sourced by the
# script and the test, which run under set -euo pipefail.

# Today's date as a build would write it (ISO 8601, compact, and __DATE__'s "Dec  5 2026"), in UTC
# and in local time (TZ as the caller has it, else /etc/localtime; an empty TZ would mean UTC): the
# two builds run the same day, so a date in both would compare equal. Month names in English
# whatever the caller's language, as __DATE__ writes them.
dates() {
  local format
  for format in '+%Y-%m-%d' '+%Y%m%d' '+%b %e %Y'; do
    LC_ALL=C TZ=UTC date "$format"
    LC_ALL=C date "$format"
  done
}

# check_copies WHAT FIRST SECOND WHERE_FIRST WHERE_SECOND [TEXT...]: prints the sha256 of FIRST and
# SECOND, the copies of the output WHAT built in WHERE_FIRST and WHERE_SECOND. Returns 1, naming
# each finding on stderr, if they differ, if either holds a TEXT, or if either cannot be read;
# 0 otherwise.
check_copies() {
  local what=$1 copies=("$2" "$3") where=("$4" "$5") status=0 first second index text
  shift 5
  first=$(sha256sum "${copies[0]}" | cut -d' ' -f1) &&
    second=$(sha256sum "${copies[1]}" | cut -d' ' -f1) || {
    echo "reproducible: $what: cannot read ${copies[0]} or ${copies[1]}" >&2
    return 1
  }
  if [ "$first" = "$second" ]; then
    echo "reproducible: $what $first (identical)"
  else
    echo "reproducible: DIFFERS: $what $first vs $second" >&2
    cmp -l "${copies[0]}" "${copies[1]}" | head -5 >&2 || true
    status=1
  fi
  for index in 0 1; do
    for text in "$@"; do
      if grep -q -a -F -- "$text" "${copies[$index]}"; then
        echo "reproducible: $what built in ${where[$index]} holds \"$text\"" >&2
        status=1
      fi
    done
  done
  return $status
}
