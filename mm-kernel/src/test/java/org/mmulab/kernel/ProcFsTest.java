package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.VmArea;

/**
 * /proc and /dev through the syscalls: maps is the VMA list in show_map_vma's format (column 73 for
 * names, the file's device and inode), status's Vm and Rss lines are the mm's counters, stat has its
 * 52 fields, pagemap's bits and PFNs are the page tables', clear_refs checks its input, /proc/self
 * and /proc/PID/exe are links, /dev/urandom is the seeded stream under --deterministic, the i386 ABI
 * reads and seeks files with split 64-bit offsets and struct stat64.
 */
class ProcFsTest {
    static final int RW = 3, ANON = 0x22, AT_FDCWD = -100;

    private Fixture f;
    private long buf;

    private void boot() throws Exception {
        f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        buf = f.mmap(0, 64 * 4096, RW, ANON);
    }

    private long str(String s) {
        long p = buf + 60 * 4096;
        f.writeBytes(p, (s + "\0").getBytes(StandardCharsets.UTF_8));
        return p;
    }

    /** The whole file at {@code path}, read in small chunks (as seq_file readers do). */
    private String cat(String path) {
        long fd = f.sys(257, AT_FDCWD, str(path), 0, 0);
        assertTrue(fd >= 0, path + ": " + fd);
        StringBuilder sb = new StringBuilder();
        for (;;) {
            long n = f.sys(0, fd, buf, 100);
            assertTrue(n >= 0, "read " + path + ": " + n);
            if (n == 0) {
                break;
            }
            sb.append(new String(f.readBytes(buf, (int) n), StandardCharsets.UTF_8));
        }
        f.sys(3, fd);
        return sb.toString();
    }

    @Test
    void mapsIsTheVmaListInLinuxFormat() throws Exception {
        boot();
        long fd = f.sys(257, AT_FDCWD, str("/tmp/mapped"), 0102, 0600);
        assertEquals(0, f.sys(77, fd, 8192));
        long m = f.sys(9, 0, 8192, RW, 1, fd, 0);
        assertTrue(m > 0);
        String maps = cat("/proc/self/maps");
        MmStruct mm = f.kernel.task().mm;
        List<VmArea> vmas = mm.vmaList();
        String[] lines = maps.split("\n");
        assertEquals(vmas.size(), lines.length, maps);
        for (int i = 0; i < lines.length; i++) {
            VmArea v = vmas.get(i);
            String range = String.format("%08x-%08x ", v.start(), v.end());
            assertTrue(lines[i].startsWith(range), lines[i]);
        }
        String mine = java.util.Arrays.stream(lines).filter(l -> l.startsWith(String.format("%08x-", m))).findFirst().orElseThrow();
        assertTrue(mine.startsWith(String.format("%08x-%08x rw-s 00000000 00:16 ", m, m + 8192)), mine);
        assertEquals(73, mine.indexOf("/tmp/mapped"), "the name starts at column 73: " + mine);
        assertTrue(maps.contains("[stack]"), maps);
    }

    @Test
    void statusStatAndStatmComeFromTheMm() throws Exception {
        boot();
        for (int i = 0; i < 10; i++) {
            f.write64(buf + 4096L * i, i);
        }
        String status = cat("/proc/self/status");
        MmStruct mm = f.kernel.task().mm;
        assertTrue(status.contains(String.format("VmRSS:\t%8d kB%n", mm.rss() * 4)), status);
        assertTrue(status.contains(String.format("RssAnon:\t%8d kB%n", mm.counter(MmStruct.MM_ANONPAGES) * 4)), status);
        assertTrue(status.contains(String.format("VmSize:\t%8d kB%n", mm.totalVm() * 4)), status);
        assertTrue(status.contains(String.format("VmHWM:\t%8d kB%n", mm.hiwaterRss() * 4)), status);
        assertTrue(status.contains("Threads:\t1\n"), status);
        assertTrue(status.contains("Pid:\t" + f.kernel.task().pid + "\n"), status);
        String stat = cat("/proc/self/stat");
        String[] fields = stat.trim().split(" ");
        assertEquals(52, fields.length, stat);
        assertEquals(Long.toString(mm.rss()), fields[23], "rss");
        assertEquals(Long.toString(mm.totalVm() * 4096), fields[22], "vsize");
        String[] statm = cat("/proc/self/statm").trim().split(" ");
        assertEquals(Long.toString(mm.totalVm()), statm[0]);
        assertEquals(Long.toString(mm.rss()), statm[1]);
        assertTrue(cat("/proc/self/smaps_rollup").contains(String.format("Rss:            %8d kB", mm.rss() * 4)));
        assertEquals("0\n", cat("/proc/sys/vm/overcommit_memory"));
        assertEquals("65536\n", cat("/proc/sys/vm/mmap_min_addr"));
        assertTrue(cat("/proc/meminfo").startsWith(String.format("MemTotal:       %8d kB", (64L << 20) / 1024)));
        assertTrue(cat("/proc/cpuinfo").contains("vendor_id\t: GenuineIntel"));
    }

    @Test
    void pagemapReportsPresentPagesWithTheirPfns() throws Exception {
        boot();
        f.write64(buf, 1);
        long pa = f.translateNoFault(buf, false);
        long fd = f.sys(257, AT_FDCWD, str("/proc/self/pagemap"), 0, 0);
        assertTrue(fd >= 0);
        assertEquals(16, f.sys(17, fd, buf + 8, 16, (buf >>> 12) * 8));
        long e0 = f.read64(buf + 8), e1 = f.read64(buf + 16);
        assertEquals(1L << 63, e0 & (1L << 63), "present");
        assertEquals(pa >>> 12, e0 & ((1L << 55) - 1), "the PFN");
        assertEquals(1L << 56, e0 & (1L << 56), "mapped once: exclusive");
        assertEquals(0, e0 & (1L << 61), "anonymous");
        assertEquals(1L << 55, e1, "the next page was never touched: only the new VMA's soft-dirty bit");
        assertEquals(-Errno.EINVAL, f.sys(17, fd, buf + 8, 8, 4), "offset not a multiple of 8");
        long cr = f.sys(257, AT_FDCWD, str("/proc/self/clear_refs"), 1, 0);
        f.writeBytes(buf + 8, "9".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-Errno.EINVAL, f.sys(1, cr, buf + 8, 1));
        f.writeBytes(buf + 8, "5".getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, f.sys(1, cr, buf + 8, 1));
        long st = f.sys(257, AT_FDCWD, str("/proc/self/status"), 1, 0);
        assertTrue(st >= 0, "root may open a 0444 file for writing");
        assertEquals(-Errno.EINVAL, f.sys(1, st, buf + 8, 1), "but it has no write operation");
    }

    @Test
    void linksDevicesAndDeterministicUrandom() throws Exception {
        boot();
        int pid = f.kernel.task().tgid();
        long n = f.sys(89, str("/proc/self"), buf, 100);
        assertEquals(Integer.toString(pid), new String(f.readBytes(buf, (int) n), StandardCharsets.UTF_8));
        n = f.sys(89, str("/proc/" + pid + "/exe"), buf, 4096);
        assertEquals(f.kernel.task().exePath, new String(f.readBytes(buf, (int) n), StandardCharsets.UTF_8));
        assertEquals(-Errno.ENXIO, f.sys(2, str("/dev/tty"), 2, 0), "no controlling terminal");
        long full = f.sys(2, str("/dev/full"), 2, 0);
        assertEquals(-Errno.ENOSPC, f.sys(1, full, buf, 1));
        assertEquals(8, f.sys(0, full, buf, 8));
        assertEquals(0, f.read64(buf));
        // /dev/urandom under --deterministic: the same bytes in two machines with the same seed.
        long[] first = new long[2];
        for (int run = 0; run < 2; run++) {
            org.mmulab.emulator.machine.Machine mach = new org.mmulab.emulator.machine.Machine(64L << 20, 1);
            mach.setDeterministic(7);
            Kernel k = new Kernel(mach, new KernelConfig(new java.io.ByteArrayInputStream(new byte[0]),
                    new java.io.ByteArrayOutputStream(), new java.io.ByteArrayOutputStream()));
            byte[] r = new byte[8];
            ((org.mmulab.kernel.fs.Device) k.filesystems().vfs().walk(k.filesystems().vfs().root(),
                    k.filesystems().vfs().root(), "/dev/urandom", true, 0).inode).read(0, r, 0, 8);
            first[run] = java.nio.ByteBuffer.wrap(r).getLong();
        }
        assertEquals(first[0], first[1], "seeded");
    }

    @Test
    void cpuinfoFollowsThePresetAsCpuidDoes() throws Exception {
        org.mmulab.emulator.machine.Machine mach = new org.mmulab.emulator.machine.Machine(64L << 20, 2,
                org.mmulab.emulator.mmu.cpudb.Zen5.MODEL);
        Kernel k = new Kernel(mach, new KernelConfig(new java.io.ByteArrayInputStream(new byte[0]),
                new java.io.ByteArrayOutputStream(), new java.io.ByteArrayOutputStream()));
        org.mmulab.kernel.fs.Dentry d = k.filesystems().vfs().walk(k.filesystems().vfs().root(),
                k.filesystems().vfs().root(), "/proc/cpuinfo", true, 0);
        byte[] text = new byte[8192];
        int n = d.inode.open(d, 0).pread(0, text, 0, text.length);
        String s = new String(text, 0, n, StandardCharsets.US_ASCII);
        for (String line : new String[] {"vendor_id\t: AuthenticAMD", "cpu family\t: 26", "model\t\t: 2",
                "model name\t: AMD EPYC 9755 128-Core Processor", "stepping\t: 1", "cache size\t: 1024 KB",
                "cpu MHz\t\t: 2700.000", "processor\t: 1"}) {
            assertTrue(s.contains(line + "\n"), line + " in\n" + s);
        }
    }

    @Test
    void ia32FileCallsUseStat64AndSplitOffsets() throws Exception {
        f = Fixture.booted32(org.mmulab.kernel.KernelConfig.PagingMode.PAE);
        long b = f.sys32(Syscalls.NR32_MMAP2, 0, 16 * 4096, RW, ANON, -1, 0) & 0xffff_ffffL;
        f.writeBytes(b, "/tmp/f32\0".getBytes(StandardCharsets.US_ASCII));
        long fd = f.sys32(5, b, 0102 | 01000, 0644); // open(O_RDWR|O_CREAT|O_TRUNC)
        assertTrue(fd >= 3, "open: " + fd);
        f.writeBytes(b + 64, "0123456789".getBytes(StandardCharsets.US_ASCII));
        assertEquals(10, f.sys32(4, fd, b + 64, 10));
        assertEquals(0, f.sys32(140, fd, 0, 4, b + 128, 0), "_llseek to 4");
        assertEquals(4, f.read64(b + 128));
        assertEquals(3, f.sys32(180, fd, b + 256, 3, 7, 0), "pread64 at 7 (low, high)");
        assertEquals("789", new String(f.readBytes(b + 256, 3), StandardCharsets.US_ASCII));
        assertEquals(0, f.sys32(197, fd, b + 512), "fstat64");
        assertEquals(10, f.read64(b + 512 + 44), "st_size at 44");
        assertEquals(0100644, f.read32(b + 512 + 16), "st_mode");
        assertEquals(0, f.sys32(194, fd, 5, 0), "ftruncate64");
        assertEquals(0, f.sys32(195, b, b + 512), "stat64");
        assertEquals(5, f.read64(b + 512 + 44));
        assertEquals(-Errno.EBADF, f.sys32(3, 77, b, 1));
        assertEquals(-Errno.EFAULT, f.sys32(5, 0x10, 0, 0));
        assertEquals(0, f.sys32(6, fd));
    }
}
