"""What every transition to another platform sets: the platform, and no host-only flags; and the
attribute every rule with a transition needs (with_transition_allowlist).

Flags given on the command line for host code (--copt=-fsanitize=..., fuzzing) have no runtime on
the kernel or on the cross targets, so a transition to one of them drops them.
"""

PLATFORMS = "//command_line_option:platforms"

# The command-line flags a transition to another platform clears.
HOST_ONLY_FLAGS = [
    "//command_line_option:copt",
    "//command_line_option:conlyopt",
    "//command_line_option:cxxopt",
    "//command_line_option:linkopt",
    "//command_line_option:per_file_copt",
]

# The outputs such a transition declares.
PLATFORM_TRANSITION_OUTPUTS = [PLATFORMS] + HOST_ONLY_FLAGS

def to_platform(platform):
    """The settings of a transition to `platform`.

    Args:
      platform: the label of the platform, such as "//platforms:freestanding".

    Returns:
      a dict for a transition's implementation to return (or add to).
    """
    settings = {flag: [] for flag in HOST_ONLY_FLAGS}
    settings[PLATFORMS] = platform
    return settings

def with_transition_allowlist(attrs):
    """A rule's attributes with the one Bazel asks of a rule that has a transition on an attribute.

    Args:
      attrs: the rule's own attributes.

    Returns:
      `attrs` and _allowlist_function_transition, the label of Bazel's allowlist of such rules.
    """
    return dict(
        attrs,
        _allowlist_function_transition = attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    )
