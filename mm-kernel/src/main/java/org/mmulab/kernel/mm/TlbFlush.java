package org.mmulab.kernel.mm;

import java.util.concurrent.ConcurrentHashMap;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Vcpu;

/**
 * arch/x86/mm/tlb.c (Linux 6.x): address-space switches with PCIDs and the flush decisions of
 * {@code flush_tlb_mm_range}.
 *
 * <p>Each vCPU has {@code cpu_tlbstate}: the loaded mm and ASID, and for each of
 * {@link #TLB_NR_DYN_ASIDS} dynamic ASIDs the (ctx_id, tlb_gen) of the mm whose translations it may
 * hold. An mm carries a never-reused ctx_id and a tlb_gen that every flush request increments.
 * <ul>
 * <li>{@link #switchMm} ({@code switch_mm_irqs_off} + {@code choose_new_asid}): an ASID already
 *     holding this ctx_id is reused — with the CR3 no-flush bit (bit 63) if its tlb_gen is current,
 *     flushing otherwise; else the next ASID round-robin, flushed. CR3 = pgd | kern_pcid(asid) with
 *     kern_pcid(asid) = asid + 1 (PCID 0 stays with the boot page tables).</li>
 * <li>{@link #flushTlbMmRange} ({@code flush_tlb_mm_range} + {@code flush_tlb_func}): bump tlb_gen;
 *     each vCPU in mm_cpumask that has the mm loaded and is behind flushes — INVLPG per page when the
 *     range is at most {@link #TLB_SINGLE_PAGE_FLUSH_CEILING} pages and it was exactly one generation
 *     behind, otherwise a full flush of its ASID by a CR3 reload without the no-flush bit
 *     ({@code flush_tlb_local}). A vCPU that has switched away is not touched: its ASID slot's
 *     tlb_gen stays behind, so the next switch back flushes.</li>
 * </ul>
 * Without CR4.PCIDE (PAE and any CPU with PCID off) every switch uses ASID 0 and flushes, as
 * {@code choose_new_asid} does without X86_FEATURE_PCID. Under PAE every CR3 load also reloads the
 * PDPTE registers, which is what PAE's {@code pud_populate} / {@code pmd_free_tlb} rely on.
 */
public final class TlbFlush {
    /** TLB_NR_DYN_ASIDS. */
    public static final int TLB_NR_DYN_ASIDS = 6;
    /** tlb_single_page_flush_ceiling: above this many pages a ranged flush becomes a full one. */
    public static final int TLB_SINGLE_PAGE_FLUSH_CEILING = MmStruct.TLB_SINGLE_PAGE_FLUSH_CEILING;
    /** TLB_FLUSH_ALL as an end address. */
    public static final long TLB_FLUSH_ALL = -1L;
    public static final long CR3_NOFLUSH = 1L << 63;

    /** struct tlb_state for one vCPU. */
    public static final class CpuTlbState {
        /** The mm whose PGD CR3 holds; null: init_mm (the boot page tables, or after {@link TlbFlush#leaveMm}). */
        MmStruct loadedMm;
        int loadedMmAsid;
        int nextAsid = 1;
        final long[] ctxId = new long[TLB_NR_DYN_ASIDS];
        final long[] tlbGen = new long[TLB_NR_DYN_ASIDS];

        public MmStruct loadedMm() {
            return loadedMm;
        }

        public int loadedMmAsid() {
            return loadedMmAsid;
        }

        /** The ctx_id ASID {@code asid} holds (0: none yet). */
        public long ctxId(int asid) {
            return ctxId[asid];
        }

        /** The tlb_gen ASID {@code asid}'s TLB contents are current with. */
        public long tlbGen(int asid) {
            return tlbGen[asid];
        }
    }

    private final Memory memory;
    private final ConcurrentHashMap<Vcpu, CpuTlbState> states = new ConcurrentHashMap<>();

    TlbFlush(Memory memory) {
        this.memory = memory;
    }

    /** cpu_tlbstate of {@code cpu}. */
    public CpuTlbState state(Vcpu cpu) {
        return states.computeIfAbsent(cpu, c -> new CpuTlbState());
    }

    private static boolean pcid(Vcpu cpu) {
        return (cpu.state.cr4 & CpuState.CR4_PCIDE) != 0;
    }

    /** kern_pcid(asid). */
    public static int kernPcid(int asid) {
        return asid + 1;
    }

    /** build_cr3. */
    static long buildCr3(MmStruct mm, int asid, boolean pcid) {
        return pcid ? mm.pgdPhys() | kernPcid(asid) : mm.pgdPhys();
    }

    /**
     * switch_mm_irqs_off(prev, next): loads {@code next} on {@code cpu}. Returns true when the load
     * flushed the ASID's TLB entries, false when CR3 was written with the no-flush bit.
     */
    public boolean switchMm(Vcpu cpu, MmStruct next) {
        CpuTlbState st = state(cpu);
        boolean pcid = pcid(cpu);
        long nextGen = next.tlbGen.get();
        int asid;
        boolean needFlush;
        if (!pcid) {
            asid = 0;
            needFlush = true;
        } else {
            // choose_new_asid
            asid = -1;
            needFlush = true;
            for (int a = 0; a < TLB_NR_DYN_ASIDS; a++) {
                if (st.ctxId[a] == next.ctxId) {
                    asid = a;
                    needFlush = st.tlbGen[a] < nextGen;
                    break;
                }
            }
            if (asid < 0) {
                asid = st.nextAsid++;
                if (asid >= TLB_NR_DYN_ASIDS) {
                    asid = 0;
                    st.nextAsid = 1;
                }
            }
        }
        long cr3 = buildCr3(next, asid, pcid);
        if (needFlush) {
            st.ctxId[asid] = next.ctxId;
            st.tlbGen[asid] = nextGen;
            memory.stats.switchMmFlush.incrementAndGet();
            cpu.mmu().writeCr3(cr3);
        } else {
            memory.stats.switchMmNoFlush.incrementAndGet();
            cpu.mmu().writeCr3(cr3 | CR3_NOFLUSH);
        }
        st.loadedMm = next;
        st.loadedMmAsid = asid;
        return needFlush;
    }

    /**
     * leave_mm / switch_mm_irqs_off(NULL, &init_mm): {@code cpu} stops using its loaded mm and runs on
     * init_mm, whose PGD ({@link Memory#swapperPgdPhys}) maps no user address. CR3 is written without the
     * no-flush bit (PCID 0 under PCIDE), which also reloads the PAE PDPTE registers from that empty
     * table, and the CPU leaves the old mm's mm_cpumask. A no-op when init_mm is already loaded.
     */
    public void leaveMm(Vcpu cpu) {
        CpuTlbState st = state(cpu);
        MmStruct prev = st.loadedMm;
        if (prev == null) {
            return;
        }
        cpu.mmu().writeCr3(memory.swapperPgdPhys());
        st.loadedMm = null;
        st.loadedMmAsid = 0;
        prev.cpus.remove(cpu);
        memory.stats.switchMmFlush.incrementAndGet();
    }

    /**
     * The mm is going away (exit_mmap, before any of its page tables is freed): {@code cpu} must not be
     * able to reach them any more. If it has the mm loaded it leaves it ({@link #leaveMm}); every ASID
     * slot that still holds the mm's ctx_id is emptied, and under PCIDE its PCID's entries are
     * invalidated (INVPCID single-context): TLB and paging-structure-cache entries tagged with an
     * inactive PCID are unusable, but they would still name the freed tables until the ASID is reused.
     */
    public void forgetMm(Vcpu cpu, MmStruct mm) {
        CpuTlbState st = state(cpu);
        if (st.loadedMm == mm) {
            leaveMm(cpu);
        }
        for (int a = 0; a < TLB_NR_DYN_ASIDS; a++) {
            if (st.ctxId[a] == mm.ctxId) {
                st.ctxId[a] = 0;
                st.tlbGen[a] = 0;
                if (pcid(cpu)) {
                    cpu.mmu().invpcid(1, kernPcid(a), 0);
                }
            }
        }
        mm.cpus.remove(cpu);
    }

    /**
     * flush_tlb_mm_range(mm, start, end): {@code end == TLB_FLUSH_ALL} (or a range above the ceiling)
     * is a full flush.
     */
    public void flushTlbMmRange(MmStruct mm, long start, long end) {
        if (end == TLB_FLUSH_ALL || Long.compareUnsigned((end - start) >>> 12, TLB_SINGLE_PAGE_FLUSH_CEILING) > 0) {
            start = 0;
            end = TLB_FLUSH_ALL;
        }
        long newGen = mm.tlbGen.incrementAndGet(); // inc_mm_tlb_gen
        // native_flush_tlb_multi: every other vCPU in mm_cpumask gets an IPI and the sender waits for
        // its acknowledgement; the local flush is a function call. Charged to both sides.
        org.mmulab.emulator.timing.VcpuClock self = memory.frames().charge().clock();
        boolean remote = false;
        for (Vcpu cpu : mm.cpus) {
            if (self != null && cpu.clock() != self) {
                self.ipiSent();
                cpu.clock().ipiReceived();
                remote = true;
            }
            flushTlbFunc(cpu, mm, start, end, newGen);
        }
        if (remote) {
            self.shootdown();
        }
    }

    /** flush_tlb_func on one vCPU (the IPI handler, or the local call). */
    private void flushTlbFunc(Vcpu cpu, MmStruct mm, long start, long end, long newGen) {
        CpuTlbState st = state(cpu);
        if (st.loadedMm != mm) {
            return; // switched away: its ASID slot stays behind and the next switch flushes
        }
        int asid = st.loadedMmAsid;
        long local = st.tlbGen[asid];
        long mmGen = mm.tlbGen.get();
        if (local == mmGen || newGen <= local) {
            return;
        }
        if (end != TLB_FLUSH_ALL && newGen == local + 1 && newGen == mmGen) {
            for (long a = start; a != end; a += 4096) {
                cpu.mmu().invlpg(a); // flush_tlb_one_user
            }
            memory.stats.tlbPageFlushes.addAndGet((end - start) >>> 12);
        } else {
            memory.stats.tlbFullFlushes.incrementAndGet();
            cpu.mmu().writeCr3(cpu.state.cr3); // flush_tlb_local: CR3 reload without the no-flush bit
        }
        st.tlbGen[asid] = mmGen;
    }
}
