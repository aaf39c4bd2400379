# Sourced by the scripts that run outside Bazel (tools/*.sh, .ci/run, alloc/examples/consumer):
# reads the one list of pinned paths, platforms/host_tools.bzl (PINNED_TOOLS and SCRIPT_TOOLS),
# and defines one variable per entry (PYTHON, BAZEL, GIT, ...) and these functions:
#   require_tools NAME...   fails, naming the path, its package and tools/setup.sh, unless every
#                           NAME is an entry whose path exists; call it for the tools a script runs
#   tool_package NAME       prints the package of an entry
#   pinned_tools_tsv        prints every entry as NAME<TAB>path<TAB>package, sorted by name
# An entry's {NAME} is replaced by that name's version in VERSIONS (one a line, "NAME": "version",
# above the tables), as the host_tools repository rule replaces it.
# Needs nothing but bash, so tools/setup.sh can use it before anything is installed.
#   source "$(dirname "$0")/tool_paths.sh"

_tool_paths_definition=${TOOL_PATHS_DEFINITION:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/platforms/host_tools.bzl"}
declare -gA _tool_paths_package=()
declare -ga _tool_paths_names=()
declare -gA _tool_paths_versions=()
# An entry is one line: "NAME": ("path", "package"),
_tool_paths_entry='^[[:space:]]*"([A-Z0-9_]+)":[[:space:]]*\("([^"]+)",[[:space:]]*"([^"]+)"\),[[:space:]]*$'
# Inside the two tables (from "PINNED_TOOLS = {" or "SCRIPT_TOOLS = {" to the "}" that closes
# it), anything else that starts as an entry ("NAME":) would be an entry Bazel reads and this
# does not (a comment after it, a line break inside it): refused, not skipped.
_tool_paths_start='^[[:space:]]*"[A-Za-z0-9_]+"[[:space:]]*:'
_tool_paths_version='^[[:space:]]*"([A-Z0-9_]+)":[[:space:]]*"([^"{}]+)",[[:space:]]*$'
# The field $1 with each {NAME} of VERSIONS replaced; refuses a {NAME} VERSIONS does not have.
_tool_paths_expand() {
  local field=$1 name
  for name in "${!_tool_paths_versions[@]}"; do
    field=${field//"{$name}"/"${_tool_paths_versions[$name]}"}
  done
  if [[ $field == *[{}]* ]]; then
    echo "tool_paths: $_tool_paths_definition: a version VERSIONS does not have: $1" >&2
    exit 1
  fi
  _tool_paths_field=$field
}
_tool_paths_in_table=false _tool_paths_in_versions=false
while IFS= read -r _tool_paths_line; do
  if [[ $_tool_paths_line =~ ^(PINNED_TOOLS|SCRIPT_TOOLS)\ =\ \{ ]]; then
    _tool_paths_in_table=true
  elif [[ $_tool_paths_line == "VERSIONS = {" ]]; then
    _tool_paths_in_versions=true
  elif [[ $_tool_paths_line == "}" ]]; then
    _tool_paths_in_table=false _tool_paths_in_versions=false
  elif $_tool_paths_in_versions; then
    if [[ $_tool_paths_line =~ $_tool_paths_version ]]; then
      _tool_paths_versions[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    elif [[ $_tool_paths_line =~ $_tool_paths_start ]]; then
      echo "tool_paths: $_tool_paths_definition: not one version a line, \"NAME\": \"version\", with nothing after it: $_tool_paths_line" >&2
      exit 1
    fi
  elif ! $_tool_paths_in_table; then
    continue
  elif [[ $_tool_paths_line =~ $_tool_paths_entry ]]; then
    _tool_paths_name=${BASH_REMATCH[1]} _tool_paths_package_as_written=${BASH_REMATCH[3]}
    _tool_paths_expand "${BASH_REMATCH[2]}"
    printf -v "$_tool_paths_name" '%s' "$_tool_paths_field"
    _tool_paths_expand "$_tool_paths_package_as_written"
    _tool_paths_package[$_tool_paths_name]=$_tool_paths_field
    _tool_paths_names+=("$_tool_paths_name")
  elif [[ $_tool_paths_line =~ $_tool_paths_start ]]; then
    echo "tool_paths: $_tool_paths_definition: not one entry a line, \"NAME\": (\"path\", \"package\"), with nothing after it: $_tool_paths_line" >&2
    exit 1
  fi
done <"$_tool_paths_definition"
if [ ${#_tool_paths_names[@]} -eq 0 ]; then
  echo "tool_paths: no entries read from $_tool_paths_definition" >&2
  exit 1
fi
unset _tool_paths_line _tool_paths_entry _tool_paths_start _tool_paths_in_table _tool_paths_version \
  _tool_paths_in_versions _tool_paths_versions _tool_paths_name _tool_paths_package_as_written \
  _tool_paths_field
unset -f _tool_paths_expand

tool_package() {
  if [ -z "${_tool_paths_package[$1]+set}" ]; then
    echo "tool_paths: no entry named $1 in $_tool_paths_definition" >&2
    return 1
  fi
  printf '%s\n' "${_tool_paths_package[$1]}"
}

require_tools() {
  local name missing=0
  for name in "$@"; do
    if [ -z "${_tool_paths_package[$name]+set}" ]; then
      echo "tool_paths: no entry named $name in $_tool_paths_definition" >&2
      missing=1
    elif [ ! -e "${!name}" ]; then
      echo "tool_paths: ${!name} is missing (package ${_tool_paths_package[$name]}): run tools/setup.sh (as root)" >&2
      missing=1
    fi
  done
  [ "$missing" -eq 0 ] || exit 1
}

pinned_tools_tsv() {
  local name
  for name in "${_tool_paths_names[@]}"; do
    printf '%s\t%s\t%s\n' "$name" "${!name}" "${_tool_paths_package[$name]}"
  done | LC_ALL=C sort
}
