/**
 * The Java port of Linux mm (frames, page tables in guest RAM, VMAs, faults, teardown) and the small process model (ELF loader, tasks, syscalls, signals). Implements emulator.machine.TrapHandler; may call org.mmulab.emulator.*, never gdbstub or cli.
 */
package org.mmulab.kernel;
