/**
 * Composition root: the {@code mmulab} command ({@code boot}), argument parsing with picocli, reports.
 * May call every other main module (emulator, mm-kernel, gdbstub).
 */
package org.mmulab.cli;
