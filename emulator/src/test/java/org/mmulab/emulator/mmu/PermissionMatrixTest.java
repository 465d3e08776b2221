package org.mmulab.emulator.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * kvm-unit-tests x86/access.c in spirit, for 4-level and PAE: combinations of per-level entry flags
 * (P, R/W, U/S, A, D, PS, XD, a reserved bit), CR0.WP, CR4.SMEP/SMAP, EFER.NXE, RFLAGS.AC, CPL, implicit
 * supervisor accesses and access type, each checked against {@link SdmPermissionModel}.
 * The default run samples cases with a printed seed (re-run with -Dmmulab.seed=N); the slow profile
 * enumerates the full matrix: every U/S, R/W, XD combination at every level, times every leaf state
 * (P, A, D, a reserved bit), times every CR0.WP/CR4.SMEP/CR4.SMAP/EFER.NXE/RFLAGS.AC/CPL/implicit
 * configuration and access type, for each page size in both modes.
 */
class PermissionMatrixTest {
    private static final int MAXPHYS = 39;
    private static final long VA = (1L << 30) | (1L << 21) | (3L << 12) | 0x123; // indices 0/1/1/3
    private static final long[] TABLES_4L = {0x100000, 0x101000, 0x102000, 0x103000};
    private static final long PAE_PDPT = 0x100000, PAE_PD = 0x102000, PAE_PT = 0x103000;
    private static final long FRAME_4K = 0x300000, FRAME_2M = 0x400000, FRAME_1G = 0x4000_0000L;

    private final PhysicalMemory mem = new PhysicalMemory(16 << 20);
    private final CpuState s = new CpuState();
    private final Mmu mmu = new Mmu(mem, s, MAXPHYS);

    /** One generated case. */
    record Case(boolean pae, int leafLevel, long[] flags, SdmPermissionModel.Config config) {
    }

    @Test
    void sampledMatrixAgreesWithTheSdmModel() {
        long seed = Long.getLong("mmulab.seed", System.nanoTime());
        System.out.println("PermissionMatrixTest seed=" + seed + " (re-run with -Dmmulab.seed=" + seed + ")");
        Random r = new Random(seed);
        int cases = Integer.getInteger("mmulab.cases", 150_000);
        int faults = 0;
        int paeCases = 0;
        for (int i = 0; i < cases; i++) {
            Case k = randomCase(r);
            paeCases += k.pae() ? 1 : 0;
            if (!check(k, "seed " + seed + " case " + i)) {
                faults++;
            }
        }
        System.out.println("PermissionMatrixTest: " + cases + " cases (" + (cases - paeCases) + " 4-level, " + paeCases
                + " PAE), " + faults + " faulted");
        assertEquals(true, paeCases > cases / 3 && paeCases < cases * 2 / 3, "both modes sampled: " + paeCases);
        // Both outcomes must be well represented, or the generator is not exercising the rules.
        assertEquals(true, faults > cases / 10 && faults < cases * 9 / 10, "fault share " + faults + "/" + cases);
    }

    @Test
    @Tag("slow")
    void fullRightsMatrix() {
        long n = 0;
        for (int pae = 0; pae < 2; pae++) {
            for (int leaf = 1; leaf <= (pae == 1 ? 2 : 3); leaf++) {
                int levels = pae == 1 ? 3 : 4;
                int rightsLevels = levels - leaf + 1 - (pae == 1 ? 1 : 0);
                for (int rights = 0; rights < (1 << (3 * rightsLevels)); rights++) {
                    for (int leafState = 0; leafState < 16; leafState++) {
                        for (int cfg = 0; cfg < 128 * 3; cfg++) {
                            long[] flags = new long[levels];
                            int first = pae == 1 ? 1 : 0;
                            if (pae == 1) {
                                flags[0] = Pte.P;
                            }
                            for (int l = first; l < levels - leaf + 1; l++) {
                                int bits = (rights >>> (3 * (l - first))) & 7;
                                flags[l] = Pte.P | Pte.A | ((bits & 1) != 0 ? Pte.RW : 0)
                                        | ((bits & 2) != 0 ? Pte.US : 0) | ((bits & 4) != 0 ? Pte.XD : 0);
                            }
                            int leafIndex = levels - leaf;
                            if (leaf > 1) {
                                flags[leafIndex] |= Pte.PS;
                            }
                            flags[leafIndex] = withLeafState(flags[leafIndex], leafState);
                            check(new Case(pae == 1, leaf, flags, config(cfg, pae == 1)), "matrix case " + n);
                            n++;
                        }
                    }
                }
            }
        }
        System.out.println("PermissionMatrixTest full matrix: " + n + " cases");
    }

    /**
     * The leaf entry's remaining state bits, every combination: not present, A clear (the walker must
     * set it), D already set, and a reserved bit (the first one above MAXPHYADDR, reserved in every mode).
     */
    private static long withLeafState(long entry, int state) {
        long e = entry;
        if ((state & 1) != 0) {
            e &= ~Pte.P;
        }
        if ((state & 2) != 0) {
            e &= ~Pte.A;
        }
        if ((state & 4) != 0) {
            e |= Pte.D;
        }
        if ((state & 8) != 0) {
            e |= 1L << MAXPHYS;
        }
        return e;
    }

    private static SdmPermissionModel.Config config(int cfg, boolean pae) {
        int b = cfg / 3;
        return new SdmPermissionModel.Config(pae, (b & 1) != 0, (b & 2) != 0, (b & 4) != 0, (b & 8) != 0,
                (b & 16) != 0, (b & 32) != 0, (b & 64) != 0, cfg % 3, MAXPHYS);
    }

    private static Case randomCase(Random r) {
        boolean pae = r.nextBoolean();
        int levels = pae ? 3 : 4;
        int leaf = 1 + r.nextInt(pae ? 2 : 3);
        long[] flags = new long[levels];
        for (int i = 0; i < levels; i++) {
            int level = levels - i;
            long f = 0;
            if (r.nextInt(12) != 0) {
                f |= Pte.P;
            }
            if (pae && i == 0) {
                // PDPTE register: only P is legal; sometimes a reserved low or high bit.
                if (r.nextInt(10) == 0) {
                    long[] bad = {Pte.RW, Pte.US, Pte.A, Pte.D, Pte.PS, 1L << 8, 1L << 50, Pte.XD};
                    f |= bad[r.nextInt(bad.length)];
                }
                flags[i] = f;
                continue;
            }
            f |= r.nextInt(5) != 0 ? Pte.RW : 0;
            f |= r.nextInt(5) != 0 ? Pte.US : 0;
            f |= r.nextBoolean() ? Pte.A : 0;
            f |= r.nextBoolean() ? Pte.D : 0;
            f |= r.nextInt(4) == 0 ? Pte.XD : 0;
            f |= r.nextInt(4) == 0 ? Pte.G : 0;
            if (level == leaf && leaf > 1) {
                f |= Pte.PS;
            }
            if (level == 4 && r.nextInt(20) == 0) {
                f |= Pte.PS; // reserved in a PML4E
            }
            if (level == 1 && r.nextInt(4) == 0) {
                f |= Pte.PAT_LARGE >>> 5; // bit 7 = PAT in a PTE: not reserved
            }
            if (r.nextInt(25) == 0) {
                f |= 1L << (MAXPHYS + r.nextInt(51 - MAXPHYS + 1)); // above MAXPHYADDR
            }
            if (r.nextInt(25) == 0) {
                f |= 1L << (52 + r.nextInt(11)); // 62:52: ignored under 4-level, reserved under PAE
            }
            if (leaf > 1 && level == leaf && r.nextInt(25) == 0) {
                f |= 1L << 13; // reserved in a large-page entry
            }
            flags[i] = f;
        }
        SdmPermissionModel.Config c = new SdmPermissionModel.Config(pae, r.nextBoolean(), r.nextBoolean(),
                r.nextBoolean(), r.nextInt(4) != 0, r.nextBoolean(), r.nextBoolean(), r.nextInt(4) == 0, r.nextInt(3),
                MAXPHYS);
        return new Case(pae, leaf, flags, c);
    }

    /** Installs the case, translates, compares with the model; returns true when it translated. */
    private boolean check(Case k, String label) {
        SdmPermissionModel.Config c = k.config();
        long[] entries = install(k);
        s.cr0 = CpuState.CR0_PE | CpuState.CR0_PG | (c.wp() ? CpuState.CR0_WP : 0);
        s.cr4 = CpuState.CR4_PAE | (c.smep() ? CpuState.CR4_SMEP : 0) | (c.smap() ? CpuState.CR4_SMAP : 0);
        s.efer = (k.pae() ? 0 : CpuState.EFER_LME | CpuState.EFER_LMA) | (c.nxe() ? CpuState.EFER_NXE : 0);
        s.setRflags(c.ac() ? CpuState.AC : 0);
        s.cpl = c.cpl3() ? 3 : 0;
        s.exceptionVector = -1;
        mmu.flushAll();
        SdmPermissionModel.Outcome want = SdmPermissionModel.evaluate(c, entries);
        String what = label + " " + describe(k, entries);
        try {
            mmu.writeCr3(k.pae() ? PAE_PDPT : TABLES_4L[0]);
        } catch (GuestFault f) {
            if (!want.gp()) {
                fail("unexpected #GP at MOV CR3: " + what);
            }
            assertEquals(Vectors.GP, s.exceptionVector, what);
            return false;
        }
        if (want.gp()) {
            fail("expected #GP at MOV CR3: " + what);
        }
        int access = (c.userAccess() ? PfErr.U : 0) | (c.implicit() ? PfErr.IMPLICIT : 0)
                | (c.access() == SdmPermissionModel.WRITE ? PfErr.W : 0)
                | (c.access() == SdmPermissionModel.FETCH ? PfErr.I : 0);
        long pa;
        try {
            pa = mmu.translate(VA, access);
        } catch (GuestFault f) {
            if (!want.pageFault()) {
                fail("unexpected " + Vectors.name(s.exceptionVector) + " err=" + s.exceptionErrorCode + ": " + what);
            }
            assertEquals(Vectors.PF, s.exceptionVector, what);
            assertEquals(want.errorCode(), (int) s.exceptionErrorCode, "error code: " + what);
            assertEquals(VA, s.cr2, what);
            return false;
        }
        if (want.pageFault()) {
            fail("expected #PF err=" + want.errorCode() + " but translated to 0x" + Long.toHexString(pa) + ": " + what);
        }
        long frame = switch (want.leafLevel()) {
            case 1 -> FRAME_4K;
            case 2 -> FRAME_2M;
            default -> FRAME_1G;
        };
        long mask = (1L << (12 + 9 * (want.leafLevel() - 1))) - 1;
        assertEquals(frame | (VA & mask), pa, what);
        // §4.8: A set in every entry used; D set in the leaf only for a write.
        int levels = entries.length;
        for (int i = k.pae() ? 1 : 0; i <= levels - want.leafLevel(); i++) {
            long e = mem.read64(entryAddress(k, i));
            assertEquals(Pte.A, e & Pte.A, "A at index " + i + ": " + what);
            if (i == levels - want.leafLevel()) {
                boolean dirty = (e & Pte.D) != 0;
                boolean wasDirty = (entries[i] & Pte.D) != 0;
                assertEquals(wasDirty || c.access() == SdmPermissionModel.WRITE, dirty, "D: " + what);
            }
        }
        return true;
    }

    private long entryAddress(Case k, int i) {
        if (k.pae()) {
            return switch (i) {
                case 0 -> PAE_PDPT + 8 * ((VA >>> 30) & 3);
                case 1 -> PAE_PD + 8 * ((VA >>> 21) & 511);
                default -> PAE_PT + 8 * ((VA >>> 12) & 511);
            };
        }
        int shift = 39 - 9 * i;
        return TABLES_4L[i] + 8 * ((VA >>> shift) & 511);
    }

    /** Writes the case's entries (with addresses) to RAM; returns the entry values. */
    private long[] install(Case k) {
        int levels = k.flags().length;
        long[] entries = new long[levels];
        if (k.pae()) {
            for (int i = 0; i < 4; i++) {
                mem.write64(PAE_PDPT + 8 * i, 0); // MOV CR3 checks all four PDPTEs
            }
        }
        for (int i = 0; i < levels; i++) {
            int level = levels - i;
            if (level < k.leafLevel()) {
                break; // below the leaf: not part of this walk
            }
            long next;
            if (level == k.leafLevel()) {
                next = level == 1 ? FRAME_4K : level == 2 ? FRAME_2M : FRAME_1G;
            } else if (k.pae()) {
                next = i == 0 ? PAE_PD : PAE_PT;
            } else {
                next = TABLES_4L[i + 1];
            }
            entries[i] = next | k.flags()[i];
            mem.write64(entryAddress(k, i), entries[i]);
        }
        return entries;
    }

    private static String describe(Case k, long[] entries) {
        StringBuilder b = new StringBuilder(k.pae() ? "PAE" : "4-level").append(" leaf=L").append(k.leafLevel());
        for (long e : entries) {
            b.append(String.format(" %016x", e));
        }
        return b.append(' ').append(k.config()).toString();
    }
}
