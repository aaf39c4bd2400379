#!/bin/bash
# Tests the one list of pinned paths (platforms/host_tools.bzl) and what reads and checks it:
#   1. tools/tool_paths.sh reads from the list the same names, paths and packages as Bazel
#      (@host_tools//:tools.tsv, written by the host_tools repository rule);
#   2. tools/check_tool_paths.sh passes a small tree that follows the rules, and fails, with the
#      finding named, on each planted mistake: a listed path written again, an unlisted path, a
#      path listed twice, an entry the shell's reader cannot read (a comment after it, a line
#      break inside it), an entry naming a version VERSIONS does not have (its {LLVM} read as the
#      version otherwise), a version line with a comment after it, a rule or a script asking for a name the list does not have, a
#      script running a listed tool by its bare name (also after VAR=value), a path under /home,
#      a path glued to an option (-L and a path), a rule's command running a listed tool by its
#      bare name or without its version, other command positions (backquotes, a brace group,
#      command, env, a process substitution, the name in quotes), a Python command list and an action's executable naming one;
#   3. require_tools passes a listed tool whose path exists and stops, naming the path, its package
#      and tools/setup.sh, at one whose path is missing;
#   4. the versions file every action running a pinned tool takes as an input names, with a
#      version, the package of each tool those actions run (the compiler, NASM, GRUB, QEMU).
#
#   tool_paths_test.sh SHELL_TEST_LIB.sh HOST_TOOLS.bzl TOOLS.tsv TOOL_PATHS.sh CHECK_TOOL_PATHS.sh
#     PACKAGE_VERSIONS.txt
set -euo pipefail

# shellcheck source=tools/shell_test_lib.sh
source "$1"
definition=$2 bazel_table=$3 tool_paths=$4 checker=$5 package_versions=$6

# 1. The shell reader and Bazel agree.
shell_table=$(TOOL_PATHS_DEFINITION="$definition" bash -c 'source "$1"; pinned_tools_tsv' _ "$tool_paths")
if diff <(LC_ALL=C sort "$bazel_table") <(printf '%s\n' "$shell_table") >"$TEST_TMPDIR/diff"; then
  echo "ok   tools/tool_paths.sh reads the $(wc -l <"$bazel_table") entries Bazel reads"
else
  fail "tools/tool_paths.sh and Bazel read different entries (< Bazel, > shell):"
  cat "$TEST_TMPDIR/diff"
fi

# 2. The checker, on a tree of its own (not a git checkout: it reads every file below it).
# The checker finds tools/tool_paths.sh beside itself.
mkdir -p "$TEST_TMPDIR/bin"
cp "$checker" "$TEST_TMPDIR/bin/check_tool_paths.sh"
cp "$tool_paths" "$TEST_TMPDIR/bin/tool_paths.sh"

# The planted paths are put together here, so that this file writes no absolute path itself.
usr=/usr opt=/opt home=/home
nasm=$usr/bin/nasm git=$usr/bin/git clang=$usr/bin/clang-19

# A tree that follows the rules; each case below changes one file of a fresh copy.
plant_clean_tree() {
  rm -rf "$1"
  mkdir -p "$1/platforms" "$1/tools"
  cat >"$1/platforms/host_tools.bzl" <<BZL
VERSIONS = {
    "LLVM": "19",
}
PINNED_TOOLS = {
    "NASM": ("$nasm", "nasm"),
    "CLANG": ("$usr/bin/clang-{LLVM}", "clang-{LLVM}"),
}
SCRIPT_TOOLS = {
    "GIT": ("$git", "git"),
}
BZL
  # A string that only names a program, and a doc line, are not commands.
  cat >"$1/tools/rule.bzl" <<'BZL'
NASM = tool_path("NASM")
COMPILER = "clang"
ASSEMBLE = "exec %s -f elf64" % NASM
doc = "git status: what the rule does not run"
BZL
  cat >"$1/tools/script.sh" <<'SH'
#!/bin/bash
source "$(dirname "$0")/tool_paths.sh"
require_tools GIT # the checkout's history
"$GIT" status # not: git status
SH
}

# Each case: the checker, over the tree as planted, exits with a status and says a text.
check=$TEST_TMPDIR/bin/check_tool_paths.sh
tree=$TEST_TMPDIR/tree
plant_clean_tree "$tree"
expect_output "a tree that follows the rules passes" 0 \
  "check_tool_paths: ok: 3 paths, each written once" "$check" "$tree"

# A checkout whose git fails (here a .git that points nowhere): the check stops, rather than find
# nothing in no files.
plant_clean_tree "$tree"
echo "gitdir: $TEST_TMPDIR/no-such-repository" >"$tree/.git"
expect_output "a checkout git cannot list fails" 128 "not a git repository" "$check" "$tree"
rm "$tree/.git"

plant_clean_tree "$tree"
echo "ASSEMBLER = \"$nasm\"" >>"$tree/tools/rule.bzl"
expect_output "a listed path written again fails" 1 \
  "tools/rule.bzl:5: $nasm written outside platforms/host_tools.bzl (the list has it as NASM)" \
  "$check" "$tree"

plant_clean_tree "$tree"
echo "The formatter is $opt/formatter/bin/format." >"$tree/NOTES.md"
expect_output "an unlisted path fails" 1 "NOTES.md:1: $opt/formatter/bin/format written outside" \
  "$check" "$tree"

plant_clean_tree "$tree"
bare=git
echo "LC_ALL=C $bare status" >>"$tree/tools/script.sh"
expect_output "a script running a listed tool by its bare name after an assignment fails" 1 \
  "tools/script.sh:5: runs git by its bare name" "$check" "$tree"

plant_clean_tree "$tree"
echo "cmd = \"$home/dev/llvm/bin/clang-19 --version\"" >>"$tree/tools/rule.bzl"
expect_output "a path to a tool installed by hand fails" 1 \
  "tools/rule.bzl:5: $home/dev/llvm/bin/clang-19 written outside" "$check" "$tree"

plant_clean_tree "$tree"
sed -i "s|(\"$nasm\", \"nasm\"),|&\n    \"ASSEMBLER\": (\"$nasm\", \"nasm\"),|" "$tree/platforms/host_tools.bzl"
expect_output "a path listed twice fails" 1 "$nasm is listed twice" "$check" "$tree"

# Bazel reads an entry with a comment after it, or broken over two lines; the shell's reader must
# refuse it, not skip it (setup would not install its package, and the checker would pass).
plant_clean_tree "$tree"
sed -i "s|(\"$nasm\", \"nasm\"),|&  # the assembler|" "$tree/platforms/host_tools.bzl"
expect_output "an entry with a comment after it fails" 1 "not one entry a line" "$check" "$tree"

plant_clean_tree "$tree"
sed -i "s|(\"$nasm\", \"nasm\"),|(\n        \"$nasm\", \"nasm\"),|" "$tree/platforms/host_tools.bzl"
expect_output "an entry broken over two lines fails" 1 "not one entry a line" "$check" "$tree"

# A version an entry names is written once, in VERSIONS: the reader puts it in place (the clean
# tree's CLANG is clang-19 for every case above), and refuses a name VERSIONS does not have, or a
# version line Bazel reads and it would not.
plant_clean_tree "$tree"
echo "cmd = \"exec $clang --version\"" >>"$tree/tools/rule.bzl"
expect_output "an entry's {LLVM} is read as its version" 1 \
  "tools/rule.bzl:5: $clang written outside platforms/host_tools.bzl (the list has it as CLANG)" \
  "$check" "$tree"

plant_clean_tree "$tree"
sed -i 's|clang-{LLVM}",|clang-{GCC}",|' "$tree/platforms/host_tools.bzl"
expect_output "an entry naming a version VERSIONS does not have fails" 1 \
  "a version VERSIONS does not have: $usr/bin/clang-{GCC}" "$check" "$tree"

plant_clean_tree "$tree"
sed -i 's|"LLVM": "19",|&  # the compiler|' "$tree/platforms/host_tools.bzl"
expect_output "a version with a comment after it fails" 1 "not one version a line" "$check" "$tree"

# Outside the two tables, a dict of another kind is Starlark like any other, not an entry.
plant_clean_tree "$tree"
printf 'ENVIRONMENT = {\n    "LC_ALL": "C",  # any\n}\n' >>"$tree/platforms/host_tools.bzl"
expect_output "a dict outside the tables passes" 0 "check_tool_paths: ok: 3 paths" "$check" "$tree"

plant_clean_tree "$tree"
echo 'LINKER = tool_path("LINKER")' >>"$tree/tools/rule.bzl"
expect_output "a rule asking for an unlisted name fails" 1 'tool_path("LINKER": no entry LINKER' \
  "$check" "$tree"

plant_clean_tree "$tree"
echo 'require_tools GIT LINKER' >>"$tree/tools/script.sh"
expect_output "a script requiring an unlisted name fails" 1 "require_tools LINKER: no entry LINKER" \
  "$check" "$tree"

plant_clean_tree "$tree"
bare=git
echo "log=\$($bare log -1)" >>"$tree/tools/script.sh"
expect_output "a script running a listed tool by its bare name fails" 1 \
  "tools/script.sh:5: runs git by its bare name" "$check" "$tree"

plant_clean_tree "$tree"
echo "LINK_FLAGS = [\"-L$usr/lib/x86_64-linux-gnu\"]" >>"$tree/tools/rule.bzl"
expect_output "a path glued to an option fails" 1 \
  "tools/rule.bzl:5: $usr/lib/x86_64-linux-gnu written outside platforms/host_tools.bzl" \
  "$check" "$tree"

plant_clean_tree "$tree"
bare=nasm
echo "ASSEMBLE_BY_NAME = 'exec $bare -f elf64 \"\$@\"'" >>"$tree/tools/rule.bzl"
expect_output "a rule's command running a listed tool by its bare name fails" 1 \
  "tools/rule.bzl:5: a command runs nasm by its bare name: use tool_path(\"NASM\")" \
  "$check" "$tree"

plant_clean_tree "$tree"
printf 'genrule(\n    cmd = "clang --version >$@",\n)\n' >"$tree/tools/BUILD.bazel"
expect_output "a rule's command running a listed tool without its version fails" 1 \
  "tools/BUILD.bazel:2: a command runs clang by its bare name: use tool_path(\"CLANG\")" \
  "$check" "$tree"

# Other command positions: a substitution in backquotes, a brace group, after command and after
# env with an assignment, a process substitution, the name in quotes; a Python command list; an action's executable named by a string.
# shellcheck disable=SC2016 # the lines are written as they are, BARE replaced
for run in 'head=`BARE rev-parse HEAD`' '{ BARE status; }' 'command BARE log -1' \
  'env LC_ALL=C BARE diff' 'mapfile -t files < <(BARE ls-files)' '"BARE" status' \
  "LC_ALL=C 'BARE' log"; do
  plant_clean_tree "$tree"
  bare=git
  printf '%s\n' "${run//BARE/$bare}" >>"$tree/tools/script.sh"
  expect_output "a script running a listed tool by its bare name ($run) fails" 1 \
    "tools/script.sh:5: runs git by its bare name" "$check" "$tree"
done

plant_clean_tree "$tree"
bare=nasm
printf 'import subprocess\nsubprocess.run(["%s", "-v"], check=True)\n' "$bare" >"$tree/tools/run.py"
expect_output "a Python command list running a listed tool by its bare name fails" 1 \
  "tools/run.py:2: a command runs nasm by its bare name" "$check" "$tree"

plant_clean_tree "$tree"
bare=nasm
echo "ACTION = dict(executable = \"$bare\", arguments = [])" >>"$tree/tools/rule.bzl"
expect_output "an action's executable named by its bare name fails" 1 \
  "tools/rule.bzl:5: a command runs nasm by its bare name: use tool_path(\"NASM\")" \
  "$check" "$tree"

# A case pattern naming a listed tool in quotes runs nothing.
plant_clean_tree "$tree"
# shellcheck disable=SC2016 # the line is written as it is
printf 'case $1 in\n  "git") echo "asked about git" ;;\nesac\n' >>"$tree/tools/script.sh"
expect_output "a case pattern naming a listed tool in quotes passes" 0 "check_tool_paths: ok" \
  "$check" "$tree"

plant_clean_tree "$tree"
printf '"""Runs `git status` for the report."""\nNAME = "git"\n' >"$tree/tools/doc.py"
expect_output "a Python docstring and a string naming a tool pass" 0 "check_tool_paths: ok" \
  "$check" "$tree"

# 3. require_tools, over a list with one path that exists and one that does not: the missing one
# stops the script, naming its path, its package and tools/setup.sh; the present one passes.
cat >"$TEST_TMPDIR/host_tools_missing.bzl" <<BZL
SCRIPT_TOOLS = {
    "PRESENT": ("$BASH", "bash"),
    "ABSENT": ("$TEST_TMPDIR/absent/bin/tool-1", "absent-tool"),
}
BZL
require_with_list() {
  TOOL_PATHS_DEFINITION="$TEST_TMPDIR/host_tools_missing.bzl" \
    bash -c 'source "$1"; shift; require_tools "$@"; echo "required: $*"' _ "$tool_paths" "$@"
}
expect_output "require_tools passes a listed tool whose path exists" 0 "required: PRESENT" \
  require_with_list PRESENT
expect_output "require_tools stops at a listed tool whose path is missing" 1 \
  "tool_paths: $TEST_TMPDIR/absent/bin/tool-1 is missing (package absent-tool): run tools/setup.sh (as root)" \
  require_with_list PRESENT ABSENT

# 4. The package versions: "package version" a line, each tool the rules run among them.
for name in CLANG LLD NASM GRUB_MKRESCUE XORRISO QEMU QEMU_SYSTEM_ARM; do
  package=
  while IFS=$'\t' read -r entry _ entry_package; do
    [ "$entry" != "$name" ] || package=$entry_package
  done <"$bazel_table"
  if grep -qE "^$package [^ ]+\$" "$package_versions"; then
    echo "ok   the package versions name $package ($name) with its version"
  else
    fail "the package versions do not name $package ($name) with a version:"
    sed 's/^/    /' "$package_versions"
  fi
done

exit_with_summary
