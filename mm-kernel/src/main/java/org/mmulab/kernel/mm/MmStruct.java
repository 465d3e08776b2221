package org.mmulab.kernel.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.mmulab.emulator.machine.Vcpu;

/**
 * struct mm_struct (include/linux/mm_types.h, kernel/fork.c mm_init): the VMA tree, the page-table
 * root in guest RAM, {@code page_table_lock} (upper levels and installing a new PTE table, seed 000),
 * {@code mmap_lock}, the RSS counters per type (atomic, as in seed 003's "atomic RSS counters"),
 * {@code hiwater_rss}/{@code hiwater_vm}, and the layout fields set by exec (start_code, brk, mmap_base...).
 * {@link #cpus} is mm_cpumask: the vCPUs whose TLBs may hold this mm's translations.
 */
public final class MmStruct {
    public static final int MM_FILEPAGES = 0, MM_ANONPAGES = 1, MM_SWAPENTS = 2, MM_SHMEMPAGES = 3;
    static final String[] COUNTER_NAMES = {"file", "anon", "swap", "shmem"};

    final Memory memory;
    /** pfn of the top-level table (PML4 in 4-level mode). */
    final long pgd;
    public final SpinLock pageTableLock;
    public final RwSemaphore mmapLock;
    final TreeMap<Long, VmArea> vmas = new TreeMap<>();
    private final AtomicLongArray rss = new AtomicLongArray(4);
    /** file + anon + shmem: get_mm_rss as one atomic, so a decrease knows the exact value it lowers. */
    private final AtomicLong rssTotal = new AtomicLong();
    private final AtomicLong hiwaterRss = new AtomicLong();
    /** Written under the mmap write lock only; volatile for the readers that hold no lock (/proc). */
    volatile long hiwaterVm;
    volatile long totalVm;
    /** pgtables_bytes / PAGE_SIZE: page-table pages below the PGD. */
    final AtomicLong nrPgtables = new AtomicLong();
    /**
     * mm->pmd_huge_pte (pgtable_trans_huge_deposit / withdraw without split PMD locks): the PTE tables kept
     * for the anon huge PMDs of this mm, so split_huge_pmd never allocates. Guarded by
     * {@link #pageTableLock}; counted in {@link #nrPgtables} as Linux's nr_ptes counts them.
     */
    final java.util.ArrayDeque<Long> hugePmdDeposit = new java.util.ArrayDeque<>();
    /** Huge PMDs this mm maps now (anon and shmem): smaps_rollup's AnonHugePages/ShmemPmdMapped. */
    public final java.util.concurrent.atomic.AtomicLongArray hugePmdCounts = new java.util.concurrent.atomic.AtomicLongArray(2);
    /** All huge PMDs of this mm: zero means no walker needs to look for one. */
    final AtomicLong hugePmds = new AtomicLong();
    /** khugepaged_enter_vma: this mm has a VM_HUGEPAGE VMA and is on khugepaged's list (MMF_VM_HUGEPAGE). */
    volatile boolean khugepagedListed;
    /** Timer ticks seen while this mm ran: khugepaged scans it every {@link Khugepaged#SCAN_TICKS}. */
    final java.util.concurrent.atomic.AtomicLong khugepagedTicks = new java.util.concurrent.atomic.AtomicLong();
    final CopyOnWriteArrayList<Vcpu> cpus = new CopyOnWriteArrayList<>();

    public long startCode, endCode, startData, endData, startBrk, brk, startStack;
    public long argStart, argEnd, envStart, envEnd;
    public long mmapBase;
    public final long taskSize;
    /** Stack rlimit (RLIMIT_STACK soft), 8 MiB by default as on a distribution kernel. */
    public long stackRlimit = 8L << 20;
    /** RLIMIT_MEMLOCK soft limit in bytes (8 MiB, MLOCK_LIMIT since Linux 5.16). */
    public long memlockRlimit = 8L << 20;
    /** mm->def_flags: VM flags every new mapping gets (mlockall(MCL_FUTURE) sets VM_LOCKED). Mmap write lock. */
    int defFlags;

    /** mm->context.ctx_id: unique for the machine's lifetime (arch/x86/mm/tlb.c's ASID matching). */
    final long ctxId;
    /** mm->context.tlb_gen: bumped by every flush request; a CPU whose ASID is behind must flush. */
    final AtomicLong tlbGen = new AtomicLong(1);
    /**
     * mm->tlb_flush_pending: mmu_gathers of this mm begun and not finished (inc_tlb_flush_pending in
     * tlb_gather_mmu). Above one, two zaps run in parallel under the mmap read lock (MADV_DONTNEED), and
     * one may see PTEs the other cleared but has not flushed yet: mm_tlb_flush_nested.
     */
    final java.util.concurrent.atomic.AtomicInteger tlbFlushPending = new java.util.concurrent.atomic.AtomicInteger();

    MmStruct(Memory memory, long pgd, long taskSize, long ctxId) {
        this.memory = memory;
        this.pageTableLock = new SpinLock(LockDep.PAGE_TABLE_LOCK, memory.frames().charge());
        this.mmapLock = new RwSemaphore(LockDep.MMAP_LOCK, memory.frames().charge());
        this.pgd = pgd;
        this.taskSize = taskSize;
        this.ctxId = ctxId;
    }

    /**
     * The task that last ran on this mm (a cheap stand-in for CONFIG_MEMCG's mm->owner, named in
     * {@code --check} reports: its toString); null until the scheduler or exec sets it. Any thread.
     */
    volatile Object owner;
    /** exit_mmap has begun (MMF_OOM_SKIP-like marker, for reports only). */
    volatile boolean exiting;

    /** Records the task running on this mm ({@link #owner}); the scheduler calls it when it switches one in. */
    public void setOwner(Object task) {
        if (owner != task) {
            owner = task;
        }
    }

    /** mm->context.ctx_id. */
    public long ctxId() {
        return ctxId;
    }

    /** mm->context.tlb_gen. */
    public long tlbGen() {
        return tlbGen.get();
    }

    public Memory memory() {
        return memory;
    }

    /** Physical address of the top-level table: what CR3 holds. */
    public long pgdPhys() {
        return pgd << 12;
    }

    /**
     * Makes {@code cpu} use this mm (switch_mm_irqs_off): picks an ASID, loads CR3 (with the PCID
     * no-flush bit when that ASID's TLB contents are current) and adds the CPU to mm_cpumask.
     */
    public void activate(Vcpu cpu) {
        memory.tlbFlush.switchMm(cpu, this);
    }

    /** mm_cpumask, a snapshot (for tests and --check). */
    public List<Vcpu> cpumask() {
        return new ArrayList<>(cpus);
    }

    // ---- VMA tree (find_vma & co., mm/mmap.c) ----------------------------------------------

    /** find_vma: the first VMA with end > addr, or null. */
    public VmArea findVma(long addr) {
        if (addr < 0) {
            return null; // above 2^63 unsigned: past every VMA (the tree is keyed by signed longs)
        }
        Map.Entry<Long, VmArea> e = vmas.floorEntry(addr);
        if (e != null && Long.compareUnsigned(addr, e.getValue().end) < 0) {
            return e.getValue();
        }
        Map.Entry<Long, VmArea> h = vmas.higherEntry(addr);
        return h == null ? null : h.getValue();
    }

    /** The VMA containing addr, or null (vma_lookup). */
    public VmArea vmaLookup(long addr) {
        Map.Entry<Long, VmArea> e = vmas.floorEntry(addr);
        if (e != null && addr < e.getValue().end) {
            return e.getValue();
        }
        return null;
    }

    /** find_vma_intersection(start, end). */
    public VmArea findVmaIntersection(long start, long end) {
        VmArea v = findVma(start);
        return v != null && Long.compareUnsigned(v.start, end) < 0 ? v : null;
    }

    public VmArea prevVma(VmArea v) {
        Map.Entry<Long, VmArea> e = vmas.lowerEntry(v.start);
        return e == null ? null : e.getValue();
    }

    public VmArea nextVma(VmArea v) {
        Map.Entry<Long, VmArea> e = vmas.higherEntry(v.start);
        return e == null ? null : e.getValue();
    }

    /** VMAs intersecting [start, end), in address order. */
    public List<VmArea> vmasIn(long start, long end) {
        List<VmArea> out = new ArrayList<>();
        VmArea v = findVma(start);
        while (v != null && Long.compareUnsigned(v.start, end) < 0) {
            out.add(v);
            v = nextVma(v);
        }
        return out;
    }

    /** Links {@code v} into the VMA tree at {@code start} (vma_link / vma_iter_store). Mmap write lock held. */
    void insertVma(long start, VmArea v) {
        v.detached = false;
        vmas.put(start, v);
    }

    /** Unlinks the VMA starting at {@code start}; returns it (null if none). Mmap write lock held. */
    VmArea removeVma(long start) {
        VmArea v = vmas.remove(start);
        if (v != null) {
            v.detached = true;
        }
        return v;
    }

    /** Unlinks every VMA (exit_mmap). Mmap write lock held. */
    void clearVmas() {
        for (VmArea v : vmas.values()) {
            v.detached = true;
        }
        vmas.clear();
    }

    /**
     * The per-task VMA cache check of mm/vmacache.c (Linux 3.15-6.0, before the maple tree made lookups
     * cheap): is {@code cached}, a VMA an earlier lookup returned, still linked into this mm and does it
     * contain {@code addr}? Call with the mmap lock held (read is enough): VMAs are linked, unlinked and
     * resized only under the write lock, so a linked VMA's current bounds are the truth. Lets the fault
     * path skip the tree lookup (which boxes the address) for consecutive faults in one VMA.
     */
    public boolean vmacacheValid(VmArea cached, long addr) {
        return cached != null && cached.mm == this && !cached.detached && cached.start <= addr && addr < cached.end;
    }

    public List<VmArea> vmaList() {
        return new ArrayList<>(vmas.values());
    }

    NavigableMap<Long, VmArea> tree() {
        return vmas;
    }

    public int mapCount() {
        return vmas.size();
    }

    /** /proc/pid/maps. */
    public String maps() {
        StringBuilder b = new StringBuilder();
        for (VmArea v : vmas.values()) {
            b.append(v).append('\n');
        }
        return b.toString();
    }

    // ---- counters (include/linux/mm.h add_mm_counter, get_mm_rss, update_hiwater_*) ---------

    public long counter(int member) {
        return rss.get(member);
    }

    /**
     * add_mm_counter. A decrease first records the RSS it is about to lower in hiwater_rss (Linux calls
     * update_hiwater_rss before zapping): taken from the same atomic add, so a fault on another vCPU
     * between a separate "read rss, update hiwater" and the decrease cannot leave a peak unrecorded;
     * {@link #hiwaterRss()} is then exactly the highest RSS the mm ever had.
     */
    void addCounter(int member, long v) {
        MmFix.Fixes fixes = memory.fixes;
        if (fixes.reverted(MmFix.RSS_ATOMIC)) {
            addCounterRacy(member, v);
            return;
        }
        rss.addAndGet(member, v);
        if (member != MM_SWAPENTS) {
            long before = rssTotal.getAndAdd(v);
            if (v < 0 && !fixes.reverted(MmFix.HIWATER_EXACT)) {
                hiwaterRss.accumulateAndGet(before, Math::max);
            }
        }
    }

    /**
     * The race explorer's revert of {@link MmFix#RSS_ATOMIC}: the pre-2.6.15 {@code mm->anon_rss++}, a
     * load and a store that another vCPU (holding another split PTE lock) can run between.
     */
    private void addCounterRacy(int member, long v) {
        CycleCharge charge = memory.frames().charge();
        long r = rss.get(member);
        charge.yieldPoint(org.mmulab.emulator.machine.YieldKind.DATA_RMW);
        rss.set(member, r + v);
        if (member != MM_SWAPENTS) {
            long t = rssTotal.get();
            charge.yieldPoint(org.mmulab.emulator.machine.YieldKind.DATA_RMW);
            rssTotal.set(t + v);
        }
    }

    public long rss() {
        return rssTotal.get();
    }

    /** update_hiwater_rss. */
    public void updateHiwaterRss() {
        long r = rss();
        hiwaterRss.accumulateAndGet(r, Math::max);
    }

    /** reset_mm_hiwater_rss (clear_refs "5"): the peak becomes the current RSS. */
    public void resetHiwaterRss() {
        hiwaterRss.set(rss());
    }

    /** update_hiwater_vm. */
    void updateHiwaterVm() {
        if (hiwaterVm < totalVm) {
            hiwaterVm = totalVm;
        }
    }

    /** get_mm_hiwater_rss: pages. */
    public long hiwaterRss() {
        return Math.max(hiwaterRss.get(), rss());
    }

    /** get_mm_hiwater_vm: pages. */
    public long hiwaterVm() {
        return Math.max(hiwaterVm, totalVm);
    }

    public long totalVm() {
        return totalVm;
    }

    /** Deposited PTE tables (one per anon huge PMD), for the census (quiescent: no lock, no yield point). */
    public int hugePmdDeposited() {
        return hugePmdDeposit.size();
    }

    public long nrPgtables() {
        return nrPgtables.get();
    }

    public String countersDescription() {
        return String.format("rss anon=%d file=%d shmem=%d pages, hiwater_rss=%d, total_vm=%d, hiwater_vm=%d, pgtables=%d",
                counter(MM_ANONPAGES), counter(MM_FILEPAGES), counter(MM_SHMEMPAGES), hiwaterRss(), totalVm, hiwaterVm(),
                nrPgtables());
    }

    // ---- TLB flushing (arch/x86/mm/tlb.c flush_tlb_mm_range) ---------------------------------

    /** Above this many pages a ranged flush becomes a full flush (tlb_single_page_flush_ceiling). */
    public static final int TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

    /**
     * flush_tlb_mm_range on every vCPU in mm_cpumask: INVLPG per page, or a full flush of the mm's ASID
     * above the ceiling ({@link TlbFlush#flushTlbMmRange}).
     */
    public void flushTlbRange(long start, long end) {
        memory.tlbFlush.flushTlbMmRange(this, start, end);
    }

    /** flush_tlb_mm: a full flush of this mm everywhere (PAE: also reloads the PDPTE registers). */
    public void flushTlbAll() {
        memory.tlbFlush.flushTlbMmRange(this, 0, TlbFlush.TLB_FLUSH_ALL);
    }

    /** flush_tlb_page. */
    public void flushTlbPage(long addr) {
        flushTlbRange(addr & ~0xfffL, (addr & ~0xfffL) + 4096);
    }
}
