package org.mmulab.emulator.mmu.cpudb;

import java.util.Locale;

import org.mmulab.emulator.mmu.CpuModel;

/**
 * The guest's /proc/cpuinfo entry for one vCPU, following the preset as CPUID does ({@link CpuIdentity}):
 * the fields and their order as Linux 6.x prints them (arch/x86/kernel/cpu/proc.c, show_cpuinfo), from the
 * part's identity and the modelled hierarchy. "cache size" is what Linux derives from CPUID: on AMD the L2
 * (arch/x86/kernel/cpu/common.c, cpu_detect_cache_sizes: 80000006H ECX[31:16]), on Intel the last level
 * (cacheinfo.c, init_intel_cacheinfo: the L3 from leaf 4) — here the modelled L2 and the modelled LLC share,
 * which is what the guest's CPUID leaves describe. "cpu MHz" is the preset's nominal clock. The flags are
 * what mmulab executes, the same under every preset (as CPUID's feature bits are).
 */
public final class ProcCpuinfo {
    private ProcCpuinfo() {
    }

    /** The feature flags, as Linux names them, of what the interpreter executes. */
    static final String FLAGS = "fpu tsc cx8 cmov mmx fxsr sse sse2 syscall nx lm pni ssse3 sse4_1 sse4_2 popcnt";

    /** The block for vCPU {@code processor} of {@code cpus}, ending with an empty line. */
    public static String entry(CpuModel model, int processor, int cpus) {
        CpuIdentity id = model.identity();
        int cacheKb = (id.amd() ? model.timing().l2().sizeBytes() : model.timing().llc().sizeBytes()) >> 10;
        StringBuilder b = new StringBuilder();
        field(b, "processor", "" + processor);
        field(b, "vendor_id", id.vendor());
        field(b, "cpu family", "" + id.family());
        field(b, "model", "" + id.model());
        field(b, "model name", id.brand().trim());
        field(b, "stepping", "" + id.stepping());
        field(b, "cpu MHz", String.format(Locale.ROOT, "%.3f", model.timing().frequencyHz() / 1e6));
        field(b, "cache size", cacheKb + " KB");
        field(b, "physical id", "0");
        field(b, "siblings", "" + cpus);
        field(b, "core id", "" + processor);
        field(b, "cpu cores", "" + cpus);
        field(b, "apicid", "" + processor);
        field(b, "fpu", "yes");
        field(b, "flags", FLAGS);
        field(b, "clflush size", "64");
        field(b, "cache_alignment", "64");
        field(b, "address sizes", model.maxPhysAddrBits() + " bits physical, 48 bits virtual");
        return b.append('\n').toString();
    }

    /** Linux's layout: the name padded with tabs to 16 columns, ": ", the value. */
    private static void field(StringBuilder b, String name, String value) {
        b.append(name).append(name.length() < 8 ? "\t\t: " : "\t: ").append(value).append('\n');
    }
}
