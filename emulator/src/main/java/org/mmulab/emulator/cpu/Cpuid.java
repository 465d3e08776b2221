package org.mmulab.emulator.cpu;

import java.nio.charset.StandardCharsets;

/**
 * CPUID of the mmulab virtual processor (SDM Vol. 2A CPUID). It advertises exactly what the
 * interpreter and MMU implement, nothing more:
 *
 * <ul>
 * <li>Leaf 0: max basic leaf 7, vendor string {@value #VENDOR} (12 bytes; neither Intel nor AMD, so
 *     software assumes no vendor-specific behaviour).</li>
 * <li>Leaf 1: family 6, model 0x5E, stepping 3 (EAX 0x000506E3: the Skylake-client-like TLB preset of
 *     the MMU); EBX: CLFLUSH line size 8 (64 bytes), 1 logical processor, APIC id 0.
 *     EDX: PSE(3), TSC(4), PAE(6), CX8(8), PGE(13), CMOV(15), FXSR(24), SSE(25), SSE2(26).
 *     ECX: SSE3(0), SSSE3(9), CX16(13), PCID(17), SSE4.1(19), SSE4.2(20), MOVBE(22), POPCNT(23): with
 *     LAHF-SAHF below, the x86-64-v2 level. Not advertised: FPU/x87, MMX, CLFSH (CLFLUSH is #UD),
 *     PCLMULQDQ, XSAVE, AVX, hypervisor bit.</li>
 * <li>Leaf 7 subleaf 0: EBX SMEP(7), SMAP(20). No BMI1/BMI2 (no VEX; F3 0F BC executes as BSF),
 *     no ERMS, no INVPCID yet.</li>
 * <li>0x80000000: max extended leaf 0x80000008. 0x80000001: ECX LAHF-SAHF in 64-bit mode (0),
 *     ABM/LZCNT (5); EDX SYSCALL(11), NX(20), Page1GB(26), LM(29). No RDTSCP.</li>
 * <li>0x80000002..4: brand string {@value #BRAND}.</li>
 * <li>0x80000008: EAX = 39 physical / 48 linear address bits (0x3027).</li>
 * <li>Any other leaf returns zeros.</li>
 * </ul>
 * RDTSC: under {@code --deterministic} the vCPU's virtual cycle count (an invariant TSC at the timing
 * model's core frequency, {@link CpuState#tscSource}); otherwise host monotonic nanoseconds since JVM
 * start scaled to a nominal {@value #TSC_MHZ} MHz.
 */
public final class Cpuid {
    public static final String VENDOR = "mmulabVirtCP";
    public static final String BRAND = "mmulab virtual x86-64 processor";
    public static final int TSC_MHZ = 2000;

    static final int L1_EDX = (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 13) | (1 << 15) | (1 << 24) | (1 << 25)
            | (1 << 26);
    static final int L1_ECX = 1 | (1 << 9) | (1 << 13) | (1 << 17) | (1 << 19) | (1 << 20) | (1 << 22) | (1 << 23);
    static final int L7_EBX = (1 << 7) | (1 << 20);
    static final int E1_ECX = 1 | (1 << 5);
    static final int E1_EDX = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 29);

    private static final int[] VENDOR_REGS = words(VENDOR, 12);
    private static final int[] BRAND_REGS = words(BRAND, 48);

    private Cpuid() {
    }

    private static int[] words(String str, int len) {
        byte[] b = new byte[len];
        byte[] src = str.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(src, 0, b, 0, Math.min(src.length, len - 1 > 12 ? len - 1 : len));
        int[] w = new int[len / 4];
        for (int i = 0; i < w.length; i++) {
            w[i] = (b[4 * i] & 0xff) | (b[4 * i + 1] & 0xff) << 8 | (b[4 * i + 2] & 0xff) << 16 | (b[4 * i + 3] & 0xff) << 24;
        }
        return w;
    }

    /** RDTSC: the vCPU's {@link CpuState#tscSource} when set (virtual time), else host time since {@code base}. */
    static long tsc(CpuState s, long base) {
        java.util.function.LongSupplier src = s.tscSource;
        return src != null ? src.getAsLong() : (System.nanoTime() - base) * TSC_MHZ / 1000;
    }

    /** Executes CPUID: leaf in EAX, subleaf in ECX; results zero-extended into RAX, RBX, RCX, RDX. */
    static void execute(long[] r) {
        int leaf = (int) r[0];
        int sub = (int) r[1];
        int a = 0, b = 0, c = 0, d = 0;
        switch (leaf) {
            case 0:
                a = 7;
                b = VENDOR_REGS[0];
                d = VENDOR_REGS[1];
                c = VENDOR_REGS[2];
                break;
            case 1:
                a = 0x000506e3;
                b = 0x00000800 | (1 << 16);
                c = L1_ECX;
                d = L1_EDX;
                break;
            case 7:
                if (sub == 0) {
                    b = L7_EBX;
                }
                break;
            case 0x80000000:
                a = 0x80000008;
                break;
            case 0x80000001:
                c = E1_ECX;
                d = E1_EDX;
                break;
            case 0x80000002:
            case 0x80000003:
            case 0x80000004: {
                int i = (leaf - 0x80000002) * 4;
                a = BRAND_REGS[i];
                b = BRAND_REGS[i + 1];
                c = BRAND_REGS[i + 2];
                d = BRAND_REGS[i + 3];
                break;
            }
            case 0x80000008:
                a = 39 | (48 << 8);
                break;
            default:
                break;
        }
        r[0] = a & 0xffff_ffffL;
        r[3] = b & 0xffff_ffffL;
        r[1] = c & 0xffff_ffffL;
        r[2] = d & 0xffff_ffffL;
    }
}
