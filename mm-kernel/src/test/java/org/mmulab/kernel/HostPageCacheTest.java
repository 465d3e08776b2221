package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmulab.kernel.mm.Mmap;

/**
 * Host files through one page cache per inode (HostFs, HostPageCache, PageWriteback): a write() is seen
 * by a mapping made before it (the old code mapped a snapshot taken at the first mmap); a MAP_SHARED
 * writable mapping below --rw is written back to the host file by msync (MS_SYNC and MS_ASYNC), fsync
 * and munmap, with the dirty state taken from the PTEs' D bits (the old code refused such a mapping
 * with ENODEV); ftruncate unmaps through i_mmap (SIGBUS past the new end, the tail of the last page
 * zeroed); Linux's errnos for the bad cases.
 */
class HostPageCacheTest {
    static final int R = 1, RW = 3, ANON = 0x22, AT_FDCWD = -100, O_RDONLY = 0, O_RDWR = 2;
    static final int MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

    @TempDir
    Path tmp;
    private Path rw;
    private Fixture f;
    private long buf;
    private int strings;

    @BeforeEach
    void boot() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        rw = Files.createDirectory(root.resolve("rw"));
        Files.writeString(root.resolve("ro.txt"), "read-only");
        f = new Fixture(64L << 20);
        f.kernel.filesystems().configure(root, List.of(rw));
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        buf = f.mmap(0, 64 * 4096, RW, ANON);
    }

    private long str(String s) {
        long p = buf + 32 * 4096 + strings;
        byte[] b = (s + "\0").getBytes(StandardCharsets.UTF_8);
        f.writeBytes(p, b);
        strings += (b.length + 7) & ~7;
        return p;
    }

    private long open(String path, int flags) {
        return f.sys(257, AT_FDCWD, str(path), flags, 0);
    }

    private long pwrite(long fd, String s, long at) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        f.writeBytes(buf, b);
        return f.sys(18, fd, buf, b.length, at);
    }

    private String pread(long fd, int n, long at) {
        long r = f.sys(17, fd, buf + 4096, n, at);
        assertTrue(r >= 0, "pread: " + r);
        return new String(f.readBytes(buf + 4096, (int) r), StandardCharsets.UTF_8);
    }

    private String mem(long va, int n) {
        return new String(f.readBytes(va, n), StandardCharsets.UTF_8);
    }

    private void put(long va, String s) {
        f.writeBytes(va, s.getBytes(StandardCharsets.UTF_8));
    }

    private String host(long off, int n) throws Exception {
        byte[] b = Files.readAllBytes(rw.resolve("data"));
        return new String(b, (int) off, n, StandardCharsets.ISO_8859_1);
    }

    /** A three-page host file below --rw, open O_RDWR. */
    private long data() throws Exception {
        byte[] b = new byte[3 * 4096];
        java.util.Arrays.fill(b, (byte) '.');
        Files.write(rw.resolve("data"), b);
        long fd = open("/rw/data", O_RDWR);
        assertTrue(fd >= 3, "open: " + fd);
        return fd;
    }

    @Test
    void aWriteIsSeenByMappingsMadeBeforeIt() throws Exception {
        long fd = data();
        long shared = f.sys(9, 0, 3 * 4096, R, Mmap.MAP_SHARED, fd, 0);
        long priv = f.sys(9, 0, 3 * 4096, R, Mmap.MAP_PRIVATE, fd, 0);
        assertEquals("...", mem(shared + 100, 3));
        assertEquals("...", mem(priv + 4096 + 100, 3), "both mappings fault the pages in first");
        assertEquals(3, pwrite(fd, "abc", 100));
        assertEquals(3, pwrite(fd, "xyz", 4096 + 100));
        assertEquals("abc", mem(shared + 100, 3), "MAP_SHARED sees a later write()");
        assertEquals("xyz", mem(priv + 4096 + 100, 3), "MAP_PRIVATE (not yet copied) sees it too");
        assertEquals("abc", host(100, 3), "write() reaches the host at once");
    }

    @Test
    void sharedWritableMappingIsWrittenBackByMsyncFsyncAndMunmap() throws Exception {
        long fd = data();
        long m = f.sys(9, 0, 3 * 4096, RW, Mmap.MAP_SHARED, fd, 0);
        assertTrue(m > 0, "MAP_SHARED|PROT_WRITE of a host file below --rw: " + m);
        put(m + 10, "one");
        assertEquals("one", pread(fd, 3, 10), "read() sees the mapping's store before any writeback");
        assertEquals(0, f.sys(26, m, 4096, MS_SYNC));
        assertEquals("one", host(10, 3), "msync(MS_SYNC) wrote the dirty page");
        put(m + 20, "two");
        assertEquals(0, f.sys(26, m, 4096, MS_ASYNC));
        assertEquals("two", host(20, 3), "MS_ASYNC too (the PTE was cleaned and faulted writable again)");
        put(m + 4096 + 30, "three");
        assertEquals(0, f.sys(74, fd), "fsync");
        assertEquals("three", host(4096 + 30, 5), "fsync writes back what the mapping dirtied");
        put(m + 2 * 4096 + 40, "four");
        assertEquals(".", host(2 * 4096 + 40, 1), "no writeback yet");
        assertEquals(0, f.sys(11, m, 3 * 4096), "munmap");
        assertEquals("four", host(2 * 4096 + 40, 4), "munmap passes the dirty PTE on and writes it back");
        assertEquals(3 * 4096, Files.size(rw.resolve("data")), "writeback never grows the file");
    }

    @Test
    void ftruncateUnmapsThroughIMmapAndPastEofIsSigbus() throws Exception {
        long fd = data();
        long m = f.sys(9, 0, 3 * 4096, RW, Mmap.MAP_SHARED, fd, 0);
        put(m + 2 * 4096, "gone");
        put(m + 4096 + 200, "kept");
        assertEquals(0, f.sys(77, fd, 4096 + 100), "ftruncate to 1 page + 100 bytes");
        assertEquals(-1 - Kernel.FAULT_SIGBUS, f.touch(m + 2 * 4096, false), "the cut page is SIGBUS");
        assertEquals("\0\0\0\0", mem(m + 4096 + 200, 4), "the last page's tail past EOF reads as zeros");
        assertEquals(0, f.sys(11, m, 3 * 4096));
        assertEquals(4096 + 100, Files.size(rw.resolve("data")), "munmap's writeback stops at EOF");
        assertEquals(0, f.sys(77, fd, 3 * 4096), "extend again");
        assertEquals("\0\0\0\0", pread(fd, 4, 2 * 4096), "the cut page's bytes never come back");
    }

    @Test
    void badInputGetsLinuxErrnos() throws Exception {
        long fd = data();
        long ro = open("/rw/data", O_RDONLY);
        assertEquals(-Errno.EACCES, f.sys(9, 0, 4096, RW, Mmap.MAP_SHARED, ro, 0),
                "MAP_SHARED|PROT_WRITE on an fd not open for writing");
        assertEquals(-Errno.EROFS, open("/ro.txt", O_RDWR), "outside --rw the write open fails");
        long m = f.sys(9, 0, 2 * 4096, RW, Mmap.MAP_SHARED, fd, 0);
        assertEquals(0, f.sys(11, m + 4096, 4096), "leave a hole after the first page");
        assertEquals(-Errno.EINVAL, f.sys(26, m, 4096, MS_SYNC | MS_ASYNC), "MS_SYNC|MS_ASYNC");
        assertEquals(-Errno.EINVAL, f.sys(26, m + 1, 4096, MS_SYNC), "unaligned start");
        assertEquals(-Errno.EINVAL, f.sys(26, m, 4096, 8), "unknown flag");
        assertEquals(-Errno.ENOMEM, f.sys(26, m, 2 * 4096, MS_SYNC), "range not all mapped");
        assertEquals(0, f.sys(26, m, 4096, MS_INVALIDATE));
        long roMap = f.sys(9, 0, 4096, R, Mmap.MAP_SHARED, ro, 0);
        assertEquals(-1 - Kernel.FAULT_SIGSEGV, f.touch(roMap, true), "a store to a read-only shared mapping");
        assertEquals(-Errno.EACCES, f.sys(10, roMap, 4096, RW), "mprotect(PROT_WRITE): no VM_MAYWRITE without FMODE_WRITE");
        long roPriv = f.sys(9, 0, 4096, R, Mmap.MAP_PRIVATE, ro, 0);
        assertEquals(0, f.sys(10, roPriv, 4096, RW), "a private mapping may become writable (COW)");
    }
}
