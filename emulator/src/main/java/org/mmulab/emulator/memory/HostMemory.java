package org.mmulab.emulator.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What the host can give guest RAM, read where Linux publishes it: RAM and swap from
 * {@code /proc/meminfo} (fs/proc/meminfo.c), the memory controller's limit of this process's cgroup
 * ({@code memory.max} + {@code memory.swap.max} in cgroup v2, {@code memory.limit_in_bytes} in v1), and the
 * address-space headroom under {@code ulimit -v} ({@code Max address space} in {@code /proc/self/limits}
 * minus {@code VmSize} in {@code /proc/self/status}). A guest bigger than the smallest of these can only
 * end in the host's OOM killer or a failed mapping, so the CLI refuses it before booting, with
 * {@link #refusal}'s one line. Also checked: that the Java heap can hold the kernel's per-frame metadata
 * (the frame table), the one part of guest memory management that is on the heap.
 *
 * <p>Anything unreadable counts as unlimited (a host without /proc, a cgroup without a memory controller):
 * the mapping itself still fails cleanly ({@link HostMemoryException}) if the host then says no.
 */
public final class HostMemory {
    public static final long UNLIMITED = Long.MAX_VALUE;

    private final long ramAndSwap;
    private final long cgroupLimit;
    private final long addressSpace;
    private final long heapFree;

    private static volatile HostMemory system;

    /** The limits as given (tests; {@link #UNLIMITED} for none). */
    public HostMemory(long ramAndSwap, long cgroupLimit, long addressSpace, long heapFree) {
        this.ramAndSwap = ramAndSwap;
        this.cgroupLimit = cgroupLimit;
        this.addressSpace = addressSpace;
        this.heapFree = heapFree;
    }

    /** This host's limits, read from {@code /proc} and {@code /sys/fs/cgroup} once (the heap figure is live). */
    public static HostMemory system() {
        HostMemory h = system;
        if (h == null) {
            h = probe(Path.of("/proc"), Path.of("/sys/fs/cgroup"));
            system = h;
        }
        Runtime rt = Runtime.getRuntime();
        return new HostMemory(h.ramAndSwap, h.cgroupLimit, h.addressSpaceNow(), rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()));
    }

    private long addressSpaceNow() {
        if (addressSpace == UNLIMITED) {
            return UNLIMITED;
        }
        return probe(Path.of("/proc"), Path.of("/sys/fs/cgroup")).addressSpace;
    }

    /** Reads the limits from a {@code /proc} and a cgroup file-system root (fake trees in tests). */
    public static HostMemory probe(Path proc, Path cgroup) {
        long ram = meminfoKb(proc, "MemTotal:");
        long swap = meminfoKb(proc, "SwapTotal:");
        long ramSwap = ram < 0 ? UNLIMITED : (ram + Math.max(0, swap)) * 1024;
        long as = UNLIMITED;
        for (String l : lines(proc.resolve("self/limits"))) {
            if (l.startsWith("Max address space")) {
                String[] f = l.substring("Max address space".length()).trim().split("\\s+");
                if (f.length > 0 && !f[0].equals("unlimited")) {
                    long vm = statusKb(proc, "VmSize:");
                    as = Math.max(0, parse(f[0]) - Math.max(0, vm) * 1024);
                }
            }
        }
        return new HostMemory(ramSwap, cgroupLimit(proc, cgroup), as, UNLIMITED);
    }

    private static long cgroupLimit(Path proc, Path root) {
        long best = UNLIMITED;
        for (String l : lines(proc.resolve("self/cgroup"))) {
            String[] f = l.split(":", 3);
            if (f.length != 3) {
                continue;
            }
            String rel = f[2].startsWith("/") ? f[2].substring(1) : f[2];
            if (f[0].equals("0") && f[1].isEmpty()) {
                for (Path dir : List.of(root.resolve(rel), root)) {
                    long max = read(dir.resolve("memory.max"));
                    if (max != UNLIMITED) {
                        long swap = read(dir.resolve("memory.swap.max"));
                        best = Math.min(best, swap == UNLIMITED || swap < 0 ? max : max + swap);
                        break;
                    }
                }
            } else if (List.of(f[1].split(",")).contains("memory")) {
                for (Path dir : List.of(root.resolve("memory").resolve(rel), root.resolve("memory"))) {
                    long max = read(dir.resolve("memory.limit_in_bytes"));
                    if (max != UNLIMITED) {
                        best = Math.min(best, max);
                        break;
                    }
                }
            }
        }
        return best;
    }

    /** RAM + swap of the host in bytes ({@link #UNLIMITED} when unknown). */
    public long ramAndSwap() {
        return ramAndSwap;
    }

    /**
     * Null when {@code ramBytes} of guest RAM and {@code heapBytes} of kernel metadata fit this host;
     * otherwise one line saying which limit is too small.
     */
    public String refusal(long ramBytes, long heapBytes) {
        String want = formatSize(ramBytes) + " of guest RAM";
        if (ramBytes > ramAndSwap) {
            return want + " is more than this host has (" + formatSize(ramAndSwap) + " of RAM + swap)";
        }
        if (ramBytes > cgroupLimit) {
            return want + " is more than this process's cgroup may use (memory limit " + formatSize(cgroupLimit) + ")";
        }
        if (ramBytes > addressSpace) {
            return want + " does not fit the address space left under ulimit -v (" + formatSize(addressSpace) + ")";
        }
        if (heapBytes > heapFree) {
            return want + " needs " + formatSize(heapBytes) + " of Java heap for the frame table, but only "
                    + formatSize(heapFree) + " is free (raise -Xmx in MMULAB_JAVA_OPTS)";
        }
        return null;
    }

    /** 512M, 1.5G, 300K: sizes the way --mem takes them. */
    public static String formatSize(long bytes) {
        if (bytes == UNLIMITED) {
            return "unlimited";
        }
        String[] units = {"", "K", "M", "G", "T"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v)) + units[u];
    }

    private static long meminfoKb(Path proc, String key) {
        return fieldKb(proc.resolve("meminfo"), key);
    }

    private static long statusKb(Path proc, String key) {
        return fieldKb(proc.resolve("self/status"), key);
    }

    private static long fieldKb(Path file, String key) {
        for (String l : lines(file)) {
            if (l.startsWith(key)) {
                String[] f = l.substring(key.length()).trim().split("\\s+");
                long v = parse(f[0]);
                return v == UNLIMITED ? -1 : v;
            }
        }
        return -1;
    }

    private static long read(Path file) {
        List<String> l = lines(file);
        if (l.isEmpty()) {
            return UNLIMITED;
        }
        long v = parse(l.get(0).trim());
        // cgroup v1 says "no limit" with PAGE_COUNTER_MAX pages (about 2^63 bytes).
        return v >= (1L << 62) ? UNLIMITED : v;
    }

    private static long parse(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return UNLIMITED;
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
