/* Deliberate failures for the fault tests, chosen on the kernel command line with
 * "scenario=<name>" (see tests/BUILD.bazel). Each must end in a report and the failure exit;
 * none returns. */
#ifndef KERNEL_SCENARIOS_H
#define KERNEL_SCENARIOS_H

#include <stdbool.h>

/* Runs the scenario named on the command line, if any. Returns false when the command line names
 * no scenario; logs an error and returns true when it names an unknown one. */
bool scenario_run(const char *cmdline);

#endif
