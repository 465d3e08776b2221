package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PteBits;
import org.mmulab.kernel.mm.VmArea;

/**
 * /dev/mmulab-pfn (remap_pfn_range) and /dev/mmulab-page (vm_insert_page) through the syscalls
 * ({@link PfnDevices}): mmulab-only devices, so checked here rather than against a native recording.
 * A PFN map is VM_PFNMAP|VM_IO with special PTEs to the reserved frames and takes no reference on
 * them; writes through a shared one reach the frame; a private one copies the frame on the first write
 * (the frame keeps its bytes); GUP refuses it (process_vm_readv of it is EFAULT) while read() into it
 * works (copy_to_user goes through the MMU, as in Linux); fork copies its PTEs. A vm_insert_page map
 * is VM_MIXEDMAP with refcounted, mapcounted pages, which fork copies too (seed 003). Bad offsets and
 * read/write on the devices are EINVAL; the mm census (MmCheck) stays clean throughout.
 */
class PfnDeviceTest {
    static final int R = 1, RW = 3, SHARED = 1, PRIVATE = 2, AT_FDCWD = -100, O_RDWR = 2;

    private Fixture f;
    private long buf;

    private void boot() throws Exception {
        f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        buf = f.sys(9, 0, 16 * 4096, RW, 0x22, -1, 0);
    }

    private long open(String path) {
        long p = buf + 15 * 4096;
        f.writeBytes(p, (path + "\0").getBytes(StandardCharsets.UTF_8));
        long fd = f.sys(257, AT_FDCWD, p, O_RDWR, 0);
        assertTrue(fd >= 0, path + ": " + fd);
        return fd;
    }

    private int byteAt(long va) {
        return f.readBytes(va, 1)[0] & 0xff;
    }

    private void censusClean(MmStruct... mms) {
        assertEquals(List.of(), f.memory().check.checkMms(List.of(mms)));
    }

    /** process_vm_readv of {@code len} bytes at {@code remote} of this process into buf. */
    private long pvmRead(long remote, long len) {
        long iov = buf + 14 * 4096;
        f.write64(iov, buf);
        f.write64(iov + 8, len);
        f.write64(iov + 16, remote);
        f.write64(iov + 24, len);
        return f.sys(310, f.kernel.task().tgid(), iov, 1, iov + 16, 1, 0);
    }

    @Test
    void remapPfnRangeMapsReservedFramesWithoutReferences() throws Exception {
        boot();
        long fd = open("/dev/mmulab-pfn");
        long m = f.sys(9, 0, 4 * 4096, RW, SHARED, fd, 1 * 4096L);
        assertTrue(m > 0, "mmap: " + m);
        for (int i = 0; i < 4; i++) {
            assertEquals('B' + i, byteAt(m + i * 4096L + 7), "offset 1 starts at the second frame");
        }
        VmArea v = f.mm().vmaLookup(m);
        assertEquals(VmArea.VM_PFNMAP | VmArea.VM_IO, v.flags() & (VmArea.VM_PFNMAP | VmArea.VM_IO));
        long pte = f.memory().lookupPte(f.mm(), m);
        assertTrue(PteBits.special(pte), "special PTE");
        long pfn = PteBits.pfn(pte);
        FrameTable frames = f.memory().frames();
        assertNotEquals(0, frames.flags(pfn) & FrameTable.PG_RESERVED);
        int refs = frames.refcount(pfn);
        f.writeBytes(m + 5, new byte[] {'z'});
        long m2 = f.sys(9, 0, 4096, R, SHARED, fd, 1 * 4096L);
        assertEquals('z', byteAt(m2 + 5), "a shared PFN map writes the frame itself");
        assertEquals(refs, frames.refcount(pfn), "no struct page refcounting");
        assertEquals(0, frames.mapcount(pfn));
        censusClean(f.mm());

        long p = f.sys(9, 0, 2 * 4096, RW, PRIVATE, fd, 3 * 4096L);
        assertEquals('D', byteAt(p));
        f.writeBytes(p, new byte[] {'!'});
        assertEquals('!', byteAt(p));
        long cow = PteBits.pfn(f.memory().lookupPte(f.mm(), p));
        assertNotEquals(pfn + 2, cow, "the write copied the frame into an anonymous page");
        assertEquals('D', byteAt(m + 2 * 4096), "the frame keeps its bytes");
        assertEquals('D', byteAt(p + 1), "the copy has the frame's other bytes");
        censusClean(f.mm());

        assertEquals(-Errno.EFAULT, pvmRead(m, 16), "GUP never follows VM_PFNMAP");
        long zero = open("/dev/zero");
        assertEquals(8, f.sys(0, zero, m + 100, 8), "read() into a PFN map: copy_to_user through the MMU");
        assertEquals(0, byteAt(m + 100));

        long child = f.sys(57);
        assertTrue(child > 0);
        MmStruct cmm;
        synchronized (f.kernel.sched().lock) {
            cmm = f.kernel.sched().findTaskLocked((int) child).mm;
        }
        assertEquals(pfn, PteBits.pfn(f.memory().lookupPte(cmm, m)), "fork copies PFN map PTEs (no fault could refill them)");
        assertTrue(PteBits.present(f.memory().lookupPte(cmm, p + 4096)), "and the private map's");
        censusClean(f.mm(), cmm);

        assertEquals(-Errno.EINVAL, f.sys(9, 0, 4096, R, SHARED, fd, 16 * 4096L), "past the last frame");
        assertEquals(-Errno.EINVAL, f.sys(9, 0, 3 * 4096, R, SHARED, fd, 14 * 4096L));
        assertEquals(-Errno.EINVAL, f.sys(0, fd, buf, 8), "no read operation");
        assertEquals(-Errno.EINVAL, f.sys(1, fd, buf, 8), "no write operation");
        assertEquals(0, f.sys(11, m, 4 * 4096));
        assertEquals(refs, frames.refcount(pfn), "munmap touches no frame");
        assertEquals('z', f.memory().frames().memory().read8((pfn << 12) + 5), "the reserved frame lives on");
    }

    @Test
    void vmInsertPageMapsRefcountedPagesThatForkCopies() throws Exception {
        boot();
        long fd = open("/dev/mmulab-page");
        long m = f.sys(9, 0, 2 * 4096, RW, SHARED, fd, 0);
        assertTrue(m > 0);
        assertEquals('a', byteAt(m));
        assertEquals('b', byteAt(m + 4096));
        VmArea v = f.mm().vmaLookup(m);
        assertEquals(VmArea.VM_MIXEDMAP, v.flags() & (VmArea.VM_MIXEDMAP | VmArea.VM_PFNMAP));
        long pte = f.memory().lookupPte(f.mm(), m);
        long page = PteBits.pfn(pte);
        FrameTable frames = f.memory().frames();
        assertTrue(!PteBits.special(pte));
        assertEquals(2, frames.refcount(page), "the driver's reference and the mapping's");
        assertEquals(1, frames.mapcount(page));
        assertEquals(16, pvmRead(m, 16), "GUP follows a VM_MIXEDMAP page");
        censusClean(f.mm());

        long child = f.sys(57);
        MmStruct cmm;
        synchronized (f.kernel.sched().lock) {
            cmm = f.kernel.sched().findTaskLocked((int) child).mm;
        }
        assertEquals(page, PteBits.pfn(f.memory().lookupPte(cmm, m)), "fork copies the inserted page (seed 003)");
        assertEquals(2, frames.mapcount(page));
        assertEquals(3, frames.refcount(page));
        censusClean(f.mm(), cmm);

        long p = f.sys(9, 0, 4096, RW, PRIVATE, fd, 1 * 4096L);
        f.writeBytes(p, new byte[] {'#'});
        assertEquals('b', byteAt(m + 4096), "a private vm_insert_page map copies on write");
        assertEquals('#', byteAt(p));
        assertEquals(0, f.sys(11, m, 2 * 4096));
        assertEquals(1, frames.mapcount(page), "the child's mapping is left");
        censusClean(f.mm(), cmm);
        assertEquals(-Errno.EINVAL, f.sys(9, 0, 17 * 4096, R, SHARED, fd, 0));
    }
}
