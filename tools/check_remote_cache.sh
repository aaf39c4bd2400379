#!/bin/bash
# Checks the team remote cache setup (`--config=cache` in .bazelrc) against a real HTTP cache:
#   1. starts nginx (WebDAV PUT) on a free loopback port, serving an empty temporary directory;
#   2. builds the targets with --config=cache in a fresh output base: every action runs locally
#      and its result is uploaded;
#   3. builds them again in another fresh output base: actions must come from the cache, every
#      process not internal to Bazel a remote cache hit (from Bazel's "INFO: N processes: ..."
#      line), and at least one;
#   4. stops nginx and builds in a third fresh output base: the build must still succeed, with
#      the cache down, by running the actions locally.
# Prints the figures of each step; exits 1 if a build fails or the second build runs a process
# itself.
# Builds a snapshot of the working tree (tracked and new files), so edits made meanwhile do not
# change the result. Run from anywhere inside the checkout, as root in CI or as any user.
#
#   tools/check_remote_cache.sh [TARGET_PATTERN...]
set -euo pipefail

source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL NGINX GIT PYTHON
# What the script decides from its builds, tested by //tools:check_remote_cache_test.
source "$(dirname "$0")/check_remote_cache_lib.sh"
# One of each kind of action: the kernel through its platform transition (NASM, Clang, LLD), the
# ISO (GRUB), host libraries and a host test. Whole packages would add cross builds for every
# target and three minutes to CI without testing anything more of the cache.
DEFAULT_TARGETS=(
  //kernel:kernel
  //kernel:iso
  //alloc:alloc
  //alloc:heap_test
  //paging:paging
  //multiboot2:multiboot2
)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${DEFAULT_TARGETS[@]}")
fi

source_root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/heapkernel-cache.XXXXXX")
nginx_pid=
output_bases=()

cleanup() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  for output_base in "${output_bases[@]}"; do
    if [ -d "$output_base" ]; then
      (cd "$work/src" 2>/dev/null && "$BAZEL" --output_base="$output_base" shutdown) >/dev/null 2>&1 || true
    fi
  done
  # Bazel leaves some of its output read-only.
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\ncheck_remote_cache: %s\n' "$*"; }

"$source_root/tools/copy_worktree.sh" "$work/src"

# A loopback HTTP cache: nginx with WebDAV PUT over an empty directory, all state in $work.
port=$("$PYTHON" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
')
cache_url=http://127.0.0.1:$port
mkdir -p "$work/nginx/temp" "$work/cache"
user_directive=
if [ "$(id -u)" -eq 0 ]; then
  # Workers would run as nobody, who cannot write into root's private temporary directory.
  user_directive="user root;"
fi
cat >"$work/nginx/nginx.conf" <<CONF
$user_directive
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events {
    worker_connections 256;
}
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx/temp/body;
    proxy_temp_path $work/nginx/temp/proxy;
    fastcgi_temp_path $work/nginx/temp/fastcgi;
    uwsgi_temp_path $work/nginx/temp/uwsgi;
    scgi_temp_path $work/nginx/temp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $work/cache;
        client_max_body_size 1g;
        location / {
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }
    }
}
CONF

step "starting nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') as an HTTP cache at $cache_url"
"$NGINX" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" \
  -g 'daemon off;' >"$work/nginx/stdout.log" 2>&1 &
nginx_pid=$!

# Ready when a PUT of a probe object reads back the same bytes.
if ! "$PYTHON" - "$cache_url" <<'PROBE'; then
import sys, time, urllib.request
url = sys.argv[1] + "/probe/check_remote_cache"
deadline = time.monotonic() + 10
while True:
    try:
        urllib.request.urlopen(urllib.request.Request(url, data=b"probe", method="PUT"), timeout=2)
        if urllib.request.urlopen(url, timeout=2).read() == b"probe":
            break
    except OSError as error:
        if time.monotonic() > deadline:
            sys.exit("nginx did not store and serve a probe object: %s" % error)
        time.sleep(0.2)
PROBE
  echo "check_remote_cache: FAIL: nginx is not working as a WebDAV cache; its log:" >&2
  cat "$work/nginx/stdout.log" "$work/nginx/error.log" >&2 || true
  exit 1
fi
rm -rf "$work/cache/probe"

# Runs one clean build in a new output base; sets build_summary to Bazel's processes line. A disk
# cache from a user's or the system's bazelrc is switched off: Bazel counts its hits as remote
# cache hits, which would then not show that the HTTP cache works.
build_summary=
clean_build() {
  local name=$1
  local output_base=$work/output_base_$name
  local log=$work/build_$name.log
  output_bases+=("$output_base")
  local start=$SECONDS
  local status=0
  (cd "$work/src" && "$BAZEL" --output_base="$output_base" --max_idle_secs=600 build \
    --symlink_prefix=/ --noshow_progress --config=cache --remote_cache="$cache_url" --disk_cache= \
    -- "${targets[@]}") >"$log" 2>&1 || status=$?
  (cd "$work/src" && "$BAZEL" --output_base="$output_base" shutdown) >/dev/null 2>&1 || true
  check_build "$name" "$status" "$log" || exit 1
  build_summary=$(processes_line "$log")
  echo "check_remote_cache: build $name succeeded in $((SECONDS - start)) s: ${build_summary:-(no processes line)}"
}

step "build 1: clean build of ${targets[*]}, filling the cache"
clean_build populate
populate_summary=$build_summary
objects=$(find "$work/cache" -type f | wc -l)
bytes=$(du -sb "$work/cache" | cut -f1)
echo "check_remote_cache: the cache now holds $objects objects," \
  "$(find "$work/cache/ac" -type f 2>/dev/null | wc -l) action results, $((bytes / 1024)) KiB"

step "build 2: clean build in another fresh output base, reading from the cache"
clean_build from_cache
check_hits "$build_summary" "$populate_summary" || exit 1
hits=$(count_of "remote cache hit" "$build_summary")

step "build 3: clean build with the cache down (nginx stopped)"
kill -TERM "$nginx_pid"
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=
if "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
  echo "check_remote_cache: FAIL: something still answers on port $port" >&2
  exit 1
fi
clean_build cache_down
down_hits=$(count_of "remote cache hit" "$build_summary")
cache_warnings=$(cache_warnings "$work/build_cache_down.log")
echo "check_remote_cache: with the cache down: $down_hits remote cache hits," \
  "$(grep -c . <<<"$cache_warnings" || true) warnings about the cache, the first ones:"
head -3 <<<"$cache_warnings" | cut -c1-160 | sed 's/^/    /'

step "PASS: $hits remote cache hits on a clean build; a build with the cache down still succeeds"
