# Sourced by the scripts that run outside Bazel (check_*.sh, compile_commands.sh): defines one
# variable per pinned tool (PYTHON=/usr/bin/python3, ...) from @host_tools//:tool_paths.sh, which
# //platforms:host_tools.bzl writes from its one list once it has found every tool installed.
# Builds nothing but that check, in the checkout this file belongs to.
#   source "$(dirname "$0")/tool_paths.sh"
_tool_paths_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! _tool_paths_log=$(cd "$_tool_paths_root" && bazel build --noshow_progress @host_tools//:checked 2>&1); then
  echo "$_tool_paths_log" >&2
  echo "tool_paths: the pinned tools are not all installed: run tools/setup.sh (as root)" >&2
  exit 1
fi
# shellcheck source=/dev/null
source "$(cd "$_tool_paths_root" && bazel info output_base 2>/dev/null)/external/host_tools/tool_paths.sh"
unset _tool_paths_root _tool_paths_log
