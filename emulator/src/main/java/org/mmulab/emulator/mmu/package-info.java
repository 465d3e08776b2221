/**
 * The MMU: hardware page walker, TLB arrays and invalidation rules (Intel SDM Vol. 3A ch. 4).
 * Reads paging structures from {@code memory}; raises faults through {@code cpu.GuestFault}.
 * Never knows who built the page tables.
 */
package org.mmulab.emulator.mmu;
