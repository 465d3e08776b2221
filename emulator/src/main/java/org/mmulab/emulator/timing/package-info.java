/**
 * Timing: cycle accounting and the cache model that page-walk and kernel memory references go
 * through. Depends on nothing else in mmulab; {@code mmu} and {@code cpu} charge into it.
 */
package org.mmulab.emulator.timing;
