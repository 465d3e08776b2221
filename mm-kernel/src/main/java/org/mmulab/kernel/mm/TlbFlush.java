package org.mmulab.kernel.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.machine.YieldKind;

/**
 * arch/x86/mm/tlb.c (Linux 6.x): address-space switches with PCIDs, lazy TLB mode, and TLB shootdown
 * by IPI ({@code flush_tlb_mm_range} → {@code native_flush_tlb_multi} → {@code flush_tlb_func}).
 *
 * <p>The rule SMP imposes: a vCPU's TLB, paging-structure caches, CR3 and {@code cpu_tlbstate} belong to
 * that vCPU's thread. Everything here that touches them ({@link #switchMm}, {@link #enterLazyTlb},
 * {@link #leaveMm}, {@link #forgetMm} and {@code flush_tlb_func}) runs on the owning vCPU's thread: other
 * vCPUs are reached only by an IPI ({@link Machine#sendIpis}), whose function runs on the target's thread
 * while the sender waits for the acknowledgement. The only field another thread reads is
 * {@code is_lazy} (cpu_tlbstate_shared, read by senders choosing whom to interrupt).
 *
 * <p>Each vCPU has {@code cpu_tlbstate}: the loaded mm and ASID, and for each of
 * {@link #TLB_NR_DYN_ASIDS} dynamic ASIDs the (ctx_id, tlb_gen) of the mm whose translations it may
 * hold. An mm carries a never-reused ctx_id and a tlb_gen that every flush request increments.
 * <ul>
 * <li>{@link #switchMm} ({@code switch_mm_irqs_off} + {@code choose_new_asid}): to a different mm: join
 *     the new mm's mm_cpumask and only then read its tlb_gen (so a concurrent flush either interrupts this
 *     vCPU or is seen in tlb_gen), reuse an ASID already holding the ctx_id — with the CR3 no-flush bit
 *     (bit 63) if its tlb_gen is current — else take the next ASID round-robin and flush it. CR3 = pgd |
 *     kern_pcid(asid), kern_pcid(asid) = asid + 1 (PCID 0 stays with init_mm). Without PCIDE the vCPU
 *     leaves the old mm's mask only after that CR3 write flushed it ({@link #leaveCpumask}). To the same
 *     mm: nothing, unless the vCPU was lazy and a flush was skipped meanwhile.</li>
 * <li>mm_cpumask ({@code MmStruct.cpus}) holds every vCPU that may cache anything of the mm: under
 *     PCIDE a vCPU that switched away keeps the mm's entries tagged with its ASID, so it stays in the
 *     mask until a flush IPI reaches it, and then drops them and leaves (Linux 6.x trims the mask the
 *     same lazy way, TLB_REMOTE_WRONG_CPU). That is what lets {@code --check} demand that no frame is
 *     freed while any vCPU can reach it, inactive PCIDs included.</li>
 * <li>{@link #enterLazyTlb}: the vCPU runs no task of the mm (idle, or its task exited) but keeps it in
 *     CR3 and stays in mm_cpumask; flushes that free nothing skip it, a flush that frees page tables or
 *     pages reaches it and its {@code flush_tlb_func} switches it to init_mm.</li>
 * <li>{@link #flushTlbMmRange}: bump tlb_gen; IPI every vCPU in mm_cpumask (the lazy ones only when
 *     something is about to be freed: {@code info->freed_tables}, and in mmulab freed pages too, so no
 *     frame is ever freed while any TLB can reach it); the sender's own flush is a local call. Each
 *     target's flush_tlb_func: INVLPG per page when the range is at most
 *     {@link #TLB_SINGLE_PAGE_FLUSH_CEILING} pages and it was exactly one generation behind, else a
 *     full flush of its ASID by a CR3 reload without the no-flush bit ({@code flush_tlb_local}).</li>
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

    /** struct tlb_state (+ tlb_state_shared's is_lazy) for one vCPU. */
    public static final class CpuTlbState {
        /** The mm whose PGD CR3 holds; null: init_mm (the boot page tables, or after {@link TlbFlush#leaveMm}). */
        MmStruct loadedMm;
        int loadedMmAsid;
        int nextAsid = 1;
        final long[] ctxId = new long[TLB_NR_DYN_ASIDS];
        final long[] tlbGen = new long[TLB_NR_DYN_ASIDS];
        /** cpu_tlbstate_shared.is_lazy: written by the owner, read by flush senders. */
        volatile boolean isLazy;

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

        public boolean isLazy() {
            return isLazy;
        }
    }

    private final Memory memory;
    private final ConcurrentHashMap<Vcpu, CpuTlbState> states = new ConcurrentHashMap<>();
    /**
     * Test hook: told (vCPU, thread) each time flush_tlb_func or an exit's forget runs for a vCPU, to
     * prove it ran on that vCPU's own thread. Null: none.
     */
    private volatile java.util.function.BiConsumer<Vcpu, Thread> flushFuncObserver;

    TlbFlush(Memory memory) {
        this.memory = memory;
    }

    public void setFlushFuncObserver(java.util.function.BiConsumer<Vcpu, Thread> o) {
        flushFuncObserver = o;
    }

    /**
     * Test hook: told (vCPU, mm) on the vCPU's own thread just before it leaves the mm's mm_cpumask — the
     * last moment a flush sender still interrupts it — to check what it can still reach then. Null: none.
     */
    private volatile java.util.function.BiConsumer<Vcpu, MmStruct> cpumaskLeaveObserver;

    void setCpumaskLeaveObserver(java.util.function.BiConsumer<Vcpu, MmStruct> o) {
        cpumaskLeaveObserver = o;
    }

    /** cpu_tlbstate of {@code cpu}: only its own thread may change it (tests read it when the machine is still). */
    public CpuTlbState state(Vcpu cpu) {
        CpuTlbState st = states.get(cpu);
        if (st == null) {
            st = states.computeIfAbsent(cpu, c -> new CpuTlbState());
            if (MmCheck.enabled) {
                memory.check.watchFreesOnce(cpu.machine()); // --check: the first vCPU seen names the machine
            }
        }
        return st;
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
     * With checks on: {@code cpu}'s TLB state is being changed by its own thread, or by a thread that is
     * no vCPU while {@code cpu} runs nothing (setting up before {@code runAll}, a test, a stopped machine).
     */
    private static void assertOwner(Vcpu cpu) {
        if (LockDep.on()) {
            Vcpu self = cpu.machine().currentVcpu();
            if (self != null && self != cpu) {
                throw new IllegalStateException("vCPU " + self.id() + " touches vCPU " + cpu.id()
                        + "'s TLB state directly: that takes an IPI");
            }
        }
    }

    /**
     * switch_mm_irqs_off(prev, next) on {@code cpu} (its own thread). Returns true when the load flushed
     * the ASID's TLB entries, false when CR3 was written with the no-flush bit or not at all.
     */
    public boolean switchMm(Vcpu cpu, MmStruct next) {
        assertOwner(cpu);
        CpuTlbState st = state(cpu);
        MmStruct prev = st.loadedMm;
        boolean wasLazy = st.isLazy;
        st.isLazy = false;
        boolean pcid = pcid(cpu);
        int asid;
        boolean needFlush;
        if (prev == next) {
            if (!wasLazy) {
                return false; // another thread of the same process: nothing to do
            }
            // Lazy meanwhile: flushes that freed nothing skipped this vCPU; catch up if behind.
            long nextGen = next.tlbGen.get();
            if (st.tlbGen[st.loadedMmAsid] == nextGen) {
                return false;
            }
            asid = st.loadedMmAsid;
            needFlush = true;
        } else {
            next.cpus.addIfAbsent(cpu); // start receiving IPIs, then read tlb_gen
            long nextGen = next.tlbGen.get();
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
        }
        long cr3 = buildCr3(next, asid, pcid);
        if (needFlush) {
            st.ctxId[asid] = next.ctxId;
            st.tlbGen[asid] = next.tlbGen.get();
            memory.stats.switchMmFlush.incrementAndGet();
            cpu.mmu().writeCr3(cr3);
        } else {
            memory.stats.switchMmNoFlush.incrementAndGet();
            cpu.mmu().writeCr3(cr3 | CR3_NOFLUSH);
        }
        st.loadedMm = next;
        st.loadedMmAsid = asid;
        if (prev != null && prev != next && !pcid) {
            // Stop flush IPIs for prev only now that the CR3 write above flushed every non-global entry
            // (and under PAE reloaded the PDPTE registers): until then this vCPU still caches prev's
            // translations, and a sender that no longer saw it in prev's mask would free frames it can
            // reach (Linux 4.4's switch_mm: load_cr3, then "stop flush ipis for the previous mm"). Under
            // PCIDE prev's entries stay tagged with its ASID and the vCPU stays in prev's mm_cpumask until
            // a flush IPI trims it (flush_tlb_func's wrong-CPU case).
            leaveCpumask(cpu, prev);
        }
        return needFlush;
    }

    /**
     * {@code cpu} (its own thread) leaves {@code mm}'s mm_cpumask: flush senders stop interrupting it, so
     * it must cache nothing of mm any more — its CR3 no longer holds mm's PGD (which, without PCIDE, also
     * means the CR3 write flushed mm's TLB, paging-structure-cache and fast-path entries, and under PAE
     * reloaded the PDPTE registers). With checks on (tests, {@code --check}) a vCPU leaving while CR3 still
     * holds mm's PGD is reported to {@link MmCheck}: every frame freed after the next flush could still be
     * reached from it.
     */
    private void leaveCpumask(Vcpu cpu, MmStruct mm) {
        if (LockDep.on() && (cpu.state.cr3 & ~0xfffL) == mm.pgdPhys()) {
            memory.check.report("vCPU " + cpu.id() + " leaves the mm_cpumask of " + describeMm(mm)
                    + " while its CR3 0x" + Long.toHexString(cpu.state.cr3) + " still holds that mm's PGD");
        }
        java.util.function.BiConsumer<Vcpu, MmStruct> o = cpumaskLeaveObserver;
        if (o != null) {
            o.accept(cpu, mm);
        }
        mm.cpus.remove(cpu);
    }

    /**
     * enter_lazy_tlb: {@code cpu} (its own thread) stops running tasks of its loaded mm but keeps CR3 and
     * its place in mm_cpumask; a no-op on init_mm.
     */
    public void enterLazyTlb(Vcpu cpu) {
        assertOwner(cpu);
        CpuTlbState st = state(cpu);
        if (st.loadedMm != null) {
            st.isLazy = true;
        }
    }

    /**
     * leave_mm / switch_mm_irqs_off(NULL, &init_mm) on {@code cpu} (its own thread): it stops using its
     * loaded mm and runs on init_mm, whose PGD ({@link Memory#swapperPgdPhys}) maps no user address. CR3
     * is written without the no-flush bit (PCID 0 under PCIDE), which also reloads the PAE PDPTE
     * registers from that empty table. Without PCIDE that flushed everything and the CPU leaves the old
     * mm's mm_cpumask; under PCIDE the old mm's entries stay tagged with its ASID, so it stays there.
     */
    public void leaveMm(Vcpu cpu) {
        assertOwner(cpu);
        CpuTlbState st = state(cpu);
        st.isLazy = false;
        MmStruct prev = st.loadedMm;
        if (prev == null) {
            return;
        }
        cpu.mmu().writeCr3(memory.swapperPgdPhys());
        st.loadedMm = null;
        st.loadedMmAsid = 0;
        if (!pcid(cpu)) {
            leaveCpumask(cpu, prev); // as in switchMm: under PCIDE prev's tagged entries keep it in the mask
        }
        memory.stats.switchMmFlush.incrementAndGet();
    }

    /**
     * The mm is going away (exit_mmap, before any of its page tables is freed), on {@code cpu}'s own
     * thread: if it has the mm loaded (lazily: its task exited) it leaves it ({@link #leaveMm}); every
     * ASID slot that still holds the mm's ctx_id is emptied, and under PCIDE its PCID's entries are
     * invalidated (INVPCID single-context): TLB and paging-structure-cache entries tagged with an
     * inactive PCID are unusable, but they would still name the freed tables until the ASID is reused.
     */
    public void forgetMm(Vcpu cpu, MmStruct mm) {
        assertOwner(cpu);
        observe(cpu);
        CpuTlbState st = state(cpu);
        if (st.loadedMm == mm) {
            leaveMm(cpu);
        }
        dropAsids(cpu, st, mm, true);
        leaveCpumask(cpu, mm);
    }

    /**
     * exit_mmap's shootdown: every vCPU in mm_cpumask — which holds every vCPU whose TLB, paging-structure
     * caches or ASID slots may name the mm (a vCPU leaves it only after dropping all of that) — runs
     * {@link #forgetMm} on its own thread, by IPI, and the caller waits for all of them. Called before
     * anything of the mm is freed.
     */
    void shootdownExitingMm(MmStruct mm) {
        List<Vcpu> targets = new ArrayList<>(mm.cpus);
        if (targets.isEmpty()) {
            return;
        }
        Machine machine = targets.get(0).machine();
        machine.sendIpis(machine.currentVcpu(), targets, cpu -> forgetMm(cpu, mm));
    }

    /**
     * flush_tlb_mm_range(mm, start, end) for a change that frees nothing (mprotect, fork's write-protect):
     * lazy vCPUs are skipped, they catch up when they switch back. {@code end == TLB_FLUSH_ALL} (or a
     * range above the ceiling) is a full flush.
     */
    public void flushTlbMmRange(MmStruct mm, long start, long end) {
        flushTlbMmRange(mm, start, end, false);
    }

    /**
     * flush_tlb_mm_range; {@code freeing}: frames or page tables are freed after this flush (mmu_gather,
     * ptep_clear_flush before the old page is dropped), so lazy vCPUs are interrupted too.
     */
    public void flushTlbMmRange(MmStruct mm, long start, long end, boolean freeing) {
        if (end == TLB_FLUSH_ALL || Long.compareUnsigned((end - start) >>> 12, TLB_SINGLE_PAGE_FLUSH_CEILING) > 0) {
            start = 0;
            end = TLB_FLUSH_ALL;
        }
        long newGen = mm.tlbGen.incrementAndGet(); // inc_mm_tlb_gen
        // Who gets it: every vCPU in mm_cpumask, the lazy ones only when something is freed after
        // (on_each_cpu_cond_mask(tlb_is_not_lazy) unless freed_tables). The common case — the sender is
        // the only one — is a plain call and allocates nothing.
        Vcpu only = null;
        int n = 0;
        for (Vcpu cpu : mm.cpus) {
            if (freeing || !state(cpu).isLazy) {
                only = cpu;
                n++;
            }
        }
        if (n == 0) {
            return;
        }
        Machine machine = only.machine();
        Vcpu self = machine.currentVcpu();
        if (n == 1 && only == self) {
            flushTlbFunc(self, mm, start, end, newGen); // the local flush: a function call
            return;
        }
        List<Vcpu> targets = new ArrayList<>(n);
        for (Vcpu cpu : mm.cpus) {
            if (freeing || !state(cpu).isLazy) {
                targets.add(cpu);
            }
        }
        long s = start, e = end;
        machine.yieldPoint(YieldKind.TLB_SHOOTDOWN_BEFORE);
        machine.sendIpis(self, targets, cpu -> flushTlbFunc(cpu, mm, s, e, newGen));
        machine.yieldPoint(YieldKind.TLB_SHOOTDOWN_AFTER);
    }

    private void observe(Vcpu cpu) {
        java.util.function.BiConsumer<Vcpu, Thread> o = flushFuncObserver;
        if (o != null) {
            o.accept(cpu, Thread.currentThread());
        }
    }

    /**
     * flush_tlb_func on {@code cpu} (struct flush_tlb_info passed as its fields): the IPI handler, on the
     * target's thread, or the local call.
     */
    private void flushTlbFunc(Vcpu cpu, MmStruct mm, long start, long end, long newTlbGen) {
        observe(cpu);
        CpuTlbState st = state(cpu);
        if (st.loadedMm != mm || st.isLazy) {
            // Not running mm: lazy on it (only a freeing flush comes here then), or switched away with
            // its PCID-tagged entries still cached. Linux switches a lazy CPU to init_mm and has a CPU
            // running another mm leave the mask (TLB_REMOTE_WRONG_CPU); mmulab also drops the mm's
            // PCID-tagged entries then, so nothing outside mm_cpumask can reach the mm's frames. The ASID
            // slot's tlb_gen was behind anyway: switching back would have flushed it.
            if (st.loadedMm == mm) {
                leaveMm(cpu);
            }
            dropAsids(cpu, st, mm, false);
            leaveCpumask(cpu, mm);
            return;
        }
        int asid = st.loadedMmAsid;
        long local = st.tlbGen[asid];
        long mmGen = mm.tlbGen.get();
        if (local == mmGen || newTlbGen <= local) {
            return;
        }
        if (end != TLB_FLUSH_ALL && newTlbGen == local + 1 && newTlbGen == mmGen) {
            for (long a = start; a != end; a += 4096) {
                cpu.mmu().invlpg(a); // flush_tlb_one_user
            }
            memory.stats.tlbPageFlushes.addAndGet((end - start) >>> 12);
        } else {
            memory.stats.tlbFullFlushes.incrementAndGet();
            cpu.mmu().writeCr3(cpu.state.cr3 & ~CR3_NOFLUSH); // flush_tlb_local: CR3 reload without the no-flush bit
        }
        st.tlbGen[asid] = mmGen;
    }

    /**
     * Drops what {@code cpu}'s inactive ASID slots hold of {@code mm}: INVPCID single-context for each
     * PCID tagged with it, and the slot forgotten ({@code empty}) or marked behind so the next switch to
     * the mm flushes. Without PCIDE there is nothing: every switch flushed.
     */
    private void dropAsids(Vcpu cpu, CpuTlbState st, MmStruct mm, boolean empty) {
        for (int a = 0; a < TLB_NR_DYN_ASIDS; a++) {
            if (st.ctxId[a] == mm.ctxId && !(st.loadedMm == mm && st.loadedMmAsid == a)) {
                if (pcid(cpu)) {
                    cpu.mmu().invpcid(1, kernPcid(a), 0);
                }
                st.tlbGen[a] = 0;
                if (empty) {
                    st.ctxId[a] = 0;
                }
            }
        }
    }

    /**
     * For {@code --check}'s reports ({@link MmCheck#reachReport}): {@code cpu}'s cpu_tlbstate in words — the
     * loaded mm (ctx_id, its owner, lazy or not, whether the vCPU is in its mm_cpumask) and the mm each
     * dynamic ASID slot holds with its tlb_gen (PCID = ASID + 1 under CR4.PCIDE; PCID 0 otherwise). Read
     * without synchronisation from any thread: a snapshot for a message, never for a decision.
     */
    String describeState(Vcpu cpu) {
        CpuTlbState st = state(cpu);
        MmStruct loaded = st.loadedMm;
        StringBuilder b = new StringBuilder();
        b.append("CR3 0x").append(Long.toHexString(cpu.state.cr3)).append(pcid(cpu) ? " (PCIDE)" : "").append(", loaded ");
        if (loaded == null) {
            b.append("mm init_mm");
        } else {
            b.append(describeMm(loaded)).append(st.isLazy ? " lazy" : "").append(", asid ").append(st.loadedMmAsid)
                    .append(loaded.cpus.contains(cpu) ? ", in" : ", NOT in").append(" its mm_cpumask");
        }
        if (pcid(cpu)) {
            b.append(", ASID slots:");
            for (int a = 0; a < TLB_NR_DYN_ASIDS; a++) {
                if (st.ctxId[a] != 0) {
                    b.append(' ').append(a).append("=ctx ").append(st.ctxId[a]).append("@gen ").append(st.tlbGen[a]);
                }
            }
        }
        return b.toString();
    }

    /** "mm ctx N (owner)" for reports. */
    static String describeMm(MmStruct mm) {
        Object owner = mm.owner;
        return "mm ctx " + mm.ctxId + (owner != null ? " (" + owner + ")" : "") + (mm.exiting ? " exiting" : "");
    }

    /** For MmCheck and tests: every vCPU that has loaded an mm on this machine. */
    List<Vcpu> knownCpus() {
        return new ArrayList<>(states.keySet());
    }
}
