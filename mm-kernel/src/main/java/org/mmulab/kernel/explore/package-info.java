/**
 * The race explorer (issue 18): kernel races of the mm port as reproducible, searchable schedules.
 *
 * <p>A {@link org.mmulab.kernel.explore.Scenario} is a few Java-driven guest threads, one per vCPU of a
 * small machine under {@code Machine.Scheduling.DETERMINISTIC}, each driving the mm the way the kernel
 * does (faults through the vCPU's own MMU, madvise, mprotect), plus the invariants that catch its race.
 * The schedule is the seed: a PCT scheduler ({@link org.mmulab.kernel.explore.Pct}, Burckhardt et al.,
 * ASPLOS 2010: random priorities, d-1 priority change points drawn from the seed) or a uniform random
 * walk decides at every yield point — lock acquire/release/spin, each PTE word or PAE half read and
 * written, lockless PMD reads, the walker's loads and A/D CAS, IPI send/ack, shootdowns, the
 * mmu_gather flush — which vCPU runs next. Same seed, same run, on any host.
 *
 * <p>Each real scenario names the {@link org.mmulab.kernel.mm.MmFix} it depends on; with
 * {@code --revert-fix} the explorer turns that fix off in the Memory it builds (never reachable from a
 * guest), and a violation must follow within the scenario's seed budget. Scenarios whose kernel
 * feature the port lacks are {@link org.mmulab.kernel.explore.PendingScenario}s: listed with the
 * reason, never faked. Depends on org.mmulab.kernel.mm and org.mmulab.emulator; nothing depends on it
 * but the CLI.
 */
package org.mmulab.kernel.explore;
