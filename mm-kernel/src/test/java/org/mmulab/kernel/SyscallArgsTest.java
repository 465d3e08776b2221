package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.Mmap;

/**
 * System-call arguments checked the way Linux 6.x checks them: addresses and lengths are unsigned longs
 * compared with TASK_SIZE (mm/mmap.c, mm/mprotect.c, mm/madvise.c), overcommit in mode 0 (mm/util.c),
 * access_ok before rw_verify_area (fs/read_write.c, lib/iov_iter.c), the int syscall number
 * (arch/x86/entry/syscall_64.c). Expected values are what the native run of test-images' sys_edges
 * printed on Linux 6.18.
 */
class SyscallArgsTest {
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;
    static final int ANON = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS;
    static final long ENOMEM = -Errno.ENOMEM, EINVAL = -Errno.EINVAL, EFAULT = -Errno.EFAULT;
    static final long TIB = 1L << 40;

    private static int vmaCount(Fixture f) {
        return f.mm().vmaList().size();
    }

    @Test
    void mmapAddressesAboveTaskSizeAreEnomemAndMapNothing() throws Exception {
        Fixture f = Fixture.booted();
        int before = vmaCount(f);
        assertEquals(ENOMEM, f.mmap(0xffff_8000_0000_0000L, 4096, RW, ANON | Mmap.MAP_FIXED));
        assertEquals(ENOMEM, f.mmap(0x8000_0000_0040_0000L, 4096, RW, ANON | Mmap.MAP_FIXED));
        // __get_unmapped_area checks the range before the alignment: ENOMEM, not EINVAL
        assertEquals(ENOMEM, f.mmap(0x8000_0000_0040_0001L, 4096, RW, ANON | Mmap.MAP_FIXED));
        assertEquals(EINVAL, f.mmap(0x1000_1001L, 4096, RW, ANON | Mmap.MAP_FIXED));
        assertEquals(ENOMEM, f.mmap(0x7fff_ffff_f000L, 4096, RW, ANON | Mmap.MAP_FIXED));
        assertEquals(ENOMEM, f.mmap(0, 0xffff_ffff_ffff_f000L, RW, ANON));
        assertEquals(ENOMEM, f.mmap(0, 0xffff_ffff_ffff_f001L, RW, ANON));
        assertEquals(ENOMEM, f.mmap(0, 0x8000_0000_0000L, Mmap.PROT_READ, ANON));
        assertEquals(ENOMEM, f.mmap(0x1000_0000L, -8192, RW, ANON));
        assertEquals(before, vmaCount(f), f.mm().maps());
        // An unusable hint is only a hint: the search places the mapping below TASK_SIZE.
        long a = f.mmap(0xffff_8000_0000_0000L, 4096, RW, ANON);
        assertTrue(a > 0 && a < f.mm().taskSize, Long.toHexString(a));
    }

    @Test
    void munmapMprotectMadviseCompareUnsigned() throws Exception {
        Fixture f = Fixture.booted();
        long p = f.mmap(0, 4096, RW, ANON);
        f.write64(p, 0x78);
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, 0xffff_8000_0000_0000L, 4096));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, 0x8000_0000_0000_0000L, 4096));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, 0x7fff_ffff_f000L, 4096));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, p, -4096));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MUNMAP, p, 0));
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MPROTECT, 0xffff_8000_0000_0000L, 4096, Mmap.PROT_READ));
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MPROTECT, p, -4096, Mmap.PROT_READ));
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MADVISE, 0xffff_8000_0000_0000L, 4096, Mmap.MADV_DONTNEED));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MADVISE, p, -4096, Mmap.MADV_DONTNEED));
        assertEquals(EINVAL, f.sys(Syscalls.NR_MADVISE, p, 0xffff_ffff_ffff_f001L, Mmap.MADV_DONTNEED));
        // end = p + 2^63: the advice reaches past every VMA, so the hole after them is ENOMEM.
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MADVISE, p, 1L << 63, Mmap.MADV_WILLNEED));
        assertEquals(0x78, f.read64(p), "nothing was zapped");
        // mprotect applies to the VMAs up to the first hole, then reports it.
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MPROTECT, p, 1L << 63, Mmap.PROT_READ));
        assertEquals(0, f.mm().vmaLookup(p).flags() & org.mmulab.kernel.mm.VmArea.VM_WRITE);
        long brk0 = f.sys(Syscalls.NR_BRK, 0);
        assertEquals(brk0, f.sys(Syscalls.NR_BRK, 0xffff_8000_0000_0000L));
    }

    @Test
    void compatTasksUseTheirTaskSize() throws Exception {
        // TASK_SIZE of an i386 task: 4 GiB - 8 KiB under a 64-bit kernel, 3 GiB under a 32-bit PAE one.
        Fixture compat = Fixture.booted32(KernelConfig.PagingMode.FOUR_LEVEL);
        Fixture pae = Fixture.booted32(KernelConfig.PagingMode.PAE);
        int fixed = ANON | Mmap.MAP_FIXED;
        assertEquals(0xc000_0000L, compat.sys32(Syscalls.NR32_MMAP2, 0xc000_0000L, 4096, RW, fixed, -1, 0) & 0xffff_ffffL);
        assertEquals(ENOMEM, pae.sys32(Syscalls.NR32_MMAP2, 0xc000_0000L, 4096, RW, fixed, -1, 0));
        for (Fixture f : new Fixture[] {compat, pae}) {
            assertEquals(ENOMEM, f.sys32(Syscalls.NR32_MMAP2, 0xffff_f000L, 4096, RW, fixed, -1, 0));
            assertEquals(ENOMEM, f.sys32(Syscalls.NR32_MMAP2, 0, 0xffff_f000L, RW, ANON, -1, 0));
            assertEquals(ENOMEM, f.sys32(Syscalls.NR32_MMAP2, 0x1000_0000L, -8192, RW, ANON, -1, 0));
            assertEquals(EINVAL, f.sys32(Syscalls.NR32_MUNMAP, 0xffff_f000L, 4096));
        }
    }

    @Test
    void overcommitRefusesOneRequestLargerThanRam() throws Exception {
        Fixture f = Fixture.booted(); // 64 MiB of RAM, no swap
        int before = vmaCount(f);
        assertEquals(ENOMEM, f.mmap(0, 64 * TIB, RW, ANON));
        assertEquals(ENOMEM, f.mmap(0, 128L << 20, RW, ANON));
        assertEquals(ENOMEM, f.mmap(0, 64 * TIB, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS));
        assertEquals(before, vmaCount(f));
        long small = f.mmap(0, 32L << 20, RW, ANON);
        assertTrue(small > 0);
        // MAP_FIXED over an already charged mapping charges only the difference.
        assertEquals(small, f.mmap(small, 32L << 20, RW, ANON | Mmap.MAP_FIXED));
        long noreserve = f.mmap(0, 64 * TIB, RW, ANON | Mmap.MAP_NORESERVE);
        assertTrue(noreserve > 0);
        f.write64(noreserve + 32 * TIB, 5);
        assertEquals(5, f.read64(noreserve + 32 * TIB));
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, noreserve, 64 * TIB));
        long ro = f.mmap(0, 64 * TIB, Mmap.PROT_READ, ANON);
        assertTrue(ro > 0, "a read-only private mapping is not charged");
        assertEquals(ENOMEM, f.sys(Syscalls.NR_MPROTECT, ro, 64 * TIB, RW), "making it writable is");
        assertEquals(0, f.sys(Syscalls.NR_MPROTECT, ro, 4096, RW), "one page is fine");
        assertEquals(0, f.sys(Syscalls.NR_MUNMAP, ro, 64 * TIB));
        long brk0 = f.sys(Syscalls.NR_BRK, 0);
        assertEquals(brk0, f.sys(Syscalls.NR_BRK, brk0 + 64 * TIB), "brk's growth is charged too");
        assertEquals(brk0 + 8192, f.sys(Syscalls.NR_BRK, brk0 + 8192));
    }

    // ---- read/write ----------------------------------------------------------------------------

    private static long filledPages(Fixture f, int pages, char c) {
        long p = f.mmap(0, pages * 4096L, RW, ANON);
        byte[] b = new byte[pages * 4096];
        Arrays.fill(b, (byte) c);
        f.writeBytes(p, b);
        return p;
    }

    @Test
    void writeChecksAccessOkWithTheWholeCountFirst() throws Exception {
        Fixture f = Fixture.booted();
        long p = filledPages(f, 3, 'A');
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITE, 1, p, 1L << 62));
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITE, 1, p, -1));
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITE, 2, p, 1L << 62));
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITE, 1, 0xffff_8000_0000_0000L, 1));
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITE, 1, 0x7fff_ffff_f000L, 0x1001));
        assertEquals(-Errno.EBADF, f.sys(Syscalls.NR_WRITE, 0, p, -1), "the fd is checked before the buffer");
        assertEquals("", f.stdout(), "nothing was written");
        assertEquals("", f.stderr());
        assertEquals(0, f.sys(Syscalls.NR_WRITE, 1, p, 0));
        assertEquals(0, f.sys(Syscalls.NR_WRITE, 0x1_0000_0001L, p, 0), "the fd is an unsigned int");
        // A buffer that runs into unmapped memory writes up to the hole.
        assertEquals(3 * 4096, f.sys(Syscalls.NR_WRITE, 1, p, 5 * 4096));
        assertEquals(3 * 4096, f.stdout().length());
    }

    @Test
    void readChecksAccessOkFirstAndLeavesInputInThePipeOnAFault() throws Exception {
        Fixture f = new Fixture(64L << 20, "hello world");
        f.exec(TestElf.standard(Fixture.CODE, new byte[16], 0).build());
        long p = filledPages(f, 1, 'x');
        assertEquals(EFAULT, f.sys(Syscalls.NR_READ, 0, p, 1L << 62));
        assertEquals(EFAULT, f.sys(Syscalls.NR_READ, 0, p, -1));
        assertEquals(-Errno.EBADF, f.sys(Syscalls.NR_READ, 1, p, 1));
        // The copy faults after 3 bytes: EFAULT, and pipe_read leaves the whole buffer in the pipe.
        assertEquals(EFAULT, f.sys(Syscalls.NR_READ, 0, p + 4093, 8));
        assertEquals(11, f.sys(Syscalls.NR_READ, 0, p, 4096));
        assertEquals("hello world", new String(f.readBytes(p, 11), StandardCharsets.US_ASCII));
        assertEquals(0, f.sys(Syscalls.NR_READ, 0, 0, 1), "at end of file nothing is copied, even to NULL");
    }

    private static long iov(Fixture f, long at, long... baseLen) {
        for (int i = 0; i < baseLen.length; i++) {
            f.write64(at + 8L * i, baseLen[i]);
        }
        return at;
    }

    @Test
    void writevValidatesTheIovecsLikeImportIovec() throws Exception {
        Fixture f = Fixture.booted();
        long p = filledPages(f, 1, 'B');
        long v = f.mmap(0, 4096, RW, ANON);
        assertEquals(EINVAL, f.sys(Syscalls.NR_WRITEV, 1, iov(f, v, p, 0, p, -1), 2));
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITEV, 1, iov(f, v, p, 0, p, 1L << 62), 2));
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITEV, 1, iov(f, v, p, 0, 0xffff_8000_0000_0000L, 1), 2));
        assertEquals(EINVAL, f.sys(Syscalls.NR_WRITEV, 1, v, 1025));
        assertEquals(0, f.sys(Syscalls.NR_WRITEV, 1, iov(f, v, p, 0), 0x1_0000_0001L), "vlen is taken as an unsigned int");
        assertEquals(EFAULT, f.sys(Syscalls.NR_WRITEV, 1, 0, 1));
        assertEquals(-Errno.EBADF, f.sys(Syscalls.NR_WRITEV, 0, v, 1));
        assertEquals("", f.stdout());
        assertEquals(5, f.sys(Syscalls.NR_WRITEV, 1, iov(f, v, p, 2, p, 3), 2));
        assertEquals("BBBBB", f.stdout());
    }

    @Test
    void compatIovecLengthsAreSigned32Bit() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.FOUR_LEVEL);
        long p = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        f.writeBytes(p, "ok".getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(p + 64, new byte[] {(byte) p, (byte) (p >> 8), (byte) (p >> 16), (byte) (p >> 24), -1, -1, -1, -1});
        assertEquals(EINVAL, f.sys32(Syscalls.NR32_WRITEV, 1, p + 64, 1));
        f.writeBytes(p + 68, new byte[] {2, 0, 0, 0});
        assertEquals(2, f.sys32(Syscalls.NR32_WRITEV, 1, p + 64, 1));
        assertEquals(EFAULT, f.sys32(Syscalls.NR32_WRITE, 1, 0xffff_f000L, 1));
        assertEquals("ok", f.stdout());
    }

    // ---- the syscall number --------------------------------------------------------------------

    @Test
    void theUpperHalfOfTheSyscallNumberIsIgnored() throws Exception {
        Fixture f = Fixture.booted();
        long pid = f.sys(Syscalls.NR_GETPID);
        assertEquals(pid, f.sys(0x1_0000_0000L | Syscalls.NR_GETPID));
        assertEquals(pid, f.sys(0xffff_ffff_0000_0000L | Syscalls.NR_GETPID));
        assertEquals(-Errno.ENOSYS, f.sys(-1));
        assertEquals(-Errno.ENOSYS, f.sys(0x1_0000_0000L | 1000));
        assertEquals(-Errno.ENOSYS, f.sys(0x4000_0000L | Syscalls.NR_GETPID), "x32 numbers: no x32 ABI");
        assertEquals(Long.valueOf(1), f.kernel.syscalls().unknownByNumber().get(-1L));
        assertEquals(Long.valueOf(1), f.kernel.syscalls().unknownByNumber().get(1000L));
        assertEquals(Long.valueOf(3), f.kernel.syscalls().countsByName().get("getpid"));
    }
}
