package org.mmulab.kernel;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import org.mmulab.emulator.machine.PerfStats;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.VmArea;

/**
 * What the kernel reports about a run: the {@code --stats} table and {@code --stats-json} sections
 * (syscalls by name, unknown syscalls, vmstat-like fault counters, the mm's RSS and hiwater marks, the
 * last fatal signal's log line) and the gdb monitor commands {@code vmas}, {@code pte VA}, {@code mmstat}.
 */
final class KernelStats {
    private final Kernel k;

    KernelStats(Kernel k) {
        this.k = k;
    }

    /** Adds the kernel's monitor commands to the emulator's registry (the CLI calls this with --gdb). */
    void registerMonitorCommands(org.mmulab.emulator.debug.MonitorRegistry registry) {
        registry.register("vmas", "the current process's VMAs, as /proc/pid/maps", (args, out) -> {
            MmStruct mm = k.mm();
            out.print(mm == null ? "no process\n" : mm.maps());
        });
        registry.register("pte", "pte VA: the kernel's PTE for VA (software view, no TLB involved)", (args, out) -> {
            MmStruct mm = k.mm();
            if (mm == null || args.length < 1) {
                out.println(mm == null ? "no process" : "usage: pte VA");
                return;
            }
            long va = Long.parseUnsignedLong(args[0].replaceFirst("^0[xX]", ""), 16);
            VmArea v = mm.vmaLookup(va);
            out.println("vma: " + (v == null ? "none" : v.toString()));
            out.println("pte: " + org.mmulab.kernel.mm.PteBits.describe(k.memory().lookupPte(mm, va)));
        });
        registry.register("mmstat", "kernel mm counters (faults by kind, RSS, hiwater)", (args, out) -> {
            for (Map.Entry<String, Long> e : k.memory().stats.asMap().entrySet()) {
                out.printf("%-32s %d%n", e.getKey(), e.getValue());
            }
            MmStruct mm = k.mm();
            if (mm != null) {
                out.println(mm.countersDescription());
            }
        });
    }

    void printStats(PrintStream out) {
        out.println("== mmulab kernel statistics ==");
        out.printf("syscalls: %d%n", k.syscalls().total());
        if (k.signalsDelivered > 0) {
            out.printf("signals delivered to handlers: %d%n", k.signalsDelivered);
        }
        for (Map.Entry<String, Long> e : k.syscalls().countsByName().entrySet()) {
            out.printf("  %-20s %d%n", e.getKey(), e.getValue());
        }
        TreeMap<Long, Long> unknown = k.syscalls().unknownByNumber();
        if (unknown.isEmpty()) {
            out.println("unknown syscalls (-ENOSYS): none");
        } else {
            out.println("unknown syscalls (-ENOSYS):");
            for (Map.Entry<Long, Long> e : unknown.entrySet()) {
                long nr = e.getKey(); // bit 32 tags the ia32 table (int 0x80)
                String name = (nr >>> 32) != 0 ? "ia32 nr " + (nr & 0xffff_ffffL) : "nr " + nr;
                out.printf("  %-20s %d%n", name, e.getValue());
            }
        }
        out.println("page faults:");
        for (Map.Entry<String, Long> e : k.memory().stats.asMap().entrySet()) {
            out.printf("  %-32s %d%n", e.getKey(), e.getValue());
        }
        MmStruct mm = k.mm();
        if (mm != null) {
            mm.updateHiwaterRss();
            out.println("mm: " + mm.countersDescription());
            out.printf("  hiwater_rss %d kB, hiwater_vm %d kB%n", mm.hiwaterRss() * 4, mm.hiwaterVm() * 4);
        } else if (!k.exitCounters.isEmpty()) {
            out.println("mm (at exit): " + k.exitCounters);
            out.printf("  hiwater_rss %d kB, hiwater_vm %d kB%n", k.exitHiwaterRss * 4, k.exitHiwaterVm * 4);
        }
        out.printf("frames: %d free of %d%n", k.memory().frames().freePages(), k.memory().frames().frameCount());
        if (k.lastFatalSignal() != null) {
            out.println("fatal signal: " + k.lastFatalSignal());
        }
        PerfStats.of(k.machine()).printTable(out);
    }

    /** The kernel's counter groups for {@code --stats-json}: mm fault kinds (vmstat) and system calls by name. */
    Map<String, Map<String, Long>> statsSections() {
        Map<String, Map<String, Long>> m = new java.util.LinkedHashMap<>();
        m.put("vmstat", k.memory().stats.asMap());
        Map<String, Long> sys = new java.util.LinkedHashMap<>();
        sys.put("total", k.syscalls().total());
        sys.putAll(k.syscalls().countsByName());
        m.put("syscalls", sys);
        Map<String, Long> unknown = new java.util.LinkedHashMap<>();
        k.syscalls().unknownByNumber().forEach((nr, n) -> unknown.put(Long.toString(nr), n));
        m.put("unknown_syscalls", unknown);
        return m;
    }
}
