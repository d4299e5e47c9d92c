/*
 * cpus.c — how many processors this process may run on, so that work is
 * split over threads only when there is a second core to run them (a box
 * pinned to one core, or a one-core board, does it all on one thread and
 * saves the hand-over).
 */
#include <sched.h>
#include <unistd.h>

#include "kho_core.h"

int kho_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}
