package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * {@link Mmu#mayReach} (for --check's "no frame freed while a vCPU can still reach it"): a data frame
 * through the TLBs and the fast path, a page-table frame through the paging-structure caches, the
 * root through CR3, 2 MiB pages by every 4 KiB frame inside them, the interpreter's fetch frame; and
 * nothing after the flushes that drop them. {@link FrameReach#describe} / {@link FrameReach#reachedBy} name
 * the structure. And the rule that makes --check's unsynchronised read of another vCPU's caches sound: a
 * dropped entry leaves no frame behind in its slot.
 */
class MayReachTest extends MmuFixture {
    static final long VA = 0x1000_0000L, BIG = 0x4000_0000L;

    MayReachTest() {
        super(CpuModel.SKYLAKE);
    }

    /** A fresh Skylake MMU with 4-level tables, running user code (CPL 3). */
    private void setUpUser() {
        setUpMmu();
        s.cpl = 3;
    }

    @Test
    void tlbsCachesFastPathAndFetchFrame() {
        setUpUser();
        long pte = pt.map4k(VA, 0x200000, URW | Pte.D);
        long ptFrame = pte & ~0xfffL;
        pt.map2m(BIG, 0x400000, URW | Pte.D);
        assertFalse(mmu.mayReach(0x200000));
        assertFalse(mmu.mayReach(ptFrame));

        for (int i = 0; i < 3; i++) {
            mmu.read64(VA); // walk, L1 hit, fast-path hit
        }
        mmu.read64(BIG + 0x5000);
        assertTrue(mmu.mayReach(0x200000), "dTLB / fast path");
        assertTrue(mmu.mayReach(ptFrame), "the PDE cache points at the page table");
        assertTrue(mmu.mayReach(0x400000 + 0x1f_f000), "any 4 KiB frame of a cached 2 MiB page");
        assertTrue(mmu.mayReach(pt.root), "CR3's root");

        mmu.invlpg(VA);
        assertFalse(mmu.mayReach(0x200000), "INVLPG dropped the TLB and fast-path entries");
        assertFalse(mmu.mayReach(ptFrame), "INVLPG dropped the paging-structure caches");
        assertTrue(mmu.mayReach(0x400000));
        mmu.flushAll();
        assertFalse(mmu.mayReach(0x400000));

        mmu.setFetchFrame(0x300123);
        assertTrue(mmu.mayReach(0x300000), "the interpreter's cached fetch page");
        mmu.setFetchFrame(-1);
        assertFalse(mmu.mayReach(0x300000));
    }

    /**
     * --check reads another vCPU's TLB, paging-structure caches and fast path without synchronisation while
     * that vCPU fills them (the tag or key word first, then the frame word). The frame it pairs with a tag
     * just written is whatever the slot's frame word held before that fill: so once an entry is dropped —
     * INVLPG, a CR3 load, a full flush, a shootdown acknowledged before the frame is freed — its slot must
     * no longer name the frame, or the reader reports a frame "freed while vCPU n can still reach it" that
     * the vCPU cannot reach (SmpStressTest, PAE, 4 vCPUs, PARALLEL: "pfn 0x2c freed while vCPU 3 can still
     * reach it"). Fails on the old code, whose invalid slots kept their frame.
     */
    @Test
    void aDroppedEntryLeavesNoFrameForARacyReaderToPairWithTheNextFill() {
        for (String drop : List.of("invlpg", "mov cr3", "flush all", "invpcid single-context")) {
            setUpUser();
            long pte = pt.map4k(VA, 0x200000, URW | Pte.D);
            long ptFrame = pte & ~0xfffL;
            for (int i = 0; i < 3; i++) {
                mmu.read64(VA);
                mmu.write64(VA, i);
            }
            assertTrue(slotFrames(mmu).contains(0x200000L) && slotFrames(mmu).contains(ptFrame), "filled");
            switch (drop) {
                case "invlpg" -> mmu.invlpg(VA);
                case "mov cr3" -> mmu.writeCr3(pt.root);
                case "flush all" -> mmu.flushAll();
                default -> mmu.invpcid(1, 0, 0);
            }
            assertFalse(mmu.mayReach(0x200000), drop);
            assertFalse(slotFrames(mmu).contains(0x200000L), drop + ": a dropped TLB or fast-path slot still names the data frame");
            assertFalse(slotFrames(mmu).contains(ptFrame), drop + ": a dropped paging-structure-cache slot still names the table");
        }
    }

    /** The frame word of every slot, valid or not, of every TLB array, paging-structure cache and the fast path. */
    private static List<Long> slotFrames(Mmu mmu) {
        List<Long> out = new ArrayList<>();
        Consumer<Long> add = f -> out.add(f & ~0xfffL);
        for (Tlb t : new Tlb[] {mmu.dtlb, mmu.itlb, mmu.stlb}) {
            for (int size = Tlb.SIZE_4K; size <= Tlb.SIZE_1G; size++) {
                TlbArray a = t.array(size);
                for (int slot = 0; a != null && slot < a.entries(); slot++) {
                    add.accept(a.frame(slot));
                }
            }
        }
        for (PagingStructureCache c : mmu.pagingStructureCaches()) {
            for (int slot = 0; slot < c.entries(); slot++) {
                add.accept(c.nextTable(slot));
            }
        }
        for (long f : mmu.fast.page) {
            add.accept(f);
        }
        return out;
    }

    /** --check's report names what reaches a frame: TLB array and entry, fast path, paging-structure cache, CR3. */
    @Test
    void describeNamesTheStructureAndEntry() {
        setUpUser();
        long ptFrame = pt.map4k(VA, 0x200000, URW | Pte.D) & ~0xfffL;
        assertNull(FrameReach.describe(mmu, 0x200000));
        assertNull(FrameReach.reachedBy(mmu, 0x200000));
        for (int i = 0; i < 3; i++) {
            mmu.read64(VA);
        }
        String data = FrameReach.describe(mmu, 0x200000);
        assertTrue(data.contains("dtlb-4k entry va 0x10000000 pcid 0"), data);
        assertTrue(data.contains("data fast path slot 0 va 0x10000000"), data);
        assertEquals("data fast path", FrameReach.reachedBy(mmu, 0x200000), "the first structure found");
        String table = FrameReach.describe(mmu, ptFrame);
        assertTrue(table.contains("pde-cache entry va 0x10000000 pcid 0"), table);
        assertEquals("CR3 0x100000", FrameReach.describe(mmu, pt.root));
        mmu.setFetchFrame(0x300123);
        assertEquals("instruction-fetch frame", FrameReach.reachedBy(mmu, 0x300000));
    }

    /** Under PAE the page directories are reached through the PDPTE registers until the next MOV CR3. */
    @Test
    void describeNamesThePaePdpteRegister() {
        PhysicalMemory mem = new PhysicalMemory(64 << 20);
        CpuState s = new CpuState();
        s.efer = CpuState.EFER_NXE;
        s.longMode64 = false;
        Mmu mmu = new Mmu(mem, s, 39);
        long pdpt = 0x10_0000L, pd0 = 0x10_1000L, pd1 = 0x10_2000L, empty = 0x10_3000L;
        mem.write64(pdpt, pd0 | Pte.P);
        mem.write64(pdpt + 8, pd1 | Pte.P);
        mmu.writeCr3(pdpt);
        assertEquals("PDPTE register", FrameReach.reachedBy(mmu, pd1));
        assertTrue(FrameReach.describe(mmu, pd1).startsWith("PDPTE register 1 = 0x102001"), FrameReach.describe(mmu, pd1));
        mmu.writeCr3(empty); // another PDPT (all PDPTEs not present): the registers reloaded
        assertNull(FrameReach.describe(mmu, pd1));
        assertNull(FrameReach.describe(mmu, pd0));
    }
}
