package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.PteBits;

/**
 * /proc/self/pagemap and clear_refs through the syscalls (SoftDirtyTest covers both page-table formats
 * on the mm side): what the recording host
 * cannot show (it has no CONFIG_MEM_SOFT_DIRTY), so libc_memfd leaves it out. A new VMA reads as
 * soft-dirty (bit 55) even where nothing is mapped; clear_refs "4" clears it and write-protects the
 * PTEs; a read leaves it clear, the next write faults and sets it again; an mremap'd page is
 * soft-dirty at its new place; "1"-"3" clear the Accessed bits (all, anonymous only, file only);
 * "5" resets VmHWM to the current RSS; bad values are EINVAL (ERANGE for an int overflow).
 */
class ProcPagemapTest {
    static final int RW = 3, ANON = 0x22, SHARED_ANON = 0x21, AT_FDCWD = -100;
    static final long SD = 1L << 55, PRESENT = 1L << 63;

    private Fixture f;
    private long buf;
    private long pm;
    private long cr;

    private void boot() throws Exception {
        f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        buf = sys(9, 0, 16 * 4096, RW, ANON, -1, 0);
        assertTrue(buf > 0);
        pm = sys(257, AT_FDCWD, str("/proc/self/pagemap"), 0, 0);
        cr = sys(257, AT_FDCWD, str("/proc/self/clear_refs"), 1, 0);
        assertTrue(pm >= 0 && cr >= 0);
    }

    private long sys(long nr, long... a) {
        return f.sys(nr, a);
    }

    private long str(String s) {
        long p = buf + 15 * 4096;
        f.writeBytes(p, (s + "\0").getBytes(StandardCharsets.UTF_8));
        return p;
    }

    private long entry(long va) {
        long scratch = buf + 14 * 4096;
        assertEquals(8, sys(17, pm, scratch, 8, (va >>> 12) * 8));
        return f.read64(scratch);
    }

    private long clearRefs(String v) {
        long p = buf + 13 * 4096;
        byte[] b = v.getBytes(StandardCharsets.US_ASCII);
        f.writeBytes(p, b);
        return sys(1, cr, p, b.length);
    }

    @Test
    void softDirtyIsClearedByClearRefs4AndSetByTheNextWrite() throws Exception {
        boot();
        long a = sys(9, 0, 4 * 4096, RW, ANON, -1, 0);
        f.write64(a, 1);
        assertEquals(SD, entry(a + 4096) & (SD | PRESENT), "a new VMA is soft-dirty where nothing is mapped");
        assertEquals(SD | PRESENT, entry(a) & (SD | PRESENT));
        assertEquals(1, clearRefs("4"));
        assertEquals(PRESENT, entry(a) & (SD | PRESENT), "clear_refs 4 clears the bit, the page stays");
        assertEquals(0, entry(a + 4096) & SD, "and the VMA's");
        assertEquals(0, PteBits.RW & f.memory().lookupPte(f.mm(), a), "write-protected");
        assertEquals(1, f.read64(a));
        assertEquals(0, entry(a) & SD, "a read does not dirty");
        f.write64(a, 2);
        assertEquals(SD, entry(a) & SD, "the write faulted and marked it");
        assertTrue((f.memory().lookupPte(f.mm(), a) & PteBits.RW) != 0, "writable again");
        f.write64(a + 2 * 4096, 3);
        assertEquals(SD, entry(a + 2 * 4096) & SD, "a newly faulted page is soft-dirty");
        assertEquals(0, entry(a + 3 * 4096) & SD, "an untouched page of the cleared VMA is not");

        assertEquals(2, clearRefs("4\n"));
        long moved = sys(25, a, 4 * 4096, 4 * 4096, 1 | 2, a + 64 * 4096); // MREMAP_MAYMOVE|FIXED
        assertEquals(a + 64 * 4096, moved);
        assertEquals(SD | PRESENT, entry(moved) & (SD | PRESENT), "mremap marks the PTEs it moves");
        assertEquals(2, f.read64(moved));

        long s = sys(9, 0, 4096, RW, SHARED_ANON, -1, 0);
        f.write64(s, 5);
        assertEquals(1, clearRefs("4"));
        assertEquals(0, entry(s) & SD);
        f.write64(s, 6);
        assertEquals(SD, entry(s) & SD, "a shared page is write-protected too (write-notify) and re-marked");
    }

    @Test
    void clearRefs1To3ClearAccessedBitsAnd5ResetsHiwater() throws Exception {
        boot();
        long a = sys(9, 0, 4096, RW, ANON, -1, 0);
        f.write64(a, 1);
        long s = sys(9, 0, 4096, RW, SHARED_ANON, -1, 0);
        f.write64(s, 1);
        assertTrue((f.memory().lookupPte(f.mm(), a) & PteBits.ACCESSED) != 0);
        assertEquals(1, clearRefs("3"));
        assertTrue((f.memory().lookupPte(f.mm(), a) & PteBits.ACCESSED) != 0, "3: file-backed VMAs only");
        assertEquals(0, f.memory().lookupPte(f.mm(), s) & PteBits.ACCESSED, "shared anonymous memory is shmem");
        f.read64(s);
        assertEquals(1, clearRefs("2"));
        assertEquals(0, f.memory().lookupPte(f.mm(), a) & PteBits.ACCESSED, "2: anonymous VMAs");
        assertTrue((f.memory().lookupPte(f.mm(), s) & PteBits.ACCESSED) != 0);
        f.read64(a);
        assertEquals(1, clearRefs("1"));
        assertEquals(0, f.memory().lookupPte(f.mm(), a) & PteBits.ACCESSED);
        assertEquals(0, f.memory().lookupPte(f.mm(), s) & PteBits.ACCESSED);
        assertEquals(1, f.read64(a), "the page is still there: the CPU sets Accessed again");
        assertTrue((f.memory().lookupPte(f.mm(), a) & PteBits.ACCESSED) != 0);

        long big = sys(9, 0, 64 * 4096, RW, ANON, -1, 0);
        for (int i = 0; i < 64; i++) {
            f.write64(big + i * 4096L, i);
        }
        assertEquals(0, sys(11, big, 64 * 4096));
        long before = f.mm().hiwaterRss();
        assertTrue(before >= f.mm().rss() + 64, "the peak includes the unmapped pages");
        assertEquals(1, clearRefs("5"));
        assertEquals(f.mm().rss(), f.mm().hiwaterRss(), "5: VmHWM is the current RSS again");
    }

    @Test
    void badClearRefsValuesAndUnalignedPagemapReads() throws Exception {
        boot();
        for (String bad : new String[] {"0", "6", "-1", "abc", "0x4", "4 4", " "}) {
            assertEquals(-Errno.EINVAL, clearRefs(bad), bad);
        }
        assertEquals(-Errno.ERANGE, clearRefs("99999999999"));
        assertEquals(2, clearRefs("+4"));
        assertEquals(13, clearRefs("4           x"), "only the first 12 bytes are parsed: \"4\" and blanks");
        long scratch = buf + 14 * 4096;
        assertEquals(-Errno.EINVAL, sys(17, pm, scratch, 8, 4));
        assertEquals(-Errno.EINVAL, sys(17, pm, scratch, 12, 0));
        assertEquals(0, sys(17, pm, scratch, 8, (f.memory().ops().taskSize() >>> 12) * 8), "past TASK_SIZE: EOF");
    }
}
