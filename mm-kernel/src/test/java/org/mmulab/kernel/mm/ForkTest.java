package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * fork's mm half ({@link Fork#dupMmap}) and the COW fault after it, on the mm alone: what the page
 * tables, struct pages and counters of parent and child hold after each step.
 */
class ForkTest {
    static final long A = 0x4000_0000L;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED;
    static final int W = Memory.FAULT_FLAG_WRITE | Memory.FAULT_FLAG_USER;
    PhysicalMemory mem;
    Memory memory;
    FrameTable frames;
    Mmap mmap;
    MmStruct parent;

    @BeforeEach
    void setUp() {
        mem = new PhysicalMemory(16L << 20);
        memory = new Memory(mem);
        frames = memory.frames();
        mmap = new Mmap(memory);
        memory.check.assertPteLocks();
        parent = memory.mmAlloc();
    }

    private void fault(MmStruct mm, long va, int flags) {
        assertEquals(Memory.VM_FAULT_OK, memory.handleMmFault(mm.findVma(va), va, flags));
    }

    private long pte(MmStruct mm, long va) {
        return memory.lookupPte(mm, va);
    }

    private long pa(MmStruct mm, long va) {
        return (PteBits.pfn(pte(mm, va)) << 12) | (va & 0xfff);
    }

    @Test
    void privateAnonIsWriteProtectedInBothAndCowCopiesInTheChildThenTheParentReuses() {
        assertEquals(A, mmap.doMmap(parent, null, A, 4 * 4096, RW, ANON, 0, null));
        for (int i = 0; i < 4; i++) {
            fault(parent, A + i * 4096L, W);
            mem.write64(pa(parent, A + i * 4096L), 0x1000 + i);
        }
        long pfn0 = PteBits.pfn(pte(parent, A));
        assertTrue(frames.anonExclusive(pfn0));
        MmStruct child = Fork.dupMmap(memory, parent);
        assertNotNull(child);
        for (int i = 0; i < 4; i++) {
            long va = A + i * 4096L;
            long p = pte(parent, va), c = pte(child, va);
            assertFalse(PteBits.write(p), "parent PTE write-protected");
            assertFalse(PteBits.write(c), "child PTE write-protected");
            assertEquals(PteBits.pfn(p), PteBits.pfn(c), "same page");
            assertEquals(0, c & PteBits.ACCESSED, "the child's copy is old");
            long pfn = PteBits.pfn(p);
            assertEquals(2, frames.refcount(pfn));
            assertEquals(2, frames.mapcount(pfn));
            assertFalse(frames.anonExclusive(pfn), "shared by two mms: not exclusive any more");
        }
        assertEquals(4, child.counter(MmStruct.MM_ANONPAGES));
        assertEquals(4, child.hiwaterRss());
        assertEquals(parent.totalVm(), child.totalVm());
        assertEquals(child.totalVm(), child.hiwaterVm());
        assertEquals(parent.mapCount(), child.mapCount());
        // The child writes: COW copies (refcount 2), data preserved, the parent's page untouched.
        long copies = memory.stats.faultWpCopy.get();
        fault(child, A, W);
        assertEquals(copies + 1, memory.stats.faultWpCopy.get());
        long cpfn = PteBits.pfn(pte(child, A));
        assertNotEquals(pfn0, cpfn);
        assertTrue(PteBits.write(pte(child, A)));
        assertTrue(frames.anonExclusive(cpfn), "the copy is exclusive to the child");
        assertEquals(0x1000, mem.read64(cpfn << 12));
        mem.write64(cpfn << 12, 0xc417d);
        assertEquals(0x1000, mem.read64(pfn0 << 12), "the child's write is not the parent's");
        assertEquals(1, frames.refcount(pfn0));
        assertEquals(1, frames.mapcount(pfn0));
        // The parent writes the same page: only its reference is left, so it is reused in place.
        long reuses = memory.stats.faultWpReuse.get();
        fault(parent, A, W);
        assertEquals(reuses + 1, memory.stats.faultWpReuse.get());
        assertEquals(pfn0, PteBits.pfn(pte(parent, A)));
        assertTrue(PteBits.write(pte(parent, A)));
        assertTrue(frames.anonExclusive(pfn0), "reused: exclusive again (folio_move_anon_rmap)");
        // A page both still map: the parent's write copies too.
        fault(parent, A + 4096, W);
        assertNotEquals(PteBits.pfn(pte(child, A + 4096)), PteBits.pfn(pte(parent, A + 4096)));
        assertEquals(0x1001, mem.read64(pa(parent, A + 4096)));
        assertEquals(4, parent.counter(MmStruct.MM_ANONPAGES));
        assertEquals(4, child.counter(MmStruct.MM_ANONPAGES));
        assertEquals(List.of(), memory.check.checkMms(List.of(parent, child)));
    }

    @Test
    void anExclusivePageIsReusedWithoutLookingAtTheRefcount() {
        assertEquals(A, mmap.doMmap(parent, null, A, 4096, RW, ANON, 0, null));
        fault(parent, A, W);
        // mprotect(PROT_READ) then back: the PTE loses RW, the page stays exclusive.
        assertEquals(0, mmap.mprotect(parent, A, 4096, Mmap.PROT_READ));
        assertFalse(PteBits.write(pte(parent, A)));
        long pfn = PteBits.pfn(pte(parent, A));
        frames.get(pfn); // a transient extra reference (a pending gather batch, say)
        assertEquals(0, mmap.mprotect(parent, A, 4096, RW));
        long excl = memory.stats.faultWpReuseExclusive.get();
        if (!PteBits.write(pte(parent, A))) {
            fault(parent, A, W);
            assertEquals(excl + 1, memory.stats.faultWpReuseExclusive.get());
        }
        assertEquals(pfn, PteBits.pfn(pte(parent, A)), "PageAnonExclusive: written in place despite refcount 2");
        frames.put(pfn);
    }

    @Test
    void sharedMappingsStaySharedAndWritable() {
        int shared = Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED;
        assertEquals(A, mmap.doMmap(parent, null, A, 2 * 4096, RW, shared, 0, null));
        fault(parent, A, W);
        mem.write64(pa(parent, A), 42);
        MmStruct child = Fork.dupMmap(memory, parent);
        assertNotNull(child);
        assertTrue(PteBits.write(pte(parent, A)), "a shared mapping is not write-protected");
        fault(child, A, W);
        assertTrue(PteBits.write(pte(child, A)));
        assertEquals(PteBits.pfn(pte(parent, A)), PteBits.pfn(pte(child, A)), "one page for both");
        mem.write64(pa(child, A), 43);
        assertEquals(43, mem.read64(pa(parent, A)));
        assertEquals(1, child.counter(MmStruct.MM_SHMEMPAGES));
        assertEquals(List.of(), memory.check.checkMms(List.of(parent, child)));
    }

    @Test
    void dontForkIsLeftOutAndWipeOnForkGivesAnEmptyRange() {
        assertEquals(A, mmap.doMmap(parent, null, A, 4 * 4096, RW, ANON, 0, null));
        for (int i = 0; i < 4; i++) {
            fault(parent, A + i * 4096L, W);
        }
        assertEquals(0, mmap.madvise(parent, A, 4096, Mmap.MADV_DONTFORK));
        assertEquals(0, mmap.madvise(parent, A + 2 * 4096, 2 * 4096, Mmap.MADV_WIPEONFORK));
        MmStruct child = Fork.dupMmap(memory, parent);
        assertNotNull(child);
        assertNull(child.vmaLookup(A), "VM_DONTCOPY is not in the child");
        assertEquals(0, pte(child, A));
        assertEquals(parent.totalVm() - 1, child.totalVm());
        assertNotNull(child.vmaLookup(A + 2 * 4096), "VM_WIPEONFORK: the range exists");
        assertEquals(0, pte(child, A + 2 * 4096), "... with no pages");
        assertEquals(0, pte(child, A + 3 * 4096));
        assertTrue(PteBits.write(pte(parent, A + 2 * 4096)), "nothing shared, nothing write-protected");
        assertEquals(1, child.counter(MmStruct.MM_ANONPAGES), "only the page at A+4096 is copied");
        fault(child, A + 2 * 4096, Memory.FAULT_FLAG_USER);
        assertEquals(memory.zeroPfn(), PteBits.pfn(pte(child, A + 2 * 4096)), "a wiped range reads zeroes");
        assertEquals(List.of(), memory.check.checkMms(List.of(parent, child)));
    }

    @Test
    void theZeroPageIsCopiedAsASpecialMappingWithoutReferences() {
        assertEquals(A, mmap.doMmap(parent, null, A, 4096, RW, ANON, 0, null));
        fault(parent, A, Memory.FAULT_FLAG_USER);
        int ref = frames.refcount(memory.zeroPfn());
        MmStruct child = Fork.dupMmap(memory, parent);
        assertEquals(memory.zeroPfn(), PteBits.pfn(pte(child, A)));
        assertEquals(ref, frames.refcount(memory.zeroPfn()));
        assertEquals(0, child.rss());
        fault(child, A, W);
        assertNotEquals(memory.zeroPfn(), PteBits.pfn(pte(child, A)));
        assertEquals(1, child.rss());
    }

    @Test
    void everythingGoesBackWhenBothExit() {
        long free = frames.freePages();
        MmStruct p = memory.mmAlloc();
        assertEquals(A, mmap.doMmap(p, null, A, 64 * 4096, RW, ANON, 0, null));
        for (int i = 0; i < 64; i++) {
            fault(p, A + i * 4096L, W);
        }
        MmStruct c = Fork.dupMmap(memory, p);
        for (int i = 0; i < 64; i += 2) {
            fault(c, A + i * 4096L, W);
        }
        memory.exitMmap(p);
        memory.exitMmap(c);
        assertEquals(free, frames.freePages(), "no frame leaked");
    }

    /** Out of memory half way through: null, and every frame the partial child took is back. */
    @Test
    void forkOutOfMemoryReturnsNullAndLeaksNothing() {
        PhysicalMemory small = new PhysicalMemory(4L << 20);
        Memory m = new Memory(small);
        m.check.assertPteLocks();
        Mmap mm2 = new Mmap(m);
        MmStruct p = m.mmAlloc();
        assertEquals(A, mm2.doMmap(p, null, A, 4L << 20, RW, ANON | Mmap.MAP_NORESERVE, 0, null));
        // Fill memory with private pages spread over many PTE tables so the child needs tables too.
        int touched = 0;
        for (long va = A; va < A + (4L << 20); va += 4096 * 4) {
            if (m.handleMmFault(p.findVma(va), va, W) != Memory.VM_FAULT_OK) {
                break;
            }
            touched++;
        }
        assertTrue(touched > 10);
        List<MmStruct> children = new ArrayList<>();
        long freeBefore = m.frames().freePages();
        MmStruct c;
        int forks = 0;
        while ((c = Fork.dupMmap(m, p)) != null) {
            children.add(c);
            freeBefore = m.frames().freePages();
            assertTrue(++forks < 10_000);
        }
        assertEquals(freeBefore, m.frames().freePages(), "a failed fork gives every frame back");
        // The parent still works: its pages are write-protected but COW resolves (reuse or copy).
        for (MmStruct ch : children) {
            m.exitMmap(ch);
        }
        assertEquals(Memory.VM_FAULT_OK, m.handleMmFault(p.findVma(A), A, W));
        assertTrue(PteBits.write(m.lookupPte(p, A)));
        assertEquals(List.of(), m.check.checkMms(List.of(p)));
    }
}
