"""python_test: a Python test script of tools/, run with the pinned interpreter.

    python_test(
        name = "qemu_runner_test",
        size = "small",
        srcs = ["qemu_runner.py"],
    )

is an sh_test that runs qemu_runner_test.py through python_test.sh, which takes Debian's pinned
python3 from @host_tools//:tool_paths.sh, with the modules it tests (`srcs`) beside it.
"""

def python_test(name, srcs, **kwargs):
    """An sh_test running `name`.py with the pinned Python; `srcs` are the modules it imports.

    Args:
      name: the test's name, also its script's without .py.
      srcs: the Python modules the script tests.
      **kwargs: the other sh_test attributes (size, tags, ...).
    """
    native.sh_test(
        name = name,
        srcs = ["//tools:python_test.sh"],
        args = [
            "$(rootpath @host_tools//:tool_paths.sh)",
            "$(rootpath %s.py)" % name,
        ],
        data = srcs + [
            name + ".py",
            "@host_tools//:tool_paths.sh",
            # The pinned tools' versions (python3's among them): a new one runs the test again.
            "//platforms:toolchain_files",
        ],
        **kwargs
    )
