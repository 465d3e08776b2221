package org.mmulab.emulator.mmu.cpudb;

import java.util.Objects;

/**
 * Who the guest's CPUID says the processor is: vendor string, family/model/stepping (leaf 1 EAX, encoded
 * as SDM Vol. 2A CPUID Figure 3-6 and AMD APM Vol. 3 Appendix E.3.2: family above 0FH goes into the
 * extended family field, model above 0FH into the extended model field), brand string and the highest
 * basic and extended leaves. The feature bits stay what mmulab executes, whatever the part (see
 * {@code org.mmulab.emulator.cpu.Cpuid}); the cache and TLB leaves describe the preset's modelled
 * hierarchy, in the vendor's own leaves ({@link #amd}: 80000005H, 80000006H, 8000001DH; Intel: 4, 18H).
 *
 * <p>Signatures and brand strings of the modelled parts: Intel's Skylake specification update (506E3H,
 * "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz"); Sapphire Rapids 8480+ family 6 model 8FH stepping 8
 * (Intel's 4th-gen Xeon specification update, E-5 stepping); AMD EPYC 7763 family 19H model 01H stepping
 * 1, EPYC 9654 family 19H model 11H stepping 1, EPYC 9755 family 1AH model 02H stepping 1 (AMD's
 * revision guides for families 19H and 1AH; the brand strings as those parts report them).
 *
 * @param amd true for AMD parts: leaves 2, 4 and 18H are reserved (zero), 80000005H/80000006H carry the AMD
 *            cache and TLB descriptions, 8000001DH/8000001EH the cache and core topology (TOPOEXT)
 */
public record CpuIdentity(String vendor, int family, int model, int stepping, String brand, int maxBasicLeaf,
        int maxExtendedLeaf, boolean amd) {

    public CpuIdentity {
        Objects.requireNonNull(vendor);
        Objects.requireNonNull(brand);
        if (vendor.length() != 12 || brand.length() > 47 || family < 0 || family > 0xff + 0xf || model < 0 || model > 0xff
                || stepping < 0 || stepping > 0xf) {
            throw new IllegalArgumentException("CPU identity: vendor of 12 characters, brand up to 47, family 0..10EH, "
                    + "model 0..FFH, stepping 0..FH");
        }
    }

    public static final CpuIdentity SKYLAKE = new CpuIdentity("GenuineIntel", 6, 0x5e, 3,
            "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz", 0x18, 0x80000008, false);
    public static final CpuIdentity SAPPHIRE_RAPIDS = new CpuIdentity("GenuineIntel", 6, 0x8f, 8,
            "Intel(R) Xeon(R) Platinum 8480+", 0x18, 0x80000008, false);
    public static final CpuIdentity ZEN3 = new CpuIdentity("AuthenticAMD", 0x19, 0x01, 1,
            "AMD EPYC 7763 64-Core Processor", 0x10, 0x8000001e, true);
    public static final CpuIdentity ZEN4 = new CpuIdentity("AuthenticAMD", 0x19, 0x11, 1,
            "AMD EPYC 9654 96-Core Processor", 0x10, 0x8000001e, true);
    public static final CpuIdentity ZEN5 = new CpuIdentity("AuthenticAMD", 0x1a, 0x02, 1,
            "AMD EPYC 9755 128-Core Processor", 0x10, 0x8000001e, true);

    /** CPUID.1:EAX: stepping, model, family, extended model, extended family. */
    public int signature() {
        int baseFamily = Math.min(family, 0xf);
        int extFamily = family >= 0xf ? family - 0xf : 0;
        boolean extModel = family == 6 || family >= 0xf;
        int m = extModel ? model : model & 0xf;
        return stepping | ((m & 0xf) << 4) | (baseFamily << 8) | ((m >>> 4) << 16) | (extFamily << 20);
    }
}
