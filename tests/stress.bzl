"""stress_end: the last lines of a stress kernel's console (kernel/stress.c), for the boot tests'
`expect` lists in tests/BUILD.bazel.

    expect = [...] + stress_end(cpus = 3, warnings = 1)

expects the stress's verdict on 3 CPUs, then the summary of a run with 2 checks passed and 1
warning.
"""

# The one line the stress prints at the end. Its threads and operations are the kernel's
# (STRESS_THREADS_PER_CPU, STRESS_OPS_TOTAL in kernel/stress.h): verdict=ok says every operation
# ran, without a failure, and on every CPU.
_STRESS_LINE = r"check stress: ok stress: cpus={cpus} threads=[1-9]\d* ops=[1-9]\d* irq_ops=[1-9]\d* acquires=\d+ contended=\d+ verdict=ok"

def stress_end(cpus, warnings = 0, errors = 0):
    """The stress's verdict line, then the summary of its two checks (spinlock-try and stress).

    Args:
      cpus: how many CPUs ran the stress.
      warnings: how many WARN lines the kernel printed.
      errors: how many ERROR lines the kernel printed; any fails the run's verdict (kernel/log.c).

    Returns:
      the two expected lines, in their order.
    """
    return [
        _STRESS_LINE.format(cpus = cpus),
        r"summary: checks=2 failed=0 warnings=%d errors=%d verdict=%s" % (
            warnings,
            errors,
            "FAIL" if errors else "PASS",
        ),
    ]
