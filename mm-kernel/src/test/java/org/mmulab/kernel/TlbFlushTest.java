package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.mmu.MmuCounters;
import org.mmulab.kernel.KernelConfig.PagingMode;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.TlbFlush;

/** arch/x86/mm/tlb.c: ASIDs/PCIDs on mm switches and flush_tlb_mm_range's decisions, on the real MMU. */
class TlbFlushTest {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE, ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;

    private static long ptep(Fixture f, MmStruct mm, long va) {
        long pmd = f.machine.memory().read64(f.memory().pmdOffset(mm, va));
        return (pmd & org.mmulab.emulator.mmu.Pte.ADDR_MASK) + 8 * ((va >>> 12) & 511);
    }

    @Test
    void asidsArePickedRoundRobinAndACurrentAsidSwitchesWithoutFlushing() throws Exception {
        Fixture f = Fixture.booted();
        TlbFlush tf = f.memory().tlbFlush;
        TlbFlush.CpuTlbState st = tf.state(f.cpu);
        MmStruct a = f.mm();
        assertTrue((f.cpu.state.cr4 & CpuState.CR4_PCIDE) != 0);
        assertEquals(1, st.loadedMmAsid(), "exec's switch took the first dynamic ASID (0 is the boot one)");
        assertEquals(a.pgdPhys() | TlbFlush.kernPcid(1), f.cpu.state.cr3);
        long x = f.mmap(0, 4096, RW, ANON);
        long pa = f.write64(x, 1);
        assertTrue(pa > 0);
        MmStruct[] other = new MmStruct[6];
        for (int i = 0; i < other.length; i++) {
            other[i] = f.memory().mmAlloc();
        }
        MmStruct b = other[0];
        MmuCounters c = f.cpu.mmu().counters;
        assertTrue(tf.switchMm(f.cpu, b), "a new ASID is flushed");
        assertEquals(2, st.loadedMmAsid());
        assertEquals(b.pgdPhys() | 3, f.cpu.state.cr3);
        long cr3Flushes = c.cr3Flushes;
        assertFalse(tf.switchMm(f.cpu, a), "A's ASID is still current: CR3 with the no-flush bit");
        assertEquals(cr3Flushes, c.cr3Flushes);
        assertEquals(a.pgdPhys() | 2, f.cpu.state.cr3);
        // Proof that A's entries survived the round trip: make the PTE vanish behind the TLB's back.
        long ptep = ptep(f, a, x);
        long pte = f.machine.memory().read64(ptep);
        f.machine.memory().write64(ptep, 0);
        assertEquals(pa, f.translateNoFault(x, false), "stale but kept: the PCID-tagged entry survived");
        f.machine.memory().write64(ptep, pte);
        // A flush of A while B is loaded touches nothing on this CPU but makes A's ASID stale.
        assertTrue(tf.switchMm(f.cpu, b) == false, "B's ASID is current too");
        long invlpg = c.invlpg;
        long gen = a.tlbGen();
        a.flushTlbRange(x, x + 4096);
        assertEquals(invlpg, c.invlpg, "not loaded here: no INVLPG");
        assertEquals(gen + 1, a.tlbGen());
        f.machine.memory().write64(ptep, 0);
        assertTrue(tf.switchMm(f.cpu, a), "A's ASID is behind its tlb_gen: flush on switch");
        assertEquals(-1, f.translateNoFault(x, false), "the stale entry is gone");
        f.machine.memory().write64(ptep, pte);
        assertEquals(a.tlbGen(), st.tlbGen(1));
        // Round robin over 6 ASIDs: C..F take 3, 4, 5 and wrap to 0; G then evicts A's ASID 1.
        for (int i = 1; i <= 4; i++) {
            assertTrue(tf.switchMm(f.cpu, other[i]));
        }
        assertEquals(0, st.loadedMmAsid(), "the sixth ASID wraps");
        assertTrue(tf.switchMm(f.cpu, other[5]));
        assertEquals(1, st.loadedMmAsid());
        assertEquals(other[5].ctxId(), st.ctxId(1));
        assertTrue(tf.switchMm(f.cpu, a), "A lost its ASID: a new one, flushed");
        assertEquals(2, st.loadedMmAsid());
        assertEquals(a.ctxId(), st.ctxId(2));
        assertEquals(other[3].ctxId(), st.ctxId(5));
        assertFalse(tf.switchMm(f.cpu, other[3]), "E kept ASID 5");
        tf.switchMm(f.cpu, a);
        for (MmStruct m : other) {
            f.memory().exitMmap(m);
        }
    }

    @Test
    void flushTlbMmRangeUsesInvlpgUpToTheCeilingThenACr3Reload() throws Exception {
        Fixture f = Fixture.booted();
        MmStruct a = f.mm();
        MmuCounters c = f.cpu.mmu().counters;
        TlbFlush.CpuTlbState st = f.memory().tlbFlush.state(f.cpu);
        long x = f.mmap(0, 64 * 4096, RW, ANON);
        long pa = f.write64(x, 1);
        long invlpg = c.invlpg, cr3 = c.cr3Flushes;
        a.flushTlbRange(x, x + 2 * 4096);
        assertEquals(invlpg + 2, c.invlpg, "two pages: two INVLPGs");
        assertEquals(cr3, c.cr3Flushes);
        assertEquals(a.tlbGen(), st.tlbGen(st.loadedMmAsid()));
        a.flushTlbRange(x, x + (TlbFlush.TLB_SINGLE_PAGE_FLUSH_CEILING + 1) * 4096L);
        assertEquals(invlpg + 2, c.invlpg, "above the ceiling: no INVLPG...");
        assertEquals(cr3 + 1, c.cr3Flushes, "... but a CR3 reload of the ASID");
        assertEquals(a.pgdPhys() | TlbFlush.kernPcid(st.loadedMmAsid()), f.cpu.state.cr3, "same ASID after the reload");
        // A single-page flush really drops the entry (stale-TLB visibility on the modelled TLB).
        assertEquals(pa, f.touch(x, false));
        long ptep = ptep(f, a, x);
        long pte = f.machine.memory().read64(ptep);
        f.machine.memory().write64(ptep, 0);
        assertEquals(pa, f.translateNoFault(x, false), "no flush yet: stale entry visible");
        a.flushTlbRange(x, x + 4096);
        assertEquals(-1, f.translateNoFault(x, false));
        f.machine.memory().write64(ptep, pte);
    }

    @Test
    void withoutPcidEverySwitchFlushesAsid0() throws Exception {
        Fixture f = Fixture.booted32(PagingMode.PAE);
        TlbFlush tf = f.memory().tlbFlush;
        MmStruct a = f.mm();
        MmStruct b = f.memory().mmAlloc(org.mmulab.kernel.mm.PaePgtable.TASK_SIZE);
        long cr3 = f.cpu.mmu().counters.cr3Flushes;
        assertTrue(tf.switchMm(f.cpu, b));
        assertTrue(tf.switchMm(f.cpu, a));
        assertEquals(cr3 + 2, f.cpu.mmu().counters.cr3Flushes);
        assertEquals(0, tf.state(f.cpu).loadedMmAsid());
        assertEquals(a.pgdPhys(), f.cpu.state.cr3, "no PCID bits in a PAE CR3");
        assertEquals(f.machine.memory().read64(a.pgdPhys()), f.cpu.mmu().pdpteRegister(0), "PDPTEs reloaded");
        f.memory().exitMmap(b);
    }
}
