package org.mmulab.emulator.cpu;

import java.nio.charset.StandardCharsets;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.cpudb.CpuIdentity;
import org.mmulab.emulator.timing.TimingModel;

/**
 * CPUID (SDM Vol. 2A CPUID, Table 3-8; AMD APM Vol. 3 Appendix E) as the preset's part ({@link CpuModel#identity}:
 * {@link SkylakeClientPart} for the default preset) would report it, with
 * every feature bit exactly what the interpreter and MMU implement, and the cache, TLB and topology
 * leaves read from the same {@link CpuModel} (and its {@link TimingModel}) the MMU and the cache model
 * are built from — one source of truth.
 *
 * <ul>
 * <li>0: max basic leaf 18H, "GenuineIntel".</li>
 * <li>1: EAX 000506E3H; EBX CLFLUSH line 8 (64 bytes), addressable logical processor IDs in the package
 *     (next power of two of the vCPU count), initial APIC id = vCPU index.
 *     EDX: FPU(0), PSE(3), TSC(4), PAE(6), CX8(8), PGE(13), CMOV(15), MMX(23), FXSR(24), SSE(25), SSE2(26),
 *     HTT(28).
 *     ECX: SSE3(0), SSSE3(9), CX16(13), PCID(17), SSE4.1(19), SSE4.2(20), MOVBE(22), POPCNT(23),
 *     XSAVE(26), OSXSAVE(27) = CR4.OSXSAVE: with LAHF-SAHF below, the x86-64-v2 level. Not advertised:
 *     CLFSH (CLFLUSH is #UD), PCLMULQDQ, AVX, RDRAND, x2APIC, hypervisor bit.</li>
 * <li>2: 00FEFF01H: one round, FFH "no cache descriptors, use leaf 4", FEH "no TLB descriptors,
 *     use leaf 18H".</li>
 * <li>4: deterministic cache parameters of the modelled L1D, L2 and LLC (sets, ways, 64-byte lines),
 *     each private to one logical processor, as the cache model keeps one hierarchy per vCPU; EAX[31:26]
 *     = addressable core IDs - 1. No L1I level: the cache model has none.</li>
 * <li>6: ARAT only. 7/0: EBX SMEP(7), FPU CS/DS deprecated (13: FXSAVE/FNSTENV store them as 0), SMAP(20) (no BMI1/BMI2: no VEX, F3 0F BC executes as BSF; no ERMS, INVPCID, RDSEED). 0AH: zero
 *     (no architectural performance monitoring).</li>
 * <li>0BH: x2APIC topology: level 0 SMT (1 thread), level 1 core (the vCPU count), EDX = APIC id.</li>
 * <li>0DH: XSAVE for x87 and SSE (XCR0 bits 0-1), 576-byte area; subleaf 1: XSAVEOPT and XSAVEC.</li>
 * <li>18H: one subleaf per modelled TLB array (L1 dTLB 4K/2M/1G, L1 iTLB 4K/2M, STLB 4K/2M/1G):
 *     page sizes, ways, sets, type and level.</li>
 * <li>80000000H: max 80000008H. 80000001H: ECX LAHF-SAHF(0), ABM/LZCNT(5); EDX NX(20), Page1GB(26), LM(29), and
 *     SYSCALL(11) only when CPUID runs in 64-bit mode (Intel). 80000002-4H: brand string.
 *     80000006H: L2 line size, associativity code and size. 80000007H: invariant TSC.
 *     80000008H: physical (CpuModel.maxPhysAddrBits) and 48 linear address bits.</li>
 * <li>AMD presets ({@link CpuIdentity#amd}): "AuthenticAMD", the part's signature and brand, max basic leaf
 *     10H; leaves 2, 4 and 18H are reserved on AMD and return zeros; 80000001H ECX adds TOPOEXT(22);
 *     80000005H/80000006H describe the L1 and L2 TLBs and the L1D, L1I, L2 and L3 of the model in AMD's
 *     format (APM Vol. 3 E.4.4-E.4.5); 80000008H ECX[7:0] = cores - 1; 8000001DH is the cache topology
 *     (leaf 4's format, with the L1I) and 8000001EH the extended APIC id, core and node ids; max extended
 *     leaf 8000001EH; 80000001H EDX adds MMX(23), which AMD repeats from leaf 1. The feature bits are the
 *     same as under Intel presets: what mmulab executes.</li>
 * <li>Any other leaf returns zeros (Intel returns the highest basic leaf's data for leaves above
 *     the maximum; mmulab returns zeros, which software treats the same way).</li>
 * </ul>
 * RDTSC: under {@code --deterministic} the vCPU's virtual cycle count (an invariant TSC at the timing
 * model's core frequency, {@link CpuState#tscSource}); otherwise host monotonic nanoseconds since JVM
 * start scaled to a nominal {@value #TSC_MHZ} MHz.
 */
public final class Cpuid {
    public static final String VENDOR = SkylakeClientPart.VENDOR;
    public static final String BRAND = SkylakeClientPart.BRAND;
    public static final int TSC_MHZ = 2000;

    static final int L1_EDX = 1 | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 13) | (1 << 15) | (1 << 23) | (1 << 24)
            | (1 << 25) | (1 << 26);
    static final int L1_ECX = 1 | (1 << 9) | (1 << 13) | (1 << 17) | (1 << 19) | (1 << 20) | (1 << 22) | (1 << 23);
    static final int L7_EBX = (1 << 7) | (1 << 13) | (1 << 20);
    static final int E1_ECX = 1 | (1 << 5);
    static final int E1_EDX = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 29);
    /** Bits owned by this file's XSAVE support and the topology, apart from the instruction-set bits above. */
    static final int L1_EDX_HTT = 1 << 28, L1_ECX_XSAVE = 1 << 26, L1_ECX_OSXSAVE = 1 << 27, E1_EDX_SYSCALL = 1 << 11;
    /** AMD: leaves 8000001DH and 8000001EH are implemented (CPUID.80000001H:ECX bit 22). */
    static final int E1_ECX_TOPOEXT = 1 << 22;
    /** AMD: CPUID.80000001H:EDX bit 23 repeats leaf 1's MMX bit (APM Vol. 3 E.4.2); reserved on Intel. */
    static final int E1_EDX_AMD_MMX = 1 << 23;
    /** CPUID.1:EDX as leaf 1 reports it: what Linux passes to user space as ELF_HWCAP (AT_HWCAP). */
    public static final int LEAF1_EDX = L1_EDX | L1_EDX_HTT;

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

    /** Smallest power of two >= n. */
    static int pow2(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /**
     * Executes CPUID on the vCPU with state {@code s} and model {@code model}: leaf in EAX, subleaf in
     * ECX; results zero-extended into RAX, RBX, RCX, RDX.
     */
    public static void execute(CpuState s, CpuModel model, long[] r) {
        int[] out = leaf(s, model, (int) r[0], (int) r[1]);
        r[0] = out[0] & 0xffff_ffffL;
        r[3] = out[1] & 0xffff_ffffL;
        r[1] = out[2] & 0xffff_ffffL;
        r[2] = out[3] & 0xffff_ffffL;
    }

    /** EAX, EBX, ECX, EDX of a leaf (slow path, allocates). */
    public static int[] leaf(CpuState s, CpuModel model, int leaf, int sub) {
        int a = 0, b = 0, c = 0, d = 0;
        int cpus = Math.max(1, s.cpuCount);
        CpuIdentity id = model.identity();
        boolean amd = id.amd();
        if (Integer.compareUnsigned(leaf, id.maxBasicLeaf()) > 0 && Integer.compareUnsigned(leaf, 0x80000000) < 0
                || Integer.compareUnsigned(leaf, id.maxExtendedLeaf()) > 0) {
            return new int[4]; // above the maximum: zeros (see the class comment)
        }
        if (amd) {
            int[] l = CpuidCaches.amdLeaf(model, leaf, sub, s.cpuIndex, cpus);
            if (l != null) {
                return l;
            }
        }
        switch (leaf) {
            case 0: {
                int[] v = id == CpuIdentity.SKYLAKE ? VENDOR_REGS : words(id.vendor(), 12);
                a = id.maxBasicLeaf();
                b = v[0];
                d = v[1];
                c = v[2];
                break;
            }
            case 1:
                a = id.signature();
                b = (SkylakeClientPart.CLFLUSH_UNITS << 8) | (Math.min(255, pow2(cpus)) << 16) | (s.cpuIndex << 24);
                c = L1_ECX | L1_ECX_XSAVE | ((s.cr4 & CpuState.CR4_OSXSAVE) != 0 ? L1_ECX_OSXSAVE : 0);
                d = LEAF1_EDX;
                break;
            case 2:
                a = 0x00feff01;
                break;
            case 4: {
                int[] l = CpuidCaches.leaf4(model.timing(), sub, cpus);
                a = l[0];
                b = l[1];
                c = l[2];
                d = l[3];
                break;
            }
            case 6:
                a = 1 << 2; // ARAT
                break;
            case 7:
                if (sub == 0) {
                    b = L7_EBX;
                }
                break;
            case 0xb: {
                int shift = Integer.numberOfTrailingZeros(pow2(cpus));
                if (sub == 0) {
                    a = 0;
                    b = 1;
                    c = (1 << 8);
                } else if (sub == 1) {
                    a = shift;
                    b = cpus;
                    c = (2 << 8) | 1;
                } else {
                    c = sub & 0xff;
                }
                d = s.cpuIndex;
                break;
            }
            case 0xd:
                if (sub == 0) {
                    a = (int) XState.XCR0_SUPPORTED;
                    b = XState.AREA_SIZE; // for the components enabled in XCR0 (both, or x87 alone: same layout)
                    c = XState.AREA_SIZE;
                } else if (sub == 1) {
                    a = 1 | 2; // XSAVEOPT, XSAVEC
                    b = XState.AREA_SIZE;
                }
                break;
            case 0x18: {
                int[] l = CpuidCaches.leaf18(model, sub);
                a = l[0];
                b = l[1];
                c = l[2];
                d = l[3];
                break;
            }
            case 0x80000000:
                a = id.maxExtendedLeaf();
                if (amd) { // AMD repeats the vendor string here
                    int[] v = words(id.vendor(), 12);
                    b = v[0];
                    d = v[1];
                    c = v[2];
                }
                break;
            case 0x80000001:
                c = E1_ECX | (amd ? E1_ECX_TOPOEXT : 0);
                d = (s.longMode64 ? E1_EDX : E1_EDX & ~E1_EDX_SYSCALL) | (amd ? E1_EDX_AMD_MMX : 0);
                break;
            case 0x80000002:
            case 0x80000003:
            case 0x80000004: {
                int i = (leaf - 0x80000002) * 4;
                int[] brand = id == CpuIdentity.SKYLAKE ? BRAND_REGS : words(id.brand(), 48);
                a = brand[i];
                b = brand[i + 1];
                c = brand[i + 2];
                d = brand[i + 3];
                break;
            }
            case 0x80000006:
                c = CpuidCaches.leaf80000006(model.timing());
                break;
            case 0x80000007:
                d = 1 << 8; // invariant TSC
                break;
            case 0x80000008:
                a = model.maxPhysAddrBits() | (SkylakeClientPart.LINEAR_BITS << 8);
                break;
            default:
                break;
        }
        return new int[] {a, b, c, d};
    }
}
