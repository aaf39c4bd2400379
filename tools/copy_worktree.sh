#!/bin/bash
# Copies the working tree as it is (tracked files and new ones git does not ignore, as they are on
# disk, without Bazel's output symlinks) into DEST: the snapshot the check scripts build in a fresh
# place, so edits made meanwhile do not change their result.
#   tools/copy_worktree.sh DEST
set -euo pipefail
source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools GIT
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
dest=$1
root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
mkdir -p "$dest"
cd "$root"
# A file deleted but not yet staged is still listed: only existing ones are copied.
"$GIT" ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do
    if [ -e "$file" ]; then printf '%s\0' "$file"; fi
  done |
  tar -cf - --null --no-recursion -T - | tar -xf - -C "$dest"
