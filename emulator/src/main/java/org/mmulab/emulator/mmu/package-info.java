/**
 * The MMU: hardware page walker, TLB arrays and invalidation rules (Intel SDM Vol. 3A ch. 4), and the
 * control-register write rules that feed them ({@link org.mmulab.emulator.mmu.ControlRegisterWrites}: MOV to CRn
 * and WRMSR EFER with their #GP checks).
 * Reads paging structures from {@code memory}; raises faults through {@code cpu.GuestFault}.
 * Never knows who built the page tables.
 */
package org.mmulab.emulator.mmu;
