/**
 * Guest physical memory: RAM chunks, ordered/atomic word access, unbacked space, MMIO, and the
 * per-frame "holds decoded code" marks. Depends on nothing else in mmulab.
 */
package org.mmulab.emulator.memory;
