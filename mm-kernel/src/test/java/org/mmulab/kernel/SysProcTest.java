package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The startup and stdio syscalls of static glibc and musl (SysProc, SysPath stat, SigAltStack), 64-bit ABI. */
class SysProcTest {
    static final int RW = 3, ANON = 0x22;

    private static Fixture boot() throws Exception {
        Fixture f = new Fixture(64L << 20);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        return f;
    }

    @Test
    void limits() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        assertEquals(0, f.sys(302, 0, 3, 0, buf)); // prlimit64(0, RLIMIT_STACK, NULL, old)
        assertEquals(8L << 20, f.read64(buf));
        assertEquals(-1L, f.read64(buf + 8), "RLIM_INFINITY");
        assertEquals(0, f.sys(97, 7, buf)); // getrlimit(NOFILE)
        assertEquals(1024, f.read64(buf));
        assertEquals(4096, f.read64(buf + 8));
        f.write64(buf, 100);
        f.write64(buf + 8, 50);
        assertEquals(-22, f.sys(160, 7, buf), "cur > max");
        f.write64(buf, 64);
        f.write64(buf + 8, 4096);
        assertEquals(0, f.sys(160, 7, buf));
        assertEquals(0, f.sys(97, 7, buf + 16));
        assertEquals(64, f.read64(buf + 16));
        f.write64(buf + 8, 2L << 20);
        assertEquals(-1, f.sys(160, 7, buf), "beyond nr_open");
        assertEquals(-22, f.sys(97, 16, buf), "no such resource");
        assertEquals(-3, f.sys(302, 999, 7, 0, buf), "another pid");
    }

    @Test
    void identityUmaskRandomAndInfo() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        assertEquals(0, f.sys(115, 0, 0), "no supplementary groups");
        assertEquals(-22, f.sys(115, -1, 0));
        assertEquals(0022, f.sys(95, 077));
        assertEquals(077, f.sys(95, 0022));
        assertEquals(0, f.sys(273, buf, 24), "set_robust_list");
        assertEquals(-22, f.sys(273, buf, 16));
        assertEquals(-38, f.sys(334, buf, 32, 0, 0), "rseq: as CONFIG_RSEQ=n");
        assertEquals(16, f.sys(318, buf, 16, 1));
        assertEquals(-22, f.sys(318, buf, 16, 0x10));
        assertEquals(-14, f.sys(318, 0x10, 16, 0));
        assertEquals(0, f.sys(99, buf)); // sysinfo
        assertEquals(64L << 20, f.read64(buf + 32), "totalram in bytes, mem_unit 1");
        assertEquals(1, f.read32(buf + 104));
        assertEquals(0, f.sys(98, 0, buf)); // getrusage
        assertTrue(f.read64(buf + 64) > 0, "ru_minflt");
        assertEquals(-22, f.sys(98, 5, buf));
        assertTrue(f.sys(100, buf) >= 0, "times");
        assertEquals(8, f.sys(204, 0, 8, buf), "sched_getaffinity: one long");
        assertEquals(1, f.read64(buf) & 0xff);
        assertEquals(-22, f.sys(204, 0, 4, buf), "not a multiple of the word size");
    }

    @Test
    void readlinkProcSelfExeAndPipeStat() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 8192, RW, ANON);
        f.writeBytes(buf, "/proc/self/exe\0".getBytes(StandardCharsets.US_ASCII));
        long n = f.sys(89, buf, buf + 1024, 4096);
        assertTrue(n > 0);
        String path = f.readString(buf + 1024).substring(0, (int) n);
        assertTrue(path.startsWith("/"), path);
        assertEquals(f.kernel.task().exePath, path);
        assertEquals(3, f.sys(89, buf, buf + 1024, 3), "truncated, no NUL");
        assertEquals(-22, f.sys(89, buf, buf + 1024, 0));
        f.writeBytes(buf, "/nonexistent-mmulab\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-2, f.sys(89, buf, buf + 1024, 100));
        f.writeBytes(buf, "/proc/self/status\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-22, f.sys(89, buf, buf + 1024, 100), "not a symlink");
        f.writeBytes(buf, "\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(0, f.sys(262, 1, buf, buf + 1024, 0x1000)); // newfstatat(1, "", AT_EMPTY_PATH)
        assertEquals(0010600, f.read32(buf + 1024 + 24), "S_IFIFO|0600");
        assertEquals(4096, f.read64(buf + 1024 + 56), "st_blksize");
        assertEquals(-9, f.sys(5, 7, buf + 1024));
    }

    @Test
    void sigaltstack() throws Exception {
        Fixture f = boot();
        long buf = f.mmap(0, 4096, RW, ANON);
        long stack = f.mmap(0, 65536, RW, ANON);
        assertEquals(0, f.sys(131, 0, buf)); // query
        assertEquals(2, f.read32(buf + 8), "SS_DISABLE");
        f.write64(buf, stack);
        f.write64(buf + 8, 0);
        f.write64(buf + 16, 1024);
        assertEquals(-12, f.sys(131, buf, 0), "below MINSIGSTKSZ");
        f.write64(buf + 16, 65536);
        f.write64(buf + 8, 7);
        assertEquals(-22, f.sys(131, buf, 0), "bad mode");
        f.write64(buf + 8, 0);
        assertEquals(0, f.sys(131, buf, buf + 64));
        assertEquals(0, f.sys(131, 0, buf + 64));
        assertEquals(stack, f.read64(buf + 64));
        assertEquals(0, f.read32(buf + 72));
        assertEquals(65536, f.read64(buf + 80));
    }
}
