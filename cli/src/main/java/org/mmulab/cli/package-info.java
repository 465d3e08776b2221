/**
 * Composition root: the mmulab command (boot), argument parsing with picocli, reports. May call every other main module.
 */
package org.mmulab.cli;
