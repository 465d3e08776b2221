package org.mmulab.kernel.mm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.FrameReach;

/**
 * {@code --check}: the mm's invariants, checked at exit by the kernel and on demand by tests, in the
 * spirit of CONFIG_DEBUG_VM / page_table_check (mm/page_table_check.c) and lockdep. One per
 * {@link Memory} ({@link Memory#check}); what it finds is kept in {@link #violations()}.
 * <ul>
 * <li>{@link #checkMms}: a census of every live mm's page tables — each frame's mapcount equals the
 *     PTEs that map it, an anon frame's refcount equals its mapcount and a page-cache frame's exceeds
 *     it by at most the cache's one reference; each mm's RSS per type equals its PTE census and its
 *     page-table count the tables reachable from its PGD; no PTE maps a free frame, no entry a free table.
 *     Quiescent: call it when no mm operation runs (at exit, or from a test between phases).</li>
 * <li>{@link #checkNoLeak}: once every mm is gone, every frame is free, reserved, or a page-cache
 *     page held only by its cache.</li>
 * <li>{@link #checkNoLocksHeld}: no mm lock is held by the calling thread (at trap exit).</li>
 * <li>the PTE setters assert that the PTE table's split lock is held by the writer (installed by
 *     {@link Memory} when {@link #enabled} is set before the Memory is made).</li>
 * <li>the frame table's free observer ({@link #watchFrees}; with {@link #enabled} installed by the mm
 *     itself when the first vCPU loads an mm) reports a frame or page-table page freed while any vCPU
 *     could still reach it.</li>
 * </ul>
 * {@link #enabled} is the {@code --check} flag: set it before the kernel builds its {@link Memory}
 * (the CLI does while parsing). It also turns on {@link LockDep}'s per-thread held-lock tracking, so set
 * it before any mm lock is taken. Tests run with Java assertions on, which turns LockDep on anyway.
 */
public final class MmCheck {
    /** {@code --check}: checks on for Memories made from now on, and lock tracking. */
    public static volatile boolean enabled;

    private final Memory memory;
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());

    MmCheck(Memory memory) {
        this.memory = memory;
    }

    /** Everything found so far (a copy). */
    public List<String> violations() {
        synchronized (violations) {
            return new ArrayList<>(violations);
        }
    }

    void report(String v) {
        violations.add(v);
    }

    /** Census of {@code mms}, which must be every mm alive on this Memory; returns what it found (also kept). */
    public List<String> checkMms(Collection<MmStruct> mms) {
        FrameTable frames = memory.frames();
        int[] refs = new int[frames.frameCount()];
        int[] entire = new int[(frames.frameCount() >> FrameTable.HPAGE_PMD_ORDER) + 1];
        List<String> out = new ArrayList<>();
        for (MmStruct mm : mms) {
            long[] rss = new long[4];
            long[] tables = {0};
            walk(mm, mm.pgd << 12, memory.ops().levels(), 0, refs, entire, rss, tables, out);
            tables[0] += mm.hugePmdDeposited(); // pgtable_trans_huge_deposit keeps them in nr_ptes
            for (int t : new int[] {MmStruct.MM_FILEPAGES, MmStruct.MM_ANONPAGES, MmStruct.MM_SHMEMPAGES}) {
                if (mm.counter(t) != rss[t]) {
                    out.add("mm " + mm.ctxId + ": rss " + MmStruct.COUNTER_NAMES[t] + " counter " + mm.counter(t)
                            + " but its page tables map " + rss[t]);
                }
            }
            if (mm.nrPgtables() != tables[0]) {
                out.add("mm " + mm.ctxId + ": pgtables counter " + mm.nrPgtables() + " but " + tables[0] + " tables hang off its PGD");
            }
            if (mm.hiwaterRss() < mm.rss()) {
                out.add("mm " + mm.ctxId + ": hiwater_rss " + mm.hiwaterRss() + " below rss " + mm.rss());
            }
            if (mm.hiwaterVm() < mm.totalVm()) {
                out.add("mm " + mm.ctxId + ": hiwater_vm " + mm.hiwaterVm() + " below total_vm " + mm.totalVm());
            }
        }
        for (int pfn = 0; pfn < refs.length; pfn++) {
            int f = frames.flags(pfn);
            if ((f & (FrameTable.PG_BUDDY | FrameTable.PG_RESERVED | FrameTable.PG_PGTABLE)) != 0) {
                continue;
            }
            if ((f & (FrameTable.PG_HEAD | FrameTable.PG_TAIL)) != 0) {
                if ((f & FrameTable.PG_HEAD) != 0) {
                    checkFolio(pfn, refs, entire, out);
                }
                continue;
            }
            int map = frames.mapcount(pfn), ref = frames.refcount(pfn);
            if (map != refs[pfn]) {
                out.add(frame(pfn) + ": mapcount " + map + " but " + refs[pfn] + " PTEs map it");
            }
            if ((f & FrameTable.PG_ANON) != 0) {
                if (ref != map) {
                    out.add(frame(pfn) + ": anon refcount " + ref + " != mapcount " + map);
                }
                if ((f & FrameTable.PG_ANON_EXCLUSIVE) != 0 && map > 1) {
                    out.add(frame(pfn) + ": PageAnonExclusive but mapped " + map + " times");
                }
            } else if ((f & (FrameTable.PG_PAGECACHE | FrameTable.PG_SHMEM | FrameTable.PG_DRIVER)) != 0) {
                if (ref - map < 0 || ref - map > 1) {
                    out.add(frame(pfn) + ": page-cache refcount " + ref + " vs mapcount " + map);
                }
            } else if (ref != 0 || map != 0) {
                // an order-0 frame in use that is neither anon, cache nor table: only transient users
                // (a copy in flight) hold such frames, and no check runs then
                out.add(frame(pfn) + ": in use (refcount " + ref + ", mapcount " + map + ") but nobody's");
            }
        }
        violations.addAll(out);
        return out;
    }

    /**
     * A PMD-sized folio: each subpage's own mapcount equals the PTEs mapping it, the entire mapcount the
     * huge PMDs mapping it; an anon folio's refcount is one per PTE and per PMD mapping, a cache folio's
     * exceeds that by at most the cache's 512.
     */
    private void checkFolio(int head, int[] refs, int[] entire, List<String> out) {
        FrameTable frames = memory.frames();
        long maps = 0;
        for (int i = 0; i < FrameTable.HPAGE_PMD_NR; i++) {
            int m = frames.pageMapcount(head + i);
            if (m != refs[head + i]) {
                out.add(frame(head + i) + " (subpage " + i + "): mapcount " + m + " but " + refs[head + i] + " PTEs map it");
            }
            maps += m;
        }
        int e = frames.entireMapcount(head);
        if (e != entire[head >> FrameTable.HPAGE_PMD_ORDER]) {
            out.add(frame(head) + ": entire mapcount " + e + " but " + entire[head >> FrameTable.HPAGE_PMD_ORDER]
                    + " huge PMDs map it");
        }
        maps += e;
        long ref = frames.refcount(head);
        int f = frames.flags(head);
        if ((f & FrameTable.PG_ANON) != 0 ? ref != maps : ref - maps < 0 || ref - maps > FrameTable.HPAGE_PMD_NR) {
            out.add(frame(head) + ": huge folio refcount " + ref + " vs " + maps + " mappings (flags 0x"
                    + Integer.toHexString(f) + ")");
        }
    }

    private static String frame(long pfn) {
        return "pfn 0x" + Long.toHexString(pfn);
    }

    /** Reads an entry without charging any vCPU (the check is not guest-visible work). */
    private long entry(long pa) {
        return memory.physicalMemory().read64Acquire(pa);
    }

    private void walk(MmStruct mm, long table, int level, long base, int[] refs, int[] entire, long[] rss,
            long[] tables, List<String> out) {
        PgtableOps ops = memory.ops();
        FrameTable frames = memory.frames();
        int n = ops.entries(level);
        for (int i = 0; i < n; i++) {
            long va = base + ((long) i << ops.shift(level));
            if (level == ops.levels() && Long.compareUnsigned(va, mm.taskSize) >= 0) {
                break; // PAE: the kernel's shared PMD is nobody's table
            }
            long e = entry(table + 8L * i);
            if (PteBits.none(e)) {
                continue;
            }
            long pfn = PteBits.pfn(e);
            if (level == 2 && HugeMemory.pmdTransHuge(e) && pfn < frames.frameCount()) {
                if ((frames.flags(pfn) & FrameTable.PG_HEAD) == 0 || (pfn & (FrameTable.HPAGE_PMD_NR - 1)) != 0) {
                    out.add("mm " + mm.ctxId + ": huge PMD " + PteBits.describe(e) + " for va 0x" + Long.toHexString(va)
                            + " maps " + frame(pfn) + ", not the head of a huge page");
                    continue;
                }
                entire[(int) pfn >> FrameTable.HPAGE_PMD_ORDER]++;
                rss[memory.mmCounter(pfn)] += FrameTable.HPAGE_PMD_NR;
                continue;
            }
            if (level > 1) {
                if ((e & PteBits.PSE) != 0 || !PteBits.present(e) || pfn >= frames.frameCount()) {
                    out.add("mm " + mm.ctxId + ": bad level-" + level + " entry " + PteBits.describe(e) + " for va 0x"
                            + Long.toHexString(va));
                    continue;
                }
                int f = frames.flags(pfn);
                if ((f & FrameTable.PG_PGTABLE) == 0 || (f & FrameTable.PG_BUDDY) != 0) {
                    out.add("mm " + mm.ctxId + ": level-" + level + " entry for va 0x" + Long.toHexString(va)
                            + " points at " + frame(pfn) + ", not a page table (flags 0x" + Integer.toHexString(f) + ")");
                    continue;
                }
                if (level == 2 && (f & FrameTable.PG_PTE_TABLE) == 0) {
                    out.add("mm " + mm.ctxId + ": PTE table " + frame(pfn) + " not marked as one");
                }
                tables[0]++;
                walk(mm, pfn << 12, level - 1, va, refs, entire, rss, tables, out);
                continue;
            }
            if (!PteBits.present(e)) {
                out.add("mm " + mm.ctxId + ": non-present PTE " + PteBits.describe(e) + " at va 0x" + Long.toHexString(va));
                continue;
            }
            long page = memory.vmNormalPage(e);
            if (page < 0) {
                continue;
            }
            if (frames.isFree(page)) {
                out.add("mm " + mm.ctxId + ": va 0x" + Long.toHexString(va) + " maps free " + frame(page));
                continue;
            }
            refs[(int) page]++;
            rss[memory.mmCounter(page)]++;
        }
    }

    /** After the last mm is gone: every frame free, reserved, or held by a page cache alone. */
    public List<String> checkNoLeak() {
        FrameTable frames = memory.frames();
        List<String> out = new ArrayList<>();
        for (int pfn = 0; pfn < frames.frameCount(); pfn++) {
            int f = frames.flags(pfn);
            if ((f & (FrameTable.PG_BUDDY | FrameTable.PG_RESERVED)) != 0) {
                continue;
            }
            if ((f & FrameTable.PG_BUDDY) == 0 && frames.refcount(pfn) == 0) {
                continue; // a tail frame of a free higher-order block
            }
            if ((f & FrameTable.PG_TAIL) != 0) {
                continue; // judged with its head
            }
            int cacheRefs = (f & FrameTable.PG_HEAD) != 0 ? FrameTable.HPAGE_PMD_NR : 1;
            boolean cacheOnly = (f & (FrameTable.PG_PAGECACHE | FrameTable.PG_SHMEM | FrameTable.PG_DRIVER)) != 0
                    && frames.refcount(pfn) == cacheRefs && frames.mapcount(pfn) == 0;
            if (!cacheOnly) {
                out.add(frame(pfn) + " leaked: flags 0x" + Integer.toHexString(f) + ", refcount " + frames.refcount(pfn)
                        + ", mapcount " + frames.mapcount(pfn));
            }
        }
        violations.addAll(out);
        return out;
    }

    /**
     * Installs the frame table's free observer: every frame about to go back to the allocator (data
     * page or page-table page, PGD included) must be unreachable from every vCPU of {@code machine}
     * ({@link org.mmulab.emulator.mmu.Mmu#mayReach}: TLBs of every PCID, paging-structure caches, PDPTE
     * registers, CR3, fast path, the interpreter's cached fetch page). The shootdowns that precede each
     * free were acknowledged, which orders the reads here after those vCPUs' invalidations.
     */
    public void watchFrees(Machine machine) {
        List<Vcpu> cpus = machine.vcpus();
        memory.frames().setFreeObserver(pfn -> {
            for (Vcpu v : cpus) {
                String via = FrameReach.reachedBy(v.mmu(), pfn << PhysicalMemory.PAGE_SHIFT);
                if (via != null) {
                    report(reachReport(pfn, v, via));
                }
            }
        });
    }

    /**
     * The violation for frame {@code pfn} freed while {@code v} can reach it through {@code via} (what
     * {@link FrameReach#reachedBy} found): the entry in detail as it is now ({@link FrameReach#describe}:
     * fetch frame, CR3, PDPTE register, paging-structure-cache, fast-path or TLB entry, with its linear
     * address and PCID), and whose mm the vCPU runs (cpu_tlbstate: the loaded mm and its owner task, lazy or
     * not, in its mm_cpumask or not; under PCIDE the mm each ASID slot holds), so a report names the path
     * that was not flushed.
     */
    String reachReport(long pfn, Vcpu v, String via) {
        String now = FrameReach.describe(v.mmu(), pfn << PhysicalMemory.PAGE_SHIFT);
        return frame(pfn) + " freed while vCPU " + v.id() + " can still reach it (flags 0x"
                + Integer.toHexString(memory.frames().flags(pfn)) + ") through its " + via + " ["
                + (now != null ? now : "gone by the time of this report") + "]; vCPU " + v.id() + ": "
                + memory.tlbFlush.describeState(v);
    }

    private boolean watching;

    /**
     * {@link #watchFrees} unless already done: with {@link #enabled} the mm installs it by itself the
     * first time a vCPU loads an mm, so {@code --check} needs nothing more from the kernel.
     */
    synchronized void watchFreesOnce(Machine machine) {
        if (!watching) {
            watching = true;
            watchFrees(machine);
        }
    }

    /** At trap exit: the calling thread holds no mm lock (lockdep's "lock held when returning to user space"). */
    public boolean checkNoLocksHeld() {
        int n = LockDep.heldCount();
        if (n != 0) {
            report(Thread.currentThread().getName() + " returns to user space holding " + LockDep.describeHeld());
            return false;
        }
        return true;
    }

    /**
     * Turns on the PTE-setter assertion for this Memory ({@link #enabled} does it for every Memory made
     * while it is set; a test that stages races by writing PTEs itself leaves it off).
     */
    public void assertPteLocks() {
        memory.ops().setWriteCheck(this::checkPteWrite);
    }

    /**
     * The assertion in the PTE setters: an entry of a PTE table is written only by the holder of that
     * table's split lock. Upper levels are written under page_table_lock or, at teardown, with the mmap
     * write lock held, which lockdep alone does not tell apart: they are not checked here.
     */
    void checkPteWrite(long entryPa) {
        FrameTable frames = memory.frames();
        long pfn = entryPa >>> PhysicalMemory.PAGE_SHIFT;
        if (pfn >= frames.frameCount() || (frames.flags(pfn) & FrameTable.PG_PTE_TABLE) == 0) {
            return;
        }
        SpinLock ptl = frames.ptlockOrNull(pfn);
        if (ptl != null && !ptl.heldByCurrentThread()) {
            String v = "PTE at 0x" + Long.toHexString(entryPa) + " written without its table's lock " + ptl + " by "
                    + Thread.currentThread().getName();
            report(v);
            throw new IllegalStateException(v);
        }
    }
}
