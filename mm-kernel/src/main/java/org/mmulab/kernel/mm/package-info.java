/**
 * The Java port of Linux mm (6.x): the frame table and buddy allocator ({@link
 * org.mmulab.kernel.mm.FrameTable}), page tables in guest RAM behind {@link
 * org.mmulab.kernel.mm.PgtableOps} (4-level today, PAE next), the fault path and teardown of
 * mm/memory.c ({@link org.mmulab.kernel.mm.Memory}, {@link org.mmulab.kernel.mm.MmuGather}), and the
 * address-space operations of mm/mmap.c, mprotect.c and madvise.c ({@link org.mmulab.kernel.mm.Mmap}).
 * May call org.mmulab.emulator.memory and org.mmulab.emulator.mmu (invalidations) and
 * org.mmulab.emulator.machine (mm_cpumask holds vCPUs); knows nothing of processes or syscalls.
 */
package org.mmulab.kernel.mm;
