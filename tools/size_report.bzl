"""size_report: code and data size of cc_libraries alone, on the host and every cross target.

Each library (several builds of one library, say: the default and a minimal configuration) is
built for each platform through a split transition, -c opt with -Os and a section per function
and per object; tools/size_report.py then measures what a program calling only the `roots` keeps,
and the whole library, one table per library. `bazel build` writes <name>.txt, `bazel run` prints
it.
"""

load("//platforms:host_tools.bzl", "tool_path")
load(":cross_test.bzl", "CROSS_TARGETS")
load(":platform_transition.bzl", "PLATFORM_TRANSITION_OUTPUTS", "to_platform", "with_transition_allowlist")

PYTHON = tool_path("PYTHON")
LD = tool_path("LLD")
SIZE = tool_path("LLVM_SIZE")
NM = tool_path("LLVM_NM")
CAT = tool_path("CAT")

# Every target of the report: the host, then the cross targets in their declared order.
_PLATFORMS = dict(
    [("host", "//platforms:host")] +
    [(name, target.platform) for name, target in CROSS_TARGETS.items()],
)

def _size_opt_settings(platform):
    # Host-only flags (sanitizers, fuzzing) are dropped, as on every other platform transition;
    # the copts are the report's own.
    settings = to_platform(platform)
    settings["//command_line_option:compilation_mode"] = "opt"
    settings["//command_line_option:copt"] = ["-Os", "-ffunction-sections", "-fdata-sections"]
    return settings

def _size_transition_impl(
        settings,  # @unused
        attr):  # @unused
    return {name: _size_opt_settings(platform) for name, platform in _PLATFORMS.items()}

_size_transition = transition(
    implementation = _size_transition_impl,
    inputs = [],
    outputs = PLATFORM_TRANSITION_OUTPUTS + ["//command_line_option:compilation_mode"],
)

def _archive_of(target):
    """The static archive of `target`'s own sources (not of its dependencies)."""
    for linker_input in target[CcInfo].linking_context.linker_inputs.to_list():
        if linker_input.owner != target.label:
            continue
        for library in linker_input.libraries:
            archive = library.pic_static_library or library.static_library
            if archive:
                return archive
    fail("size_report: %s has no static library of its own" % target.label)

def _measure(ctx, index, report):
    """Runs size_report.py on the library at `index` of `libraries`, writing `report`."""
    label = ctx.split_attr.libraries["host"][index].label
    archives = []
    arguments = [
        ctx.file._script.path,
        "--ld",
        LD,
        "--size",
        SIZE,
        "--nm",
        NM,
        "--out",
        report.path,
        "--library",
        str(label),
        "--roots",
        ",".join(ctx.attr.roots),
    ]
    for name in ctx.attr.detail:
        arguments += ["--detail", name]
    for name, goal in ctx.attr.goals.items():
        arguments += ["--goal", "%s=%s" % (name, goal)]
    if label in [ctx.label.relative(name) for name in ctx.attr.must_meet_goals]:
        arguments.append("--must-meet-goals")
    for name in _PLATFORMS:
        archive = _archive_of(ctx.split_attr.libraries[name][index])
        archives.append(archive)
        arguments.append("%s=%s" % (name, archive.path))
    ctx.actions.run(
        executable = PYTHON,
        arguments = arguments,
        inputs = archives + [ctx.file._script] + ctx.files._tools,
        outputs = [report],
        mnemonic = "SizeReport",
        progress_message = "Measuring %s on %d targets" % (label, len(archives)),
    )

def _size_report_impl(ctx):
    parts = []

    # With a split transition ctx.attr.libraries holds every library once per platform.
    libraries = [library.label for library in ctx.split_attr.libraries["host"]]
    for index in range(len(libraries)):
        part = ctx.actions.declare_file("%s.%d.txt" % (ctx.label.name, index))
        _measure(ctx, index, part)
        parts.append(part)
    report = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.run_shell(
        # The tables one after the other, a blank line after each.
        command = 'for part in "$@"; do %s "$part" || exit 1; echo; done > %s' % (CAT, report.path),
        arguments = [part.path for part in parts],
        inputs = parts,
        outputs = [report],
        mnemonic = "SizeReportJoin",
        progress_message = "Joining the size reports of %s" % ctx.label,
    )
    runner = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        output = runner,
        is_executable = True,
        content = "#!/bin/sh\n# Prints the size report of %s.\nexec %s '%s'\n" % (
            ", ".join([str(label) for label in libraries]),
            CAT,
            report.short_path,
        ),
    )
    return [DefaultInfo(
        files = depset([report]),
        executable = runner,
        runfiles = ctx.runfiles(files = [report]),
    )]

size_report = rule(
    implementation = _size_report_impl,
    executable = True,
    attrs = with_transition_allowlist({
        "libraries": attr.label_list(
            mandatory = True,
            allow_empty = False,
            providers = [CcInfo],
            cfg = _size_transition,
            doc = "The libraries measured, one table each, in this order.",
        ),
        "roots": attr.string_list(
            mandatory = True,
            doc = "Functions a minimal program calls: what the core keeps is what they reach.",
        ),
        "detail": attr.string_list(doc = "Targets whose core is listed function by function."),
        "goals": attr.string_dict(
            doc = "Per target, 'BYTES:reason': the core text is compared against BYTES.",
        ),
        "must_meet_goals": attr.string_list(
            doc = "Those of `libraries` (labels, as written there) whose build fails, naming the " +
                  "goal, when their core misses one; the others only say so in the report.",
        ),
        "_script": attr.label(default = Label("//tools:size_report.py"), allow_single_file = True),
        "_tools": attr.label(default = Label("//platforms:toolchain_files")),
    }),
    doc = "Prints text, rodata, data and bss of each of `libraries` per target (see the file's top).",
)
