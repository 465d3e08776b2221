/**
 * The x86 CPU: architectural state, decoder and interpreter. Calls {@code mmu} for every guest
 * memory access and {@code memory} for the decoded-code marks; knows nothing about Linux.
 */
package org.mmulab.emulator.cpu;
