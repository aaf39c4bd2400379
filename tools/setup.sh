#!/bin/bash
# Installs what building and testing this project needs, and only what is missing: a second run
# changes nothing and takes well under a second. Run as root (or with sudo) from anywhere.
#
# What to install is the one list, platforms/host_tools.bzl: every entry whose path does not exist
# has its package installed, from Debian's apt, or from npm for a package npm:NAME@VERSION (into
# the part of its path before /node_modules/). An entry is a path, not a package, so a tool that
# is already there by other means (npm from Node's own packages, say) is left alone.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi

source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl

# Each Debian-packaged entry of the list whose path does not exist, as PATH<tab>PACKAGE: what to
# install, and, once installed, what is still missing.
missing_debian_entries() {
  local path package
  while IFS=$'\t' read -r _ path package; do
    case $package in
      npm:*) ;;
      *) [ -e "$path" ] || printf '%s\t%s\n' "$path" "$package" ;;
    esac
  done < <(pinned_tools_tsv)
}

declare -A wanted=() # Debian package -> 1
while IFS=$'\t' read -r path package; do
  wanted[$package]=1
done < <(missing_debian_entries)
npm_entries=() # NAME of each npm entry whose path is missing
while IFS=$'\t' read -r name path package; do
  case $package in
    npm:*)
      # Installed with its version written beside it, so a new version in the list is installed.
      if [ ! -e "$path" ] || [ "$(cat "${path%%/node_modules/*}/version" 2>/dev/null)" != "${package##*@}" ]; then
        npm_entries+=("$name")
      fi
      ;;
  esac
done < <(pinned_tools_tsv)

entries=$(pinned_tools_tsv | wc -l)
if [ ${#wanted[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${!wanted[@]}" | sort)
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # A package can install and still not provide the path the list names (another version's
  # directory, a typo in the list): the build would stop on it, so setup must not say "done".
  still_missing=()
  while IFS=$'\t' read -r path package; do
    still_missing+=("$path (package $package)")
  done < <(missing_debian_entries)
  if [ ${#still_missing[@]} -gt 0 ]; then
    echo "setup: FAIL: installed, but these paths of platforms/host_tools.bzl are still missing:" >&2
    printf 'setup:   %s\n' "${still_missing[@]}" >&2
    exit 1
  fi
else
  echo "setup: every Debian-packaged entry of the $entries in platforms/host_tools.bzl is present"
fi

# An npm package (buildifier) is needed only by a check (tools/check_format.sh), not to build or
# test, so a registry that cannot be reached is a warning here; the check fails loudly without it.
for name in "${npm_entries[@]}"; do
  path=${!name}
  package=$(tool_package "$name")
  package=${package#npm:}
  prefix=${path%%/node_modules/*}
  echo "setup: installing $package from npm into $prefix"
  # Into a directory beside it first: an install that fails leaves what was there (an older
  # version that still works) in place.
  staging=$prefix.staging
  rm -rf "$staging"
  mkdir -p "$staging"
  # No retries: an unreachable registry should cost a second, not a minute, on every run.
  if "$NPM" install --prefix "$staging" --no-audit --no-fund --loglevel=error --fetch-retries=0 \
    "$package" && [ -e "$staging/${path#"$prefix"/}" ]; then
    echo "${package##*@}" >"$staging/version"
    rm -rf "$prefix"
    mv "$staging" "$prefix"
  else
    rm -rf "$staging"
    echo "setup: WARNING: could not install $package from the npm registry;" \
      "building and testing work without it, the checks that run $name do not" >&2
  fi
done

echo "setup: done. Next: 'bazel run //kernel:qemu' and 'bazel test //...'"
