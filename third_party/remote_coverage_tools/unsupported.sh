#!/bin/sh
# Stands in for Bazel's downloaded coverage tools, which this offline workspace does not have.
echo "bazel coverage is not supported offline: remote_coverage_tools is a local stand-in" >&2
exit 1
