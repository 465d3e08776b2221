/** The machine model. Knows nothing about Linux (DESIGN §2). */
package org.mmulab.emulator;
