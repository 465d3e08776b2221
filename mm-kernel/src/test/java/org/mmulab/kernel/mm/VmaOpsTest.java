package org.mmulab.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The VMA operations besides mremap on the mm alone, in both page-table formats: mmap flags
 * (MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_LOCKED, MAP_STACK, MAP_GROWSDOWN, mmap_min_addr, top-down
 * placement), madvise (DONTNEED, FREE, REMOVE, POPULATE_*, DONTFORK, WIPEONFORK, THP advice), mincore,
 * mlock accounting, GUP (FOLL_FORCE COW without Dirty COW, never following PFN maps) and PFN/mixed maps
 * (remap_pfn_range, vm_insert_page, COW and fork of them). Each test ends with the census and, once
 * every mm is gone, no leak.
 */
class VmaOpsTest extends MmFixture {
    static final long A = 0x4000_0000L, B = 0x5000_0000L;

    byte[] mincore(long start, long len) {
        byte[] vec = new byte[(int) ((len + P - 1) / P)];
        long r = mmap.mincoreOps().mincore(mm, start, len, 0x1000, (va, b, n) -> {
            System.arraycopy(b, 0, vec, (int) (va - 0x1000), n);
            return true;
        });
        assertEquals(0, r);
        return vec;
    }

    // ---- mmap flags -----------------------------------------------------------------------

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void mmapFlags(boolean pae) {
        setUp(pae);
        assertEquals(A, mmap.doMmap(mm, null, A, 2 * P, RW, ANON, 0, null));
        assertEquals(-17, mmap.doMmap(mm, null, A + P, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED_NOREPLACE,
                0, null), "EEXIST");
        assertEquals(A + 2 * P, mmap.doMmap(mm, null, A + 2 * P, P, RW,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED_NOREPLACE, 0, null));
        // MAP_POPULATE: every page present (written: private writable), nothing faulted later
        assertEquals(B, mmap.doMmap(mm, null, B, 4 * P, RW, ANON | Mmap.MAP_POPULATE, 0, null));
        assertArrayEquals(new byte[] {1, 1, 1, 1}, mincore(B, 4 * P));
        assertEquals(4, mm.counter(MmStruct.MM_ANONPAGES));
        // MAP_STACK: VM_NOHUGEPAGE (6.7+); MAP_GROWSDOWN: private anonymous only
        long s = mmap.doMmap(mm, null, 0, 4 * P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_STACK, 0, null);
        assertTrue((mm.vmaLookup(s).flags() & VmArea.VM_NOHUGEPAGE) != 0);
        assertEquals(-22, mmap.doMmap(mm, null, 0, P, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_GROWSDOWN, 0,
                null));
        long g = mmap.doMmap(mm, null, 0, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_GROWSDOWN, 0, null);
        assertTrue((mm.vmaLookup(g).flags() & VmArea.VM_GROWSDOWN) != 0);
        // mmap_min_addr: MAP_FIXED below it is EPERM; a hint below it is rounded up to it
        assertEquals(-1, mmap.doMmap(mm, null, 0x1000, P, RW, ANON, 0, null));
        assertEquals(Mmap.MMAP_MIN_ADDR, mmap.doMmap(mm, null, 0x1000, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null));
        // top-down: consecutive unhinted mappings go down from mmap_base, each right below the last
        mm.mmapBase = 0x7000_0000L;
        long x = mmap.doMmap(mm, null, 0, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null);
        long y = mmap.doMmap(mm, null, 0, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null);
        assertEquals(0x7000_0000L - P, x);
        assertEquals(x - P, y);
        // a free hint is taken as is; a busy one falls back to the search
        assertEquals(0x6000_0000L, mmap.doMmap(mm, null, 0x6000_0000L, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null));
        assertEquals(y - P, mmap.doMmap(mm, null, A, P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null));
        // MAP_LOCKED: populated, counted, and refused past RLIMIT_MEMLOCK
        mm.memlockRlimit = 8 * P;
        long l = mmap.doMmap(mm, null, 0, 4 * P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_LOCKED, 0, null);
        assertFalse(Mmap.isErr(l));
        assertTrue(PteBits.present(pte(mm, l + 3 * P)));
        assertEquals(4, Mlock.lockedVm(mm));
        assertEquals(-11, mmap.doMmap(mm, null, 0, 8 * P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_LOCKED, 0,
                null));
        tearDown();
    }

    // ---- madvise --------------------------------------------------------------------------

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void madviseZapsRemovesAndPopulatesAsLinux(boolean pae) {
        setUp(pae);
        mmap.doMmap(mm, null, A, 4 * P, RW, ANON, 0, null);
        mmap.doMmap(mm, null, B, 4 * P, RW, SHARED, 0, null);
        for (int i = 0; i < 4; i++) {
            store(mm, A + i * P, 10 + i);
            store(mm, B + i * P, 20 + i);
        }
        assertEquals(0, mmap.madvise(mm, A, 2 * P, Mmap.MADV_DONTNEED));
        assertEquals(0, load(mm, A), "anonymous: zeroes after DONTNEED");
        assertEquals(12, load(mm, A + 2 * P));
        assertEquals(0, mmap.madvise(mm, B, 2 * P, Mmap.MADV_DONTNEED));
        assertEquals(0, pte(mm, B));
        assertArrayEquals(new byte[] {1, 1, 1, 1}, mincore(B, 4 * P), "unmapped but still in the shmem cache");
        assertEquals(20, load(mm, B), "shmem: the object's data after DONTNEED");
        assertEquals(-22, mmap.madvise(mm, B, P, Mmap.MADV_FREE), "FREE: anonymous only");
        assertEquals(0, mmap.madvise(mm, A + 2 * P, P, Mmap.MADV_FREE));
        assertEquals(-22, mmap.madvise(mm, A, P, Mmap.MADV_REMOVE), "REMOVE: not anonymous memory");
        assertEquals(0, mmap.madvise(mm, B + P, P, Mmap.MADV_REMOVE));
        assertArrayEquals(new byte[] {1, 0, 1, 1}, mincore(B, 4 * P), "the hole is punched");
        assertEquals(0, load(mm, B + P));
        assertEquals(22, load(mm, B + 2 * P));
        // POPULATE: holes ENOMEM, no permission EINVAL
        assertEquals(0, mmap.mprotect(mm, A, P, Mmap.PROT_NONE));
        assertEquals(-22, mmap.madvise(mm, A, P, Mmap.MADV_POPULATE_READ));
        assertEquals(-22, mmap.madvise(mm, A, P, Mmap.MADV_POPULATE_WRITE));
        assertEquals(0, mmap.mprotect(mm, A, P, Mmap.PROT_READ));
        assertEquals(0, mmap.madvise(mm, A, P, Mmap.MADV_POPULATE_READ));
        assertEquals(-22, mmap.madvise(mm, A, P, Mmap.MADV_POPULATE_WRITE));
        assertEquals(-12, mmap.madvise(mm, A - P, 2 * P, Mmap.MADV_POPULATE_READ), "a hole first: ENOMEM");
        assertEquals(0, mmap.madvise(mm, A + P, 3 * P, Mmap.MADV_POPULATE_WRITE));
        assertTrue(PteBits.write(pte(mm, A + P)));
        assertEquals(-22, mmap.madvise(mm, A, P, 99));
        assertEquals(-22, mmap.madvise(mm, A + 1, P, Mmap.MADV_DONTNEED));
        assertEquals(0, mmap.madvise(mm, A, 0, Mmap.MADV_DONTNEED));
        // DONTNEED on a locked range: EINVAL; DONTNEED_LOCKED is allowed
        assertEquals(0, mmap.mlockOps().mlock(mm, A + 3 * P, P, 0));
        assertEquals(-22, mmap.madvise(mm, A + 3 * P, P, Mmap.MADV_DONTNEED));
        assertEquals(0, mmap.madvise(mm, A + 3 * P, P, Mmap.MADV_DONTNEED_LOCKED));
        // THP advice is recorded; COLLAPSE needs an aligned 2 MiB range in an allowed VMA
        assertEquals(0, mmap.madvise(mm, A + P, P, Mmap.MADV_HUGEPAGE));
        assertTrue((mm.vmaLookup(A + P).flags() & VmArea.VM_HUGEPAGE) != 0);
        assertEquals(0, mmap.madvise(mm, A + P, P, Mmap.MADV_NOHUGEPAGE));
        assertTrue((mm.vmaLookup(A + P).flags() & VmArea.VM_NOHUGEPAGE) != 0);
        assertEquals(-22, mmap.madvise(mm, A + P, P, Mmap.MADV_COLLAPSE));
        tearDown();
    }

    /**
     * A hole punch (MADV_REMOVE, fallocate PUNCH_HOLE) unmaps the object's pages from every mapping but
     * leaves a private mapping's COW copies, which are the process's own data (shmem_fallocate passes
     * even_cows=0 to unmap_mapping_range; truncate passes 1). Before, the copy was zapped and the private
     * mapping read the hole's zeroes.
     */
    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void aHolePunchKeepsPrivateCowCopies(boolean pae) {
        setUp(pae);
        AddressSpace f = AddressSpace.shmem(memory.frames(), "/dev/shm/obj");
        assertEquals(A, mmap.doMmap(mm, f, A, 2 * P, RW, Mmap.MAP_SHARED | Mmap.MAP_FIXED, 0, null));
        assertEquals(B, mmap.doMmap(mm, f, B, 2 * P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null));
        store(mm, A, 40);
        store(mm, A + P, 41);
        assertEquals(41, load(mm, B + P), "the private mapping reads the object's page");
        store(mm, B, 77); // a COW copy of page 0
        assertEquals(0, mmap.madvise(mm, A, 2 * P, Mmap.MADV_REMOVE));
        assertEquals(77, load(mm, B), "the COW copy survives the punch");
        assertEquals(0, load(mm, B + P), "the object's page is gone from the private mapping too");
        assertEquals(0, load(mm, A));
        f.releaseUser();
        tearDown();
    }

    /** MADV_REMOVE in one mm punches the shared object under every mapping of it (i_mmap), in every mm. */
    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void removeInTheChildUnmapsTheHoleFromTheParentToo(boolean pae) {
        setUp(pae);
        mmap.doMmap(mm, null, A, 4 * P, RW, SHARED, 0, null);
        for (int i = 0; i < 4; i++) {
            store(mm, A + i * P, 30 + i);
        }
        MmStruct child = Fork.dupMmap(memory, mm);
        assertEquals(31, load(child, A + P));
        long moved = mmap.mremap(child, A, 4 * P, 4 * P, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, B);
        assertEquals(B, moved, "the child's mapping moves: i_mmap follows it");
        assertEquals(0, mmap.madvise(child, B + P, 2 * P, Mmap.MADV_REMOVE));
        assertEquals(0, pte(mm, A + P), "the parent's PTEs of the hole are gone");
        assertEquals(0, pte(mm, A + 2 * P));
        assertTrue(PteBits.present(pte(mm, A + 3 * P)), "outside the hole: untouched");
        assertEquals(0, load(mm, A + P), "the hole reads as zeroes everywhere");
        assertEquals(0, load(child, B + 2 * P));
        assertEquals(33, load(child, B + 3 * P));
        store(child, B + P, 99);
        assertEquals(99, load(mm, A + P), "still one object");
        tearDown(child);
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void forkHonoursDontforkAndWipeonfork(boolean pae) {
        setUp(pae);
        mmap.doMmap(mm, null, A, 2 * P, RW, ANON, 0, null);
        mmap.doMmap(mm, null, B, 2 * P, RW, ANON, 0, null);
        store(mm, A, 1);
        store(mm, B, 2);
        assertEquals(0, mmap.madvise(mm, A, 2 * P, Mmap.MADV_DONTFORK));
        assertEquals(0, mmap.madvise(mm, B, 2 * P, Mmap.MADV_WIPEONFORK));
        assertEquals(-22, mmap.madvise(mm, A, P, 0x7f), "an unknown advice");
        MmStruct child = Fork.dupMmap(memory, mm);
        assertNotNull(child);
        assertNull(child.vmaLookup(A), "DONTFORK: not in the child");
        assertNotNull(child.vmaLookup(B));
        assertEquals(0, load(child, B), "WIPEONFORK: the child starts from zeroes");
        assertEquals(2, load(mm, B));
        assertEquals(0, mmap.madvise(mm, A, 2 * P, Mmap.MADV_DOFORK));
        MmStruct child2 = Fork.dupMmap(memory, mm);
        assertEquals(1, load(child2, A));
        tearDown(child, child2);
    }

    // ---- mincore and mlock ------------------------------------------------------------------

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void mincoreAndMlock(boolean pae) {
        setUp(pae);
        mmap.doMmap(mm, null, A, 4 * P, RW, ANON, 0, null);
        store(mm, A + P, 1);
        load(mm, A + 2 * P); // the zero page
        assertArrayEquals(new byte[] {0, 1, 1, 0}, mincore(A, 4 * P));
        assertArrayEquals(new byte[] {0, 1}, mincore(A, P + 1), "a partial last page counts");
        Mincore.VecCopy ok = (va, b, n) -> true;
        assertEquals(-22, mmap.mincoreOps().mincore(mm, A + 1, P, 0x1000, ok));
        assertEquals(-12, mmap.mincoreOps().mincore(mm, A, 5 * P, 0x1000, ok), "runs into a hole");
        assertEquals(-12, mmap.mincoreOps().mincore(mm, A - P, P, 0x1000, ok));
        assertEquals(-14, mmap.mincoreOps().mincore(mm, A, P, 0x1000, (va, b, n) -> false), "the vector faults");
        // mlock: locked and populated; munlock; holes ENOMEM; the limit
        assertEquals(0, mmap.mlockOps().mlock(mm, A + 10, 2 * P, 0), "rounded out to 3 pages");
        assertEquals(3, Mlock.lockedVm(mm));
        assertArrayEquals(new byte[] {1, 1, 1, 0}, mincore(A, 4 * P));
        assertEquals(3, mm.mapCount() + 1, "split in two: [A, A+3P) locked, [A+3P, A+4P) not");
        assertEquals(0, mmap.mlockOps().munlock(mm, A, 4 * P));
        assertEquals(0, Mlock.lockedVm(mm));
        assertEquals(1, mm.mapCount(), "merged back");
        assertEquals(-12, mmap.mlockOps().mlock(mm, A, 5 * P, 0), "a hole");
        assertEquals(-22, mmap.mlockOps().mlock(mm, A, P, 2), "mlock2: unknown flag");
        assertEquals(0, mmap.mlockOps().mlock(mm, A + 3 * P, P, Mlock.MLOCK_ONFAULT));
        assertEquals(0, pte(mm, A + 3 * P), "MLOCK_ONFAULT populates nothing");
        mm.memlockRlimit = 2 * P;
        assertEquals(-12, mmap.mlockOps().mlock(mm, A, 4 * P, 0), "past RLIMIT_MEMLOCK");
        assertEquals(-22, mmap.mlockOps().mlockall(mm, 0));
        assertEquals(-22, mmap.mlockOps().mlockall(mm, Mlock.MCL_ONFAULT));
        assertEquals(-12, mmap.mlockOps().mlockall(mm, Mlock.MCL_CURRENT), "total_vm past the limit");
        mm.memlockRlimit = 64 * P;
        assertEquals(0, mmap.mlockOps().mlockall(mm, Mlock.MCL_CURRENT | Mlock.MCL_FUTURE));
        assertEquals(4, Mlock.lockedVm(mm));
        long n = mmap.doMmap(mm, null, 0, 2 * P, RW, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null);
        assertTrue((mm.vmaLookup(n).flags() & VmArea.VM_LOCKED) != 0, "MCL_FUTURE");
        assertTrue(PteBits.present(pte(mm, n + P)));
        assertEquals(0, mmap.mlockOps().munlockall(mm));
        assertEquals(0, Mlock.lockedVm(mm));
        tearDown();
    }

    // ---- GUP ---------------------------------------------------------------------------------

    AddressSpace file(String text) {
        byte[] data = new byte[(int) (2 * P)];
        byte[] t = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, data, 0, t.length);
        return AddressSpace.file(memory.frames(), "/f", data);
    }

    long cachePage(AddressSpace f, long index) {
        long pfn = f.getPage(index);
        memory.frames().put(pfn);
        return pfn;
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void forcedWriteToAPrivateReadOnlyFileMappingCowsAndNeverWritesThePageCache(boolean pae) {
        setUp(pae);
        AddressSpace f = file("original");
        assertEquals(A, mmap.doMmap(mm, f, A, 2 * P, Mmap.PROT_READ, Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null));
        f.releaseUser(); // the VMA holds the file now
        assertEquals('o', load(mm, A) & 0xff);
        Gup gup = mmap.gup();
        byte[] w = "FORCED".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(0, gup.accessRemoteVm(mm, A, w, 0, w.length, true, false), "no FOLL_FORCE: EFAULT");
        assertEquals(w.length, gup.accessRemoteVm(mm, A, w, 0, w.length, true, true));
        long p = pte(mm, A);
        assertFalse(PteBits.write(p), "the COW copy stays read-only in a PROT_READ mapping");
        assertTrue(memory.frames().anonExclusive(PteBits.pfn(p)));
        byte[] r = new byte[8];
        assertEquals(8, gup.accessRemoteVm(mm, A, r, 0, 8, false, false));
        assertEquals("FORCEDal", new String(r, java.nio.charset.StandardCharsets.US_ASCII));
        long pc = cachePage(f, 0);
        assertNotEquals(pc, PteBits.pfn(p));
        assertEquals('o', mem.read8(pc << 12), "the page cache is untouched");
        // a shared read-only mapping cannot be forced
        mmap.doMmap(mm, null, B, P, Mmap.PROT_READ, SHARED, 0, null);
        assertEquals(0, gup.accessRemoteVm(mm, B, w, 0, 1, true, true));
        tearDown();
    }

    /** MADV_WILLNEED reads a file's pages into its cache (mincore sees them) without mapping them. */
    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void willneedReadsAheadUpToEndOfFile(boolean pae) {
        setUp(pae);
        AddressSpace f = file("readahead");
        assertEquals(A, mmap.doMmap(mm, f, A, 4 * P, Mmap.PROT_READ, Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null));
        f.releaseUser();
        assertArrayEquals(new byte[] {0, 0, 0, 0}, mincore(A, 4 * P));
        assertEquals(0, mmap.madvise(mm, A, 4 * P, Mmap.MADV_WILLNEED));
        assertArrayEquals(new byte[] {1, 1, 0, 0}, mincore(A, 4 * P), "two pages of file, two past its end");
        assertEquals(0, pte(mm, A), "read ahead, not mapped");
        tearDown();
    }

    /**
     * Dirty COW (CVE-2016-5195), staged: right after GUP's write fault made the COW copy, the range is
     * zapped (what a racing MADV_DONTNEED does in that window). The retry must fault for write again;
     * with the pre-2016 rule (FOLL_WRITE dropped after the COW fault) it maps the page-cache page and
     * writes into the file — this test then fails.
     */
    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void noDirtyCowWhenTheCowCopyIsZappedBeforeTheRetry(boolean pae) {
        setUp(pae);
        AddressSpace f = file("original");
        mmap.doMmap(mm, f, A, P, Mmap.PROT_READ, Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null);
        long pc = cachePage(f, 0);
        int[] zaps = {0};
        mmap.gup().afterFaultHook = () -> {
            if (zaps[0]++ == 0) {
                MmuGather tlb = new MmuGather(mm);
                memory.unmapSingleVma(tlb, mm.vmaLookup(A), A, A + P);
                tlb.finish();
            }
        };
        byte[] w = "DIRTYCOW".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(w.length, mmap.gup().accessRemoteVm(mm, A, w, 0, w.length, true, true));
        mmap.gup().afterFaultHook = null;
        assertEquals(2, zaps[0], "a second write fault after the zap");
        assertEquals('o', mem.read8(pc << 12), "the page cache is untouched");
        assertEquals('D', load(mm, A) & 0xff, "the write went to a new COW copy");
        f.releaseUser();
        tearDown();
    }

    /**
     * Dirty COW with a real racer: forced writes through GUP race MADV_DONTNEED on another thread on the
     * same private read-only file mapping (both under the mmap read lock, as in Linux).
     */
    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void noDirtyCowUnderARacingDontneed(boolean pae) throws InterruptedException {
        setUp(pae);
        AddressSpace f = file("original");
        mmap.doMmap(mm, f, A, P, Mmap.PROT_READ, Mmap.MAP_PRIVATE | Mmap.MAP_FIXED, 0, null);
        long pc = cachePage(f, 0);
        AtomicBoolean stop = new AtomicBoolean();
        Thread zapper = new Thread(() -> {
            while (!stop.get()) {
                assertEquals(0, mmap.madvise(mm, A, P, Mmap.MADV_DONTNEED));
            }
        });
        zapper.start();
        byte[] w = "DIRTYCOW".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try {
            for (int i = 0; i < 3000; i++) {
                mmap.gup().accessRemoteVm(mm, A, w, 0, w.length, true, true);
                assertEquals('o', mem.read8(pc << 12), "iteration " + i);
            }
        } finally {
            stop.set(true);
            zapper.join();
        }
        f.releaseUser();
        tearDown();
    }

    // ---- PFN and mixed maps ----------------------------------------------------------------------

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void pfnMapsCowWithoutRefcountsAndForkCopiesThem(boolean pae) {
        setUp(pae);
        FrameTable frames = memory.frames();
        long frame = frames.allocZeroedPage();
        frames.reserve(frame); // a device's reserved frame
        mem.write64(frame << 12, 0xdef1ce);
        PfnMap pfn = new PfnMap(memory);
        mmap.doMmap(mm, null, A, P, RW, ANON, 0, null);
        mm.mmapLock.downWrite();
        try {
            assertEquals(-22, pfn.remapPfnRange(mm.vmaLookup(A), A, frame, 2 * P), "past the VMA");
            assertEquals(0, pfn.remapPfnRange(mm.vmaLookup(A), A, frame, P));
        } finally {
            mm.mmapLock.upWrite();
        }
        VmArea v = mm.vmaLookup(A);
        assertTrue((v.flags() & (VmArea.VM_PFNMAP | VmArea.VM_IO | VmArea.VM_DONTEXPAND)) != 0);
        assertEquals(frame, v.pgoff(), "a COW PFN map records its first pfn in vm_pgoff");
        assertEquals(0xdef1ce, load(mm, A));
        int rc = frames.refcount(frame);
        assertEquals(0, frames.mapcount(frame));
        assertEquals(0, mm.rss(), "no RSS for raw frames");
        assertEquals(-14, mmap.gup().getUserPages(mm, A, 1, 0, new long[1]), "GUP never follows VM_PFNMAP");
        MmStruct child = Fork.dupMmap(memory, mm);
        assertEquals(frame, PteBits.pfn(pte(child, A)), "fork copies the PFN map's PTEs (VM_COPY_ON_FORK)");
        // a private write COWs from the frame into an anonymous page
        store(mm, A, 0x1234);
        assertNotEquals(frame, PteBits.pfn(pte(mm, A)));
        assertEquals(0xdef1ce, mem.read64(frame << 12), "the device frame is untouched");
        assertEquals(1, mm.counter(MmStruct.MM_ANONPAGES));
        assertEquals(0xdef1ce, load(child, A));
        assertEquals(rc, frames.refcount(frame));
        tearDown(child);
        assertEquals(rc, frames.refcount(frame), "zapping a PFN map touches no refcount");
    }

    @ParameterizedTest(name = "pae={0}")
    @ValueSource(booleans = {false, true})
    void vmInsertPageIsRefcountedAndCopiedByFork(boolean pae) {
        setUp(pae);
        FrameTable frames = memory.frames();
        long page = frames.allocZeroedPage();
        frames.setFlags(page, FrameTable.PG_PAGECACHE); // a driver's kernel page
        mem.write64(page << 12, 77);
        mmap.doMmap(mm, null, A, 2 * P, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, 0, null);
        PfnMap pfn = new PfnMap(memory);
        mm.mmapLock.downWrite();
        try {
            assertEquals(0, pfn.vmInsertPage(mm.vmaLookup(A), A, page));
            assertEquals(-16, pfn.vmInsertPage(mm.vmaLookup(A), A, page), "EBUSY: already mapped");
        } finally {
            mm.mmapLock.upWrite();
        }
        assertEquals(2, frames.refcount(page));
        assertEquals(1, frames.mapcount(page));
        assertEquals(Memory.VM_FAULT_SIGBUS, memory.handleMmFault(mm.vmaLookup(A + P), A + P, Memory.FAULT_FLAG_USER),
                "a mixed map has no fault handler for the hole");
        MmStruct child = Fork.dupMmap(memory, mm);
        assertEquals(page, PteBits.pfn(pte(child, A)), "the vm_insert_page fork fix: copied, not left to faults");
        assertEquals(3, frames.refcount(page));
        assertEquals(2, frames.mapcount(page));
        assertEquals(77, load(child, A));
        tearDown(child);
        assertEquals(1, frames.refcount(page));
        frames.put(page);
    }
}
