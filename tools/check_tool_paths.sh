#!/bin/bash
# Checks that every absolute path of a tool, header directory or library is written once, in
# platforms/host_tools.bzl (the one list), and that what asks for a tool by name asks for a listed
# one. Fails, naming file and line, on:
#   1. an absolute path under /usr, /opt, /bin, /sbin, /lib, /lib32, /lib64, or where a tool
#      installed by hand or by another package manager lives (/home, /root, /snap, /nix), in any
#      file of the tree but the list (a #! interpreter aside, in a script or in one a rule
#      writes: the kernel reads it before a script can look anything up), or a path the list
#      itself names twice;
#   2. tool_path("NAME"), tool_dir("NAME") or linux_sysroot("TARGET") in a .bzl or BUILD file, or
#      require_tools NAME in a shell script, for a NAME the list does not have;
#   3. a shell script that runs a listed program by its bare name (bazel, git, python3, ...)
#      instead of "$NAME" after require_tools NAME, a .bzl or BUILD file whose command string
#      (a genrule's cmd, an action's command or executable, a script a rule writes) starts one
#      by its bare name instead of tool_path("NAME"), or a Python file whose command list starts
#      with one (["git", ...]): PATH would choose what runs. The name
#      without its version (clang for clang-19) counts too. coreutils' programs (cat, timeout,
#      ...) are exempt: every script stands on them, as on the programs of Debian's other
#      Essential packages (grep, sed, tar, find, diff, gzip), which every Debian system has and
#      the list does not name. awk (mawk) is not Essential, and no script runs it.
# Prints every finding, then one summary line with the counts; exits 1 on any finding.
#
#   tools/check_tool_paths.sh [ROOT]
# ROOT is the checkout (default: the one holding this script). Its files are those git lists
# (tracked, and new ones not ignored); when ROOT is not a git checkout, every file below it.
set -euo pipefail

root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
definition=platforms/host_tools.bzl
if [ ! -f "$root/$definition" ]; then
  echo "check_tool_paths: $root/$definition is missing" >&2
  exit 1
fi
TOOL_PATHS_DEFINITION="$root/$definition"
# shellcheck source=tools/tool_paths.sh
source "$(dirname "$0")/tool_paths.sh"

cd "$root"
# The lister's status is waited for (a process substitution's is otherwise lost), so that a git that
# fails (a checkout it will not read, say) stops the check rather than leave it with no files to
# find anything in.
if [ -e .git ]; then
  require_tools GIT
  mapfile -d '' files < <("$GIT" ls-files -z --cached --others --exclude-standard)
else
  mapfile -d '' files < <(find . -type f -printf '%P\0' | sort -z)
fi
wait $!
if [ "${#files[@]}" -eq 0 ]; then
  echo "check_tool_paths: no files to check in $root" >&2
  exit 1
fi

findings=0
finding() {
  echo "check_tool_paths: $*"
  findings=$((findings + 1))
}

declare -A listed=() # path -> NAME
declare -A program=() # bare program name -> NAME, for the listed executables
while IFS=$'\t' read -r name path _; do
  if [ -n "${listed[$path]+set}" ]; then
    finding "$definition: $path is listed twice ($name and ${listed[$path]})"
  fi
  listed[$path]=$name
  # coreutils (cat, timeout, ...) is the base every script stands on: its programs may run by name.
  if [[ $path =~ /s?bin/ ]] && [ "${_tool_paths_package[$name]}" != coreutils ]; then
    program[${path##*/}]=$name
    if [[ ${path##*/} =~ ^(.+)-[0-9]+$ ]]; then
      program[${BASH_REMATCH[1]}]=$name
    fi
  fi
done < <(pinned_tools_tsv)

# 1. Absolute paths outside the list. A path starts after a character that cannot end a word or a
# variable (so $dir/usr/... and a/usr/b are not one), nor after #! (an interpreter), or right
# after an option glued to it (-I, -L, -B, -isystem followed by the path without a blank).
path_pattern='(^|[^A-Za-z0-9_.$}/!-])(-{1,2}[A-Za-z][A-Za-z0-9_]*)?/(usr|opt|bin|sbin|lib|lib32|lib64|home|root|snap|nix)/[A-Za-z0-9_.+@/-]*'
files_read=0
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  [ "$file" = "$definition" ] && continue
  # Text files only: a NUL byte in the first block means binary.
  if [ -n "$(head -c 8000 "$file" | tr -d -c '\000' | head -c 1 | od -An -c)" ]; then
    continue
  fi
  files_read=$((files_read + 1))
  while IFS=: read -r line text; do
    while [[ $text =~ $path_pattern ]]; do
      match=${BASH_REMATCH[0]#"${BASH_REMATCH[1]}${BASH_REMATCH[2]}"}
      match=${match%.} # a full stop ends the sentence, not the path
      where=${listed[$match]:+ (the list has it as ${listed[$match]})}
      finding "$file:$line: $match written outside $definition${where}"
      text=${text#*"${BASH_REMATCH[0]}"}
    done
  done < <(grep -nE "$path_pattern" "$file" || true)
done

# 2. Names asked for that the list does not have.
is_listed_name() { [ -n "${_tool_paths_package[$1]+set}" ]; }
for file in "${files[@]}"; do
  case $file in
    *.bzl | BUILD | BUILD.bazel | */BUILD | */BUILD.bazel)
      while IFS=: read -r line call; do
        name=${call#*\"}
        name=${name%\"*}
        case $call in
          linux_sysroot*) name+=_CRT1 ;;
        esac
        is_listed_name "$name" || finding "$file:$line: $call: no entry $name in $definition"
      done < <(grep -noE '(tool_path|tool_dir|linux_sysroot)\("[A-Za-z0-9_]+"' "$file" || true)
      ;;
  esac
done

# The shell scripts: *.sh, and files whose first line runs bash or sh.
scripts=()
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  case $file in
    *.sh) scripts+=("$file") ;;
    *) if head -n 1 "$file" | grep -qE '^#!.*/(ba)?sh\b'; then scripts+=("$file"); fi ;;
  esac
done
for file in "${scripts[@]}"; do
  while IFS=: read -r line text; do
    for name in ${text#*require_tools}; do
      [[ $name == \#* ]] && break
      is_listed_name "$name" || finding "$file:$line: require_tools $name: no entry $name in $definition"
    done
  done < <(grep -nE '^[[:space:]]*require_tools[[:space:]]' "$file" || true)
done

# 3. Listed programs run by their bare name: a word in command position (start of a line, after
# ; | & $( <( { or a keyword or program that runs a command: command, env, exec, time, xargs, ...,
# and after any VAR=value assignments for it), outside comments. A bare "(" is left out: in a string it is prose ("(nginx stopped)"), and a subshell's
# first command is rarely a tool. The positions after the start of a line or an opening quote (the
# part the shell and Starlark patterns differ in), then the program, the same in both but for
# the quotes a script may put around it:
assignments='([A-Za-z_][A-Za-z0-9_]*=[^[:space:]]*[[:space:]]+)*'
programs=$(printf '%s\n' "${!program[@]}" | sed 's/[.+]/\\&/g' | paste -sd'|' -)
after_command="[;|&]|\\\$\\(|<\\(|(^|[[:space:]\"'])(then|do|else|exec|if|while|until|!|time|xargs|command|env|\\{)[[:space:]]"
program_run="[[:space:]]*$assignments($programs)([[:space:]]|\$|[;)])"
# A backquote counts where it opens a substitution assigned to a variable (x=`git ...`): in prose
# (a docstring, a message) it is a code span.
# In a script, a program name in quotes ("git" status) runs it as the bare name does; one followed
# by ")" is a case pattern ("git") ...), not a command.
command_pattern="(^|$after_command|=\`)[[:space:]]*$assignments(($programs)([[:space:]]|\$|[;)])|[\"']($programs)[\"']([[:space:]]|\$|;))"

# find_runs FILE PATTERN GROUPS HOW [SED_EXPRESSION...]: a finding for each line of FILE that, its
# comment dropped and the expressions applied, matches PATTERN, whose group among GROUPS (the first
# that took part) names the program; HOW says what it does (RUNS) and what to do instead (NAME: the
# program's entry in the list).
find_runs() {
  local file=$1 pattern=$2 groups=$3 how=$4 line text code group bare
  shift 4
  while IFS=: read -r line text; do
    code=$(sed -E -e 's/(^|[[:space:]])#.*$//' "$@" <<<"$text")
    [[ $code =~ $pattern ]] || continue
    bare=
    for group in $groups; do
      bare=${bare:-${BASH_REMATCH[$group]}}
    done
    text=${how//NAME/${program[$bare]}}
    finding "$file:$line: ${text//RUNS/runs $bare by its bare name}"
  done < <(grep -nE "$pattern" "$file" || true)
}

for file in "${scripts[@]}"; do
  find_runs "$file" "$command_pattern" "6 8" 'RUNS: require_tools NAME, then run "$NAME"'
done
# In Starlark a command is a string: its opening quote is a command position too, but not the
# start of a line (prose of a docstring), a docstring's opening quotes or a doc = "..." line. A
# string that is the name alone (compiler = "clang") names a program without running it, but for
# an action's executable = "nasm", which PATH resolves.
starlark_pattern="((^|[^\"'])[\"']|$after_command)$program_run|executable[[:space:]]*=[[:space:]]*[\"']($programs)[\"']"
starlark_count=0
# In Python a command is a list whose first string is the program (subprocess.run(["git", ...])).
python_pattern="\\[[[:space:]]*[\"']($programs)[\"' ]"
python_count=0
for file in "${files[@]}"; do
  [ -f "$file" ] && [ "$file" != "$definition" ] || continue
  case $file in
    *.bzl | BUILD | BUILD.bazel | */BUILD | */BUILD.bazel)
      starlark_count=$((starlark_count + 1))
      find_runs "$file" "$starlark_pattern" "6 8" 'a command RUNS: use tool_path("NAME")' \
        -e 's/^[[:space:]]*doc[[:space:]]*=.*//'
      ;;
    *.py)
      python_count=$((python_count + 1))
      find_runs "$file" "$python_pattern" 1 'a command RUNS: take its path from the list'
      ;;
  esac
done

if [ "$findings" -gt 0 ]; then
  echo "check_tool_paths: FAIL: $findings findings" >&2
  exit 1
fi
echo "check_tool_paths: ok: ${#listed[@]} paths, each written once, in $definition;" \
  "${#files[@]} files (${files_read} text), ${#scripts[@]} shell scripts, $starlark_count Starlark" \
  "and $python_count Python files checked"
