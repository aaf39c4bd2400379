#!/bin/bash
# Checks that kernel/heap_config.h refuses bad heap ranges at compile time, each with its own
# message, and accepts the default and a moved range.
set -euo pipefail
CLANG=/usr/bin/clang-19
[ -x "$CLANG" ] || { echo "heap_config_test: $CLANG not found: run tools/setup.sh" >&2; exit 1; }

failures=0
compile() { # compile DEFINES...: compiles a file that includes heap_config.h
  echo '#include "kernel/heap_config.h"' |
    "$CLANG" --target=x86_64-unknown-none-elf -ffreestanding -fsyntax-only -I. "$@" -x c - 2>&1
}

expect_accepted() {
  if ! output=$(compile "$@"); then
    echo "FAIL: rejected $*: $output" >&2
    failures=$((failures + 1))
  else
    echo "ok: accepted ${*:-defaults}"
  fi
}

expect_rejected() { # expect_rejected MESSAGE DEFINES...
  local message=$1
  shift
  if output=$(compile "$@"); then
    echo "FAIL: accepted $*" >&2
    failures=$((failures + 1))
  elif ! grep -qF "$message" <<<"$output"; then
    echo "FAIL: $* rejected without \"$message\": $output" >&2
    failures=$((failures + 1))
  else
    echo "ok: rejected $*: $message"
  fi
}

expect_accepted
expect_accepted -DKERNEL_HEAP_START=0x80000000ull -DKERNEL_HEAP_PAGES=3000ull
expect_rejected "must be page aligned" -DKERNEL_HEAP_START=0x8000010ull
expect_rejected "must be at least 1" -DKERNEL_HEAP_PAGES=0ull
expect_rejected "must not overlap the boot identity map" -DKERNEL_HEAP_START=0x100000ull
expect_rejected "lower canonical half" -DKERNEL_HEAP_START=0x7ffffffff000ull
expect_rejected "above 4 GiB of heap" -DKERNEL_HEAP_PAGES=2000000ull

[ "$failures" -eq 0 ] || { echo "heap_config_test: $failures failures" >&2; exit 1; }
echo "heap_config_test: all cases passed"
