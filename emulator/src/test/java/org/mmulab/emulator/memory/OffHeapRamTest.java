package org.mmulab.emulator.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guest RAM is off the Java heap (issue 11 §2): a JVM whose heap is far smaller than the guest RAM it
 * touches still works, and the host limits that decide whether a --mem can be given are read from /proc
 * and the cgroup tree as Linux publishes them.
 */
class OffHeapRamTest {
    /** Child JVM body: touches every page of {@code args[0]} MiB of a larger RAM, checks it, exits 0. */
    public static final class TouchMain {
        public static void main(String[] args) {
            long touched = Long.parseLong(args[0]) << 20;
            PhysicalMemory m = new PhysicalMemory(touched + (64L << 20));
            for (long pa = 0; pa < touched; pa += PhysicalMemory.PAGE_SIZE) {
                m.write64(pa + 8, pa ^ 0x5a5a5a5a5a5aL);
            }
            for (long pa = 0; pa < touched; pa += PhysicalMemory.PAGE_SIZE) {
                if (m.read64(pa + 8) != (pa ^ 0x5a5a5a5a5a5aL) || m.read64(pa) != 0) {
                    System.out.println("mismatch at 0x" + Long.toHexString(pa));
                    System.exit(1);
                }
            }
            System.out.println("ok " + (touched >> 20) + " MiB touched, heap max " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
        }
    }

    @Test
    void guestRamTouchedBeyondTheHeapMaximumDoesNotNeedTheHeap() throws Exception {
        // 160 MiB of guest pages touched in a JVM with a 32 MiB heap: byte[] chunks on the heap ran out at
        // the 16th chunk with OutOfMemoryError: Java heap space.
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx32m", "-cp", System.getProperty("java.class.path"),
                TouchMain.class.getName(), "160").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith("ok 160 MiB touched"), out);
    }

    @Test
    void largeRamIsOnlyAddressSpaceUntilTouched() {
        // 8 GiB of guest RAM in the test JVM costs nothing until touched; its last page works.
        PhysicalMemory m = new PhysicalMemory(8L << 30);
        long last = (8L << 30) - PhysicalMemory.PAGE_SIZE;
        assertEquals(0, m.read64(last));
        m.write64(last, 42);
        assertEquals(42, m.compareAndExchange64(last, 42, 43));
        assertEquals(43, m.read64Acquire(last));
        // A 1 GiB page's last word and the next region's first: no straddling, both addressable.
        m.write64(PhysicalMemory.REGION_SIZE - 8, 7);
        m.write64(PhysicalMemory.REGION_SIZE, 9);
        assertEquals(7, m.read64(PhysicalMemory.REGION_SIZE - 8));
        assertEquals(9, m.read64(PhysicalMemory.REGION_SIZE));
    }

    @Test
    void bulkAccessAcrossFramesAndRegions() {
        PhysicalMemory m = new PhysicalMemory(PhysicalMemory.REGION_SIZE + (4L << 20));
        byte[] src = new byte[3 * 4096];
        for (int i = 0; i < src.length; i++) {
            src[i] = (byte) (i * 7 + 1);
        }
        long pa = PhysicalMemory.REGION_SIZE - 4096 - 100;
        m.writeBytes(pa, src, 0, src.length);
        byte[] back = new byte[src.length];
        m.readBytes(pa, back, 0, back.length);
        assertEquals(java.util.Arrays.toString(src), java.util.Arrays.toString(back));
        m.copyFrame(PhysicalMemory.REGION_SIZE - 4096, 0x3000);
        assertEquals(m.read64(PhysicalMemory.REGION_SIZE - 4096 + 96), m.read64(0x3000 + 96));
        m.zeroFrame(0x3000);
        assertEquals(PhysicalMemory.PAGE_SIZE / 8, m.firstNonZero64(0x3000, 512));
    }

    @Test
    void limitsAreReadFromProcAndCgroupFiles(@TempDir Path root) throws IOException {
        Path proc = root.resolve("proc");
        Path cg = root.resolve("cgroup");
        Files.createDirectories(proc.resolve("self"));
        Files.writeString(proc.resolve("meminfo"), "MemTotal:        2097152 kB\nMemFree:  100 kB\nSwapTotal:       1048576 kB\n");
        Files.writeString(proc.resolve("self/cgroup"), "0::/user.slice/job\n");
        Files.writeString(proc.resolve("self/limits"),
                "Limit                     Soft Limit           Hard Limit           Units     \n"
                        + "Max address space         8589934592           unlimited            bytes     \n");
        Files.writeString(proc.resolve("self/status"), "Name:\tjava\nVmSize:\t 4194304 kB\n");
        Files.createDirectories(cg.resolve("user.slice/job"));
        Files.writeString(cg.resolve("user.slice/job/memory.max"), "1073741824\n");
        Files.writeString(cg.resolve("user.slice/job/memory.swap.max"), "max\n");
        HostMemory h = HostMemory.probe(proc, cg);
        assertEquals(3L << 30, h.ramAndSwap());
        assertNull(h.refusal(512L << 20, 1 << 20));
        assertEquals("2G of guest RAM is more than this process's cgroup may use (memory limit 1G)", h.refusal(2L << 30, 0));
        assertEquals("4G of guest RAM is more than this host has (3G of RAM + swap)", h.refusal(4L << 30, 0));
        // ulimit -v 8G with 4 GiB already mapped leaves 4 GiB.
        HostMemory noCgroup = HostMemory.probe(proc, root.resolve("none"));
        assertNull(noCgroup.refusal(2L << 30, 0));
        Files.writeString(proc.resolve("self/status"), "VmSize:\t 7340032 kB\n");
        assertEquals("2G of guest RAM does not fit the address space left under ulimit -v (1G)",
                HostMemory.probe(proc, root.resolve("none")).refusal(2L << 30, 0));
        // cgroup v1 with its "no limit" value is unlimited.
        Files.writeString(proc.resolve("self/status"), "VmSize:\t 4194304 kB\n");
        Files.writeString(proc.resolve("self/cgroup"), "4:memory:/job\n");
        Files.createDirectories(cg.resolve("memory/job"));
        Files.writeString(cg.resolve("memory/job/memory.limit_in_bytes"), "9223372036854771712\n");
        assertNull(HostMemory.probe(proc, cg).refusal(2L << 30, 0));
        Files.writeString(cg.resolve("memory/job/memory.limit_in_bytes"), "268435456\n");
        assertEquals("512M of guest RAM is more than this process's cgroup may use (memory limit 256M)",
                HostMemory.probe(proc, cg).refusal(512L << 20, 0));
        assertEquals("64M of guest RAM needs 40M of Java heap for the frame table, but only 32M is free (raise -Xmx in MMULAB_JAVA_OPTS)",
                new HostMemory(HostMemory.UNLIMITED, HostMemory.UNLIMITED, HostMemory.UNLIMITED, 32L << 20).refusal(64L << 20, 40L << 20));
    }
}
