"""alloc_test: a cc_test of one build of the allocator, linked with that build's test support.

    alloc_test(
        name = "model_test_minimal",
        size = "small",
        srcs = ["model_test.c"],
        build = ":alloc_minimal",
    )

is a cc_test of model_test.c over :alloc_minimal and :testing_minimal. The test support of each
build (the heap fixture, and with internal = True the internal headers) is compiled against that
build's settings, so a test takes all of it from the build it tests, never one from the other.
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

# Each build of the allocator, and the suffix of its test support's targets.
_BUILDS = {
    ":alloc": "",
    ":alloc_minimal": "_minimal",
    ":alloc_general_paths": "_general_paths",
}

def alloc_test(name, build = ":alloc", internal = False, deps = [], **kwargs):
    """A cc_test over `build`, its :testing library and, if asked, its :internal_for_test one.

    Args:
      name: the test's name.
      build: the allocator build under test: ":alloc", ":alloc_minimal" or ":alloc_general_paths".
      internal: whether the test includes the internal headers (it breaks the heap on purpose).
      deps: other libraries the test uses.
      **kwargs: the other cc_test attributes (size, srcs, args, linkopts, ...).
    """
    if build not in _BUILDS:
        fail("alloc_test: build must be one of %s, not %s" % (_BUILDS.keys(), build))
    suffix = _BUILDS[build]
    cc_test(
        name = name,
        deps = [build] +
               ([":internal_for_test" + suffix] if internal else []) +
               deps + [":testing" + suffix],
        **kwargs
    )
