package org.mmulab.emulator.mmu;

import java.util.ArrayList;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * The debugger's page walk (gdb, monitor commands; Bochs' dbg_xlate_linear2phy): the entries the
 * hardware would read for a linear address under 4-level (SDM Vol. 3A §4.5) or PAE (§4.4) paging, with
 * the same reserved-bit rules as the {@link PageWalker}, but no A/D updates, no TLB or cache fills and no
 * counters.
 */
final class DebugWalker {
    private static final String[] NAMES = {"PTE", "PDE", "PDPTE", "PML4E"};

    private DebugWalker() {
    }

    static DebugWalk walk(Mmu mmu, PageWalker walker, long physAddrMask, long va) {
        CpuState s = mmu.state();
        PhysicalMemory mem = mmu.mem;
        List<DebugWalk.Level> levels = new ArrayList<>(4);
        if ((s.cr0 & CpuState.CR0_PG) == 0) {
            return new DebugWalk("off", va, levels, va & 0xffff_ffffL, null);
        }
        boolean nxe = (s.efer & CpuState.EFER_NXE) != 0;
        boolean lm = s.pagingLongMode();
        String mode = lm ? "4-level" : "PAE";
        if (lm && ((va << 16) >> 16) != va) {
            return new DebugWalk(mode, va, levels, -1, "non-canonical address");
        }
        if (!lm) {
            va &= 0xffff_ffffL;
        }
        long table;
        int top;
        if (lm) {
            table = s.cr3 & physAddrMask;
            top = 4;
        } else {
            long pdpte = mmu.pdpteRegister((int) (va >>> 30) & 3);
            levels.add(new DebugWalk.Level("PDPTE register", -1, pdpte));
            if ((pdpte & Pte.P) == 0) {
                return new DebugWalk(mode, va, levels, -1, "not present");
            }
            table = pdpte & physAddrMask;
            top = 2;
        }
        for (int level = top; level >= 1; level--) {
            long ea = table + (((va >>> (12 + 9 * (level - 1))) & 511) << 3);
            long e = mem.read64(ea);
            levels.add(new DebugWalk.Level(NAMES[level - 1], ea, e));
            if ((e & Pte.P) == 0) {
                return new DebugWalk(mode, va, levels, -1, "not present");
            }
            if (lm ? walker.reserved4Level(e, level, nxe) : walker.reservedPae(e, level, nxe)) {
                return new DebugWalk(mode, va, levels, -1, "reserved bit set");
            }
            if (level == 1 || (level <= 3 && (e & Pte.PS) != 0)) {
                long mask = (1L << (12 + 9 * (level - 1))) - 1;
                return new DebugWalk(mode, va, levels, (e & physAddrMask & ~mask) | (va & mask), null);
            }
            table = e & physAddrMask;
        }
        throw new AssertionError("unreachable");
    }
}
