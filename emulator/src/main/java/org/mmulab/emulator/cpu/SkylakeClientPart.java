package org.mmulab.emulator.cpu;

/**
 * The identity mmulab's CPUID reports: an Intel Core i7-6700K (Skylake-S, family 6, model 5EH,
 * stepping 3 = R0), the part whose TLB and cache figures {@code CpuModel.SKYLAKE} and
 * {@code TimingModel.SKYLAKE} follow and whose 4.0 GHz base clock is the timing model's frequency.
 * Sources: Intel "6th Generation Intel Core Processor Family Specification Update" (CPUID signature
 * 506E3H for the S-platform R0 stepping), Intel ARK (brand string "Intel(R) Core(TM) i7-6700K CPU @
 * 4.00GHz"), SDM Vol. 2A CPUID. One data file per part, as Bochs' {@code cpu/cpudb/} keeps them.
 *
 * <p>What is deliberately not the real part's: the feature bits (only what mmulab executes, see
 * {@link Cpuid}), the cache and TLB leaves (read from the configured CpuModel, so they describe the
 * modelled hierarchy; leaf 2 therefore returns the FFH/FEH descriptors that send software to leaves
 * 4 and 18H, as later Intel parts do, and the maximum basic leaf is 18H), the topology (one thread
 * per core, as many cores as vCPUs) and the power/perfmon leaves 6 and 0AH (no turbo, no HWP, no
 * architectural PMU: RDPMC is #GP at CPL 3 anyway).
 */
final class SkylakeClientPart {
    static final String VENDOR = "GenuineIntel";
    static final String BRAND = "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz";
    static final int FAMILY = 6, MODEL = 0x5e, STEPPING = 3;
    /** CPUID.1:EAX: stepping 3:0, model 7:4, family 11:8, extended model 19:16. */
    static final int SIGNATURE = STEPPING | ((MODEL & 0xf) << 4) | (FAMILY << 8) | ((MODEL >>> 4) << 16);
    static final int MAX_BASIC_LEAF = 0x18, MAX_EXTENDED_LEAF = 0x80000008;
    /** Linear-address width (no LA57). */
    static final int LINEAR_BITS = 48;
    /** CLFLUSH line size in 8-byte units (CPUID.1:EBX[15:8]); the cache model's 64-byte lines. */
    static final int CLFLUSH_UNITS = 8;

    private SkylakeClientPart() {
    }
}
