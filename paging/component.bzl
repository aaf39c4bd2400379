"""paging_component: one component of //paging, a C library that takes its frames through the
frame source interface (:frame_source), with its public header under include/paging/.

    paging_component(
        name = "mapper",
        srcs = ["mapper.c"],
        hdrs = ["include/paging/mapper.h"],
    )

is a public cc_library named `mapper` of those files, included as "paging/mapper.h".
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def paging_component(name, srcs, hdrs):
    """A public cc_library of `srcs` and `hdrs` (under include/) that depends on :frame_source.

    Args:
      name: the target's name.
      srcs: its C sources.
      hdrs: its public headers, each under include/paging/.
    """
    cc_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        strip_include_prefix = "include",
        visibility = ["//visibility:public"],
        deps = [":frame_source"],
    )
