/**
 * The debug API that gdbstub uses: stop/resume/step, registers, memory through debug walks,
 * breakpoints and watchpoints, monitor-command registry. Depends on machine, cpu, mmu, memory.
 */
package org.mmulab.emulator.debug;
