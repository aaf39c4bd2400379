/* Deliberate failures for the fault tests, chosen on the kernel command line with
 * "scenario=<name>" (see tests/BUILD.bazel). Each ends in a report and the failure exit, except
 * hang (goes silent, never exits) and triple_fault (resets the machine without a word); none
 * returns. Also the stack overflow's recursion, which stress.c's thread overflow shares. */
#ifndef KERNEL_SCENARIOS_H
#define KERNEL_SCENARIOS_H

/* The command line's key that names a scenario. */
#define SCENARIO_KEY "scenario="

/* What scenario_run did, when it returns at all (a scenario that runs never returns). */
enum scenario_result {
    SCENARIO_NONE,    /* the command line names no scenario: run the normal checks */
    SCENARIO_UNKNOWN, /* it names one that does not exist: an ERROR line was logged */
};

/* Runs the scenario named on the command line ("scenario=<name>"), if any. */
enum scenario_result scenario_run(const char *cmdline);

/* Recurses until the stack in use runs into its guard page (512-byte frames, well under a page, so
 * no frame steps over it): the kernel stack's in scenario=stack_overflow, a thread's in
 * fault=thread_overflow (stress.c). Does not return. */
void scenario_recurse_until_overflow(void);

#endif
