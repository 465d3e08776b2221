package org.mmulab.emulator.machine;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.mmulab.emulator.cpu.Interpreter;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.cpu.tier.Tier;
import org.mmulab.emulator.mmu.MmuCounters;
import org.mmulab.emulator.timing.CacheHierarchy;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * A snapshot of every vCPU's counters and their totals, named after perf's events where one exists
 * ({@code cycles}, {@code instructions}, {@code page-faults}, {@code minor-faults},
 * {@code dtlb_load_misses.*}, {@code dtlb_store_misses.*}, {@code itlb_misses.*},
 * {@code page_walker_loads.*}, {@code tlb_flush.*}) and mmulab's own (trap, kernel-memory, lock, IPI
 * and shootdown counts, and under {@code --engine tier} the translation tier's {@code tier.blocks_compiled}
 * and {@code tier.block_runs}), plus the page-fault latency histogram in cycles (log2 buckets). {@code --stats}
 * prints {@link #printTable}; {@code --stats-json} writes {@link #toJson}. Nothing in it depends on host
 * time, so under {@code --deterministic} it is identical from run to run.
 */
public final class PerfStats {
    private final String timing;
    private final String model;
    private final long frequencyHz;
    private final boolean deterministic;
    private final long seed;
    private final int cpus;
    private final LinkedHashMap<String, long[]> counters = new LinkedHashMap<>();
    private final long[][] histogram; // [cpu][bucket]
    private final long[] virtualNanos;

    private PerfStats(Machine m) {
        List<Vcpu> vs = m.vcpus();
        cpus = vs.size();
        Vcpu v0 = vs.get(0);
        timing = v0.timingMode().cliName();
        model = v0.mmu().model().name();
        frequencyHz = v0.clock().model().frequencyHz();
        deterministic = m.guestTime().isVirtual();
        seed = m.guestTime().seed();
        histogram = new long[cpus][VcpuClock.HISTOGRAM_BUCKETS];
        virtualNanos = new long[cpus];
        for (int i = 0; i < cpus; i++) {
            Vcpu v = vs.get(i);
            VcpuClock c = v.clock();
            MmuCounters mc = v.mmu().counters;
            put("cycles", i, v.cycles());
            put("instructions", i, v.state.instructions);
            put("page-faults", i, c.pageFaults);
            put("minor-faults", i, c.minorFaults);
            for (Map.Entry<String, Long> e : mc.asMap().entrySet()) {
                put(e.getKey(), i, e.getValue());
            }
            WalkTiming w = v.walkTiming();
            if (w != null) {
                String[] lv = {null, "l1", "l2", "l3", "memory"};
                for (int l = CacheHierarchy.L1; l <= CacheHierarchy.MEMORY; l++) {
                    put("page_walker_loads.dtlb_" + lv[l], i, w.walkerLoadsByLevel[l]);
                }
                for (int l = CacheHierarchy.L1; l <= CacheHierarchy.MEMORY; l++) {
                    put("page_walker_loads.itlb_" + lv[l], i, w.itlbWalkerLoadsByLevel[l]);
                }
                put("walk_cycles", i, w.walkCycles);
                String[] src = {null, "l1_hit", "l2_hit", "l3_hit", "l3_miss"};
                for (int l = CacheHierarchy.L1; l <= CacheHierarchy.MEMORY; l++) {
                    put("guest_data." + src[l], i, w.dataAccessesByLevel[l]);
                }
                put("data_miss_cycles", i, w.dataCycles);
                put("snoops", i, w.caches().snoops());
                put("snoop_cycles", i, w.snoopCycles);
                for (Map.Entry<String, Long> e : w.modelCounters().entrySet()) {
                    put(e.getKey(), i, e.getValue());
                }
                for (int l = CacheHierarchy.L1; l <= CacheHierarchy.MEMORY; l++) {
                    put("guest_fetch_lines." + src[l], i, w.fetchLinesByLevel[l]);
                }
                put("fetch_miss_cycles", i, w.fetchCycles);
            }
            put("exceptions", i, c.exceptions);
            put("syscalls", i, c.syscalls);
            put("kernel.pt_loads", i, c.kernelLoads);
            put("kernel.pt_stores", i, c.kernelStores);
            put("kernel.bulk_lines", i, c.kernelBulkLines);
            put("kernel_cycles.trap_entry_exit", i, c.trapCycles);
            put("kernel_cycles.fault_path", i, c.faultPathCycles);
            put("kernel_cycles.hypervisor", i, c.hypervisorCycles);
            put("kernel_cycles.pt_access", i, c.ptAccessCycles);
            put("kernel_cycles.zero_copy", i, c.bulkCycles);
            put("kernel_cycles.locks_ipis", i, c.lockIpiCycles);
            put("ptlock.acquires", i, c.lockAcquires);
            put("ptlock.contended", i, c.lockContended);
            put("ipis.sent", i, c.ipisSent);
            put("ipis.received", i, c.ipisReceived());
            put("tlb_shootdowns", i, c.shootdowns);
            put("idle_cycles", i, c.idleCycles());
            put("fault_latency.count", i, c.faultsTimed());
            put("fault_latency.total_cycles", i, c.faultCyclesTotal());
            put("fault_latency.max_cycles", i, c.faultCyclesMax());
            if (v.interpreter().engine() == Engine.TIER) { // what the translation tier did (absent under interp)
                Tier t = v.interpreter().tier();
                put("tier.blocks_compiled", i, t == null ? 0 : t.blocksCompiled);
                put("tier.block_runs", i, t == null ? 0 : t.blockRuns);
                put("tier.instructions", i, t == null ? 0 : t.insnsRetired);
                for (int op = 0; t != null && op < t.fallbacks.length; op++) {
                    if (t.fallbacks[op] != 0) { // hot entries the interpreter ran, by the instruction there
                        put("tier.fallback_" + (op == Tier.UNDECODED ? "undecoded" : Interpreter.opName(op).toLowerCase(java.util.Locale.ROOT)),
                                i, t.fallbacks[op]);
                    }
                }
            }
            for (int b = 0; b < VcpuClock.HISTOGRAM_BUCKETS; b++) {
                histogram[i][b] = c.faultHistogram(b);
            }
            virtualNanos[i] = v.virtualNanos();
        }
    }

    /** Takes the snapshot (call when the vCPUs are stopped, or accept a racy one). */
    public static PerfStats of(Machine m) {
        return new PerfStats(m);
    }

    private void put(String name, int cpu, long value) {
        counters.computeIfAbsent(name, k -> new long[cpus])[cpu] = value;
    }

    private static boolean isMax(String name) {
        return name.endsWith(".max_cycles");
    }

    /** The total over vCPUs of a counter (the maximum for a {@code .max_*} one); -1 if unknown. */
    public long total(String name) {
        long[] v = counters.get(name);
        if (v == null) {
            return -1;
        }
        long t = 0;
        for (long x : v) {
            t = isMax(name) ? Math.max(t, x) : t + x;
        }
        return t;
    }

    /** One vCPU's value of a counter; -1 if unknown. */
    public long value(String name, int cpu) {
        long[] v = counters.get(name);
        return v == null ? -1 : v[cpu];
    }

    /** Counter names in display order. */
    public List<String> names() {
        return new ArrayList<>(counters.keySet());
    }

    /** Histogram bucket {@code b} summed over vCPUs: faults costing [2^b, 2^(b+1)) cycles. */
    public long histogramTotal(int b) {
        long t = 0;
        for (long[] h : histogram) {
            t += h[b];
        }
        return t;
    }

    /** Prints the counter table (one column per vCPU, then the total) and the fault-latency histogram. */
    public void printTable(PrintStream out) {
        out.printf("== perf counters (timing %s, model %s, %.3f GHz%s) ==%n", timing, model, frequencyHz / 1e9,
                deterministic ? ", deterministic seed " + seed : "");
        StringBuilder head = new StringBuilder(String.format("  %-38s", "counter"));
        for (int i = 0; i < cpus; i++) {
            head.append(String.format(" %16s", "vcpu" + i));
        }
        head.append(String.format(" %16s", "total"));
        out.println(head);
        for (Map.Entry<String, long[]> e : counters.entrySet()) {
            StringBuilder row = new StringBuilder(String.format("  %-38s", e.getKey()));
            for (long x : e.getValue()) {
                row.append(String.format(" %16d", x));
            }
            row.append(String.format(" %16d", total(e.getKey())));
            out.println(row);
        }
        long vmax = 0;
        for (long n : virtualNanos) {
            vmax = Math.max(vmax, n);
        }
        out.printf("  %-38s %16.6f%n", "guest seconds (virtual time)", vmax / 1e9);
        printHistogram(out);
    }

    private void printHistogram(PrintStream out) {
        out.println("== page-fault latency (cycles, hardware + kernel; log2 buckets, all vCPUs) ==");
        long max = 0;
        int lo = -1, hi = -1;
        for (int b = 0; b < VcpuClock.HISTOGRAM_BUCKETS; b++) {
            long n = histogramTotal(b);
            if (n > 0) {
                max = Math.max(max, n);
                hi = b;
                if (lo < 0) {
                    lo = b;
                }
            }
        }
        if (lo < 0) {
            out.println("  (no page faults)");
            return;
        }
        for (int b = lo; b <= hi; b++) {
            long n = histogramTotal(b);
            int bar = (int) ((n * 40 + max - 1) / max);
            String upper = b == VcpuClock.HISTOGRAM_BUCKETS - 1 ? "inf" : Long.toString(1L << (b + 1));
            out.printf("  [%10d, %10s) %10d  %s%n", 1L << b, upper, n, "#".repeat(bar));
        }
    }

    /**
     * The snapshot as JSON: run parameters, per-vCPU counters and histogram, totals, and any {@code extra}
     * sections (name → counter map) the caller adds (the kernel's fault kinds and system calls).
     */
    public String toJson(Map<String, Map<String, Long>> extra) {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("{\n  \"timing\": ").append(str(timing))
                .append(",\n  \"model\": ").append(str(model))
                .append(",\n  \"frequency_hz\": ").append(frequencyHz)
                .append(",\n  \"deterministic\": ").append(deterministic);
        if (deterministic) {
            sb.append(",\n  \"seed\": ").append(seed);
        }
        sb.append(",\n  \"vcpus\": [");
        for (int i = 0; i < cpus; i++) {
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"id\": ").append(i)
                    .append(", \"virtual_ns\": ").append(virtualNanos[i]).append(", \"counters\": {");
            int k = 0;
            for (Map.Entry<String, long[]> e : counters.entrySet()) {
                sb.append(k++ == 0 ? "" : ", ").append(str(e.getKey())).append(": ").append(e.getValue()[i]);
            }
            sb.append("}, \"fault_latency_histogram\": ");
            histogramJson(sb, histogram[i]);
            sb.append('}');
        }
        sb.append("\n  ],\n  \"total\": {");
        int k = 0;
        for (String name : counters.keySet()) {
            sb.append(k++ == 0 ? "" : ", ").append(str(name)).append(": ").append(total(name));
        }
        sb.append("},\n  \"fault_latency_histogram\": ");
        long[] sum = new long[VcpuClock.HISTOGRAM_BUCKETS];
        for (int b = 0; b < sum.length; b++) {
            sum[b] = histogramTotal(b);
        }
        histogramJson(sb, sum);
        for (Map.Entry<String, Map<String, Long>> sec : extra.entrySet()) {
            sb.append(",\n  ").append(str(sec.getKey())).append(": {");
            int j = 0;
            for (Map.Entry<String, Long> e : sec.getValue().entrySet()) {
                sb.append(j++ == 0 ? "" : ", ").append(str(e.getKey())).append(": ").append(e.getValue());
            }
            sb.append('}');
        }
        sb.append("\n}\n");
        return sb.toString();
    }

    /** Non-empty buckets as {"lo": 2^b, "hi": 2^(b+1) or null, "count": n}. */
    private static void histogramJson(StringBuilder sb, long[] h) {
        sb.append('[');
        boolean first = true;
        for (int b = 0; b < h.length; b++) {
            if (h[b] == 0) {
                continue;
            }
            sb.append(first ? "" : ", ").append("{\"lo\": ").append(1L << b).append(", \"hi\": ")
                    .append(b == h.length - 1 ? "null" : Long.toString(1L << (b + 1))).append(", \"count\": ")
                    .append(h[b]).append('}');
            first = false;
        }
        sb.append(']');
    }

    /** A JSON string literal (RFC 8259 escaping). */
    static String str(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
