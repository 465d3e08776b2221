/**
 * Timing: the cost model ({@link org.mmulab.emulator.timing.TimingModel}: instruction classes, TLB levels,
 * caches, traps, locks, IPIs, frequency, each with its source), the cache hierarchy (L1I, L1D, L2, LLC)
 * that guest loads, stores and instruction fetches, page-walk and kernel memory references go through
 * ({@link org.mmulab.emulator.timing.CacheHierarchy}), the MMU's walk, data and fetch charges
 * ({@link org.mmulab.emulator.timing.WalkTiming}) and each vCPU's cycle account for kernel
 * work, traps and the fault-latency histogram ({@link org.mmulab.emulator.timing.VcpuClock}). Depends on
 * nothing else in mmulab; {@code mmu}, {@code cpu}, {@code machine} and the kernel charge into it.
 */
package org.mmulab.emulator.timing;
