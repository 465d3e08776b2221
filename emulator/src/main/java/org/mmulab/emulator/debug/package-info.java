/**
 * The debug API that gdbstub uses: stop/resume/step, registers (system registers through the CPU's MOV-to-CR
 * checks, {@link org.mmulab.emulator.debug.SystemRegister}), memory through debug walks, breakpoints and
 * watchpoints, monitor-command registry. Depends on machine, cpu, mmu, memory.
 */
package org.mmulab.emulator.debug;
