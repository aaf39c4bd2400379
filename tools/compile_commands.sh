#!/bin/bash
# Writes compile_commands.json at the workspace root for clangd (and clang-tidy): one entry per C
# source, with the exact flags Bazel compiles it with. Host code (libraries, tests, fuzzers) gets
# the host toolchain's flags; kernel-only sources get the freestanding flags (-ffreestanding,
# -mno-red-zone, ...) of the configuration //kernel:kernel reaches through its transition. A source
# built both ways (//alloc, //paging, //multiboot2, //acpi, and the kernel's pure parts in
# kernel/lib, which have host tests) gets its host entry.
#
#   tools/compile_commands.sh [--output_base=DIR] [TARGET_PATTERN...]
#
# Without patterns it covers every package in the checkout (each directory with a BUILD file,
# nested workspaces such as third_party/ excluded). It asks `bazel aquery` for the CppCompile
# actions, then builds just enough (header symlink trees, and the kernel ELFs for the
# freestanding tree) that every -I directory in the file exists. "directory" is Bazel's execution
# root, so bazel-out/... and external/... resolve as they do for the compiler. The Bazel output
# base is your usual one unless --output_base is given; the bazel-* symlinks are left alone.
# Re-run it after adding sources or changing flags.
set -euo pipefail

source "$(dirname "$0")/tool_paths.sh" # from platforms/host_tools.bzl
require_tools BAZEL GIT PYTHON

startup=()
patterns=()
for argument in "$@"; do
  case $argument in
    --output_base=*) startup+=("$argument") ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "compile_commands: unknown option $argument (see --help)" >&2
      exit 2
      ;;
    *) patterns+=("$argument") ;;
  esac
done

root=$("$GIT" -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"

if [ ${#patterns[@]} -eq 0 ]; then
  # Every package: directories holding a BUILD file, tracked or new, outside nested workspaces.
  mapfile -t patterns < <(
    "$GIT" ls-files --cached --others --exclude-standard |
      "$PYTHON" -c '
import os, sys
files = [line.strip() for line in sys.stdin if line.strip()]
nested = {os.path.dirname(f) for f in files
          if os.path.basename(f) in ("WORKSPACE", "WORKSPACE.bazel") and os.path.dirname(f)}
def inside_nested(directory):
    return any(directory == n or directory.startswith(n + "/") for n in nested)
packages = sorted({os.path.dirname(f) for f in files
                   if os.path.basename(f) in ("BUILD", "BUILD.bazel")
                   and os.path.exists(f)
                   and not inside_nested(os.path.dirname(f))})
for package in packages:
    print("//%s:all" % package)
'
  )
fi
if [ ${#patterns[@]} -eq 0 ]; then
  echo "compile_commands: no Bazel packages found under $root" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/compile_commands.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs bazel with the chosen output base, never touching the workspace's bazel-* symlinks; shows
# Bazel's log only when it fails.
bazel_quiet() {
  local log=$work/bazel.log
  if ! "$BAZEL" "${startup[@]}" "$@" >"$work/stdout" 2>"$log"; then
    echo "compile_commands: bazel $1 failed:" >&2
    tail -30 "$log" >&2
    return 1
  fi
}

# Wildcards leave out targets tagged manual, such as the fuzzers (built only on request): name
# those C targets explicitly, or their sources would be missing from the file (and from
# tools/check_tidy.sh).
bazel_quiet query "kind(\"cc_.* rule\", attr(tags, \"\\bmanual\\b\", set(${patterns[*]})))"
mapfile -t manual <"$work/stdout"
patterns+=("${manual[@]}")

universe="set(${patterns[*]})"
echo "compile_commands: querying the compile actions of ${patterns[*]}"
bazel_quiet aquery --symlink_prefix=/ --output=jsonproto --include_artifacts=false \
  "mnemonic(\"CppCompile\", deps($universe))"
mv "$work/stdout" "$work/aquery.json"

# The freestanding tree is only reached through the kernel rules' transition: build those targets.
bazel_quiet query "kind(\"freestanding_binary\", $universe)"
mapfile -t kernels <"$work/stdout"
if [ ${#kernels[@]} -gt 0 ]; then
  echo "compile_commands: building ${kernels[*]} for the freestanding headers"
  bazel_quiet build --symlink_prefix=/ -- "${kernels[@]}"
fi
# Header symlink trees (_virtual_includes) of the host libraries: no compiling needed. This build
# comes last because each build re-plants the execution root's links to the source tree with only
# the top-level directories it needs: this one needs every package.
echo "compile_commands: preparing the host headers"
bazel_quiet build --symlink_prefix=/ --keep_going \
  --output_groups=compilation_prerequisites_INTERNAL_ -- "${patterns[@]}"
bazel_quiet info execution_root bazel-bin
execution_root=$(sed -n 's/^execution_root: //p' "$work/stdout")
# The configuration built above, e.g. k8-fastbuild (the kernel's is k8-fastbuild-ST-<hash>).
configuration=$(basename "$(dirname "$(sed -n 's/^bazel-bin: //p' "$work/stdout")")")

"$PYTHON" - "$work/aquery.json" "$execution_root" "$configuration" "$root/compile_commands.json" <<'PYTHON'
"""Turns `bazel aquery --output=jsonproto` CppCompile actions into compile_commands.json."""
import json
import os
import sys

aquery_path, execution_root, built_configuration, output_path = sys.argv[1:]
with open(aquery_path) as stream:
    aquery = json.load(stream)

labels = {target["id"]: target["label"] for target in aquery.get("targets", [])}
configurations = {c["id"]: c["mnemonic"] for c in aquery.get("configuration", [])}
SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".S")


def source_of(arguments):
    """Returns the file after -c, the one the action compiles."""
    for index, argument in enumerate(arguments[:-1]):
        if argument == "-c":
            return arguments[index + 1]
    return None


def built(configuration):
    """Whether the script built this configuration: the command line's or the kernel's, not
    one that a rule such as debug_build (-c dbg) reaches."""
    return configuration == built_configuration or configuration.startswith(
        built_configuration + "-ST-")


def preference(entry):
    """Lower is better: a configuration built above, host flags, //kernel:kernel_elf, label."""
    label, configuration, arguments = entry
    return (not built(configuration), "-ffreestanding" in arguments,
            label != "//kernel:kernel_elf", label, configuration)


candidates = {}
for action in aquery.get("actions", []):
    arguments = action["arguments"]
    source = source_of(arguments)
    # Only the workspace's own sources: not external/ (Bazel's launcher stubs and the like).
    if source is None or not source.endswith(SOURCE_SUFFIXES) or source.startswith("external/"):
        continue
    candidates.setdefault(source, []).append((
        labels.get(action["targetId"], "?"),
        configurations.get(action["configurationId"], "?"),
        arguments,
    ))

entries = []
problems = []
for source in sorted(candidates):
    label, _, arguments = min(candidates[source], key=preference)
    if not os.path.isfile(os.path.join(execution_root, source)):
        problems.append("%s: source not found under %s" % (source, execution_root))
    # Every include directory must exist, or clangd reports headers that do build as missing.
    for index, argument in enumerate(arguments):
        directory = None
        if argument in ("-I", "-isystem", "-iquote") and index + 1 < len(arguments):
            directory, flag = arguments[index + 1], argument
        elif argument.startswith("-I") and len(argument) > 2:
            directory, flag = argument[2:], "-I"
        if directory is None:
            continue
        path = os.path.join(execution_root, directory)
        # An -iquote of an output directory nothing was generated into is harmless.
        if not os.path.isdir(path) and not (flag == "-iquote" and directory.startswith("bazel-out/")):
            problems.append("%s (%s): %s %s does not exist" % (source, label, flag, directory))
    entries.append({
        "directory": execution_root,
        "file": source,
        "arguments": arguments,
    })

if problems:
    for problem in problems:
        print("compile_commands: " + problem, file=sys.stderr)
    sys.exit("compile_commands: %d problems; compile_commands.json not written" % len(problems))

temporary = output_path + ".tmp"
with open(temporary, "w") as stream:
    json.dump(entries, stream, indent=1)
    stream.write("\n")
os.replace(temporary, output_path)
freestanding = sum("-ffreestanding" in entry["arguments"] for entry in entries)
print("compile_commands: wrote %s: %d sources, %d host, %d freestanding (directory %s)" % (
    output_path, len(entries), len(entries) - freestanding, freestanding, execution_root))
PYTHON
