package org.mmulab.emulator.mmu;

import java.util.List;

/**
 * Result of a debug walk: every paging-structure entry the hardware would read for {@code va}, without
 * setting A/D or filling any TLB (for gdb and monitor commands).
 *
 * @param mode        "4-level", "PAE" or "off"
 * @param levels      the entries read, outermost first
 * @param physical    the translated physical address, or -1 when the walk stops
 * @param stopReason  null when translated; otherwise why the walk stopped ("not present", "reserved bit")
 */
public record DebugWalk(String mode, long va, List<Level> levels, long physical, String stopReason) {
    /**
     * One level of the walk.
     *
     * @param name          PML4E, PDPTE, PDE, PTE; "PDPTE register" for PAE's cached PDPTEs
     * @param entryAddress  physical address of the entry, or -1 for a PDPTE register
     */
    public record Level(String name, long entryAddress, long entry) {
        @Override
        public String toString() {
            String where = entryAddress < 0 ? "register" : String.format("@0x%x", entryAddress);
            return String.format("%-14s %s = 0x%016x %s", name, where, entry, Pte.flags(entry));
        }
    }

    public boolean translated() {
        return physical >= 0;
    }
}
