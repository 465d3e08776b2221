/**
 * The machine: RAM, vCPUs, their run loops and threads (PARALLEL or the DETERMINISTIC baton), the
 * IPI mailboxes and idle/kick, and the trap-handler boundary to the kernel. May call
 * {@code cpu}, {@code mmu}, {@code memory}; never calls the kernel except through {@link
 * org.mmulab.emulator.machine.TrapHandler}.
 */
package org.mmulab.emulator.machine;
