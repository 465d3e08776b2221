package org.mmulab.kernel.mm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongConsumer;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * The frame table ({@code struct page} array, include/linux/mm_types.h) and a buddy allocator
 * (mm/page_alloc.c, Linux 6.x): per-frame refcount ({@code _refcount}), mapcount ({@code _mapcount},
 * stored here starting at 0 rather than -1), flags, and the split page-table lock of a page-table
 * page ({@code ptlock_ptr}, created by {@link #pgtableCtor} as {@code pagetable_pte_ctor} does).
 *
 * <p>The allocator keeps one free list per order 0..{@link #MAX_ORDER} (doubly linked through
 * int arrays, no objects per frame) under one lock ({@code zone->lock}); freeing merges with the
 * buddy while the buddy is free at the same order. As in Linux, the per-frame fields of an allocated
 * frame are not under the zone lock: refcount and mapcount are atomic counters ({@code page_ref_inc},
 * {@code put_page_testzero}, {@code atomic_inc(&page->_mapcount)}) and flags are atomic bit operations
 * ({@code set_bit}/{@code clear_bit} on {@code page->flags}), so the fault path takes the zone lock
 * only to allocate and free. The buddy lists write a frame's fields only while it is free (under the
 * lock), when nobody else may touch it. Frame 0 is reserved, as the BIOS area is on a PC.
 * Allocation failure returns -1: the caller turns it into VM_FAULT_OOM / -ENOMEM, never an exception.
 */
public final class FrameTable {
    public static final int MAX_ORDER = 10;

    /**
     * Java heap the kernel needs per guest frame at most, so a launcher can check {@code --mem} against the
     * heap before booting: this table's arrays (refcount, mapcount, flags, next, prev: 4 bytes each; order:
     * 1; the ptlock reference: up to 8) plus, when every frame is in a page cache or shmem object, that
     * object's index entry ({@link AddressSpace}: a HashMap node with boxed key and value, about 80 bytes).
     * Page tables live in guest RAM, VMAs are bounded by max_map_count, so nothing else grows with RAM.
     */
    public static final long HEAP_BYTES_PER_FRAME = 30 + 80;

    /** Flags (subset of enum pageflags and page types). */
    public static final int PG_RESERVED = 1, PG_BUDDY = 1 << 1, PG_PGTABLE = 1 << 2, PG_ANON = 1 << 3,
            PG_ZERO = 1 << 4, PG_PAGECACHE = 1 << 5, PG_SHMEM = 1 << 6;
    /**
     * PG_anon_exclusive (include/linux/page-flags.h, 6.x): this anon page is mapped by exactly one mm and
     * may be written in place; set when the page is first mapped (folio_add_new_anon_rmap) or reused by
     * do_wp_page (folio_move_anon_rmap), cleared when fork shares it (page_try_dup_anon_rmap).
     */
    public static final int PG_ANON_EXCLUSIVE = 1 << 7;
    /** A page-table page at the PTE level (whose entries are written only under its split lock). */
    public static final int PG_PTE_TABLE = 1 << 8;
    /**
     * A PMD-sized compound page ({@code PG_head} / a tail's {@code compound_head}): 512 contiguous, aligned
     * frames allocated as one order-9 block. The folio's refcount lives on the head; every
     * {@link #get}/{@link #put}/{@link #refcount} of a tail goes to its head (compound_head), as
     * {@code put_page(tail)} drops a folio reference in Linux. {@code _mapcount} stays per page (PTE
     * mappings of a subpage); the folio's PMD mappings are counted in {@link #entireMapcount}.
     */
    public static final int PG_HEAD = 1 << 9, PG_TAIL = 1 << 10;
    /** PG_locked on a folio's head (trylock_page / unlock_page): held by khugepaged while it collapses. */
    public static final int PG_LOCKED = 1 << 11;
    /** Order and size of a PMD-mapped huge page (HPAGE_PMD_ORDER, HPAGE_PMD_NR). */
    public static final int HPAGE_PMD_ORDER = 9, HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;
    /** A driver's page (vm_insert_page): the driver holds one reference besides its mappings' (PfnMap). */
    public static final int PG_DRIVER = 1 << 12;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    private final PhysicalMemory mem;
    /** Where zeroing, copying and page-table locks are charged (the current vCPU's clock). */
    private volatile CycleCharge charge = CycleCharge.NONE;
    private final int nframes;
    private final int[] refcount;
    private final int[] mapcount;
    private final int[] flags;
    private final byte[] order;
    private final int[] next;
    private final int[] prev;
    private final int[] freeHead = new int[MAX_ORDER + 1];
    private final SpinLock[] ptl;
    /** folio->_entire_mapcount of the huge page whose head is {@code pfn}, at index pfn >> 9 (one per 2 MiB). */
    private final int[] entireMapcount;
    private final Object zoneLock = new Object();
    private long freePages;
    private long allocFailures;
    /** Test hook: told the pfn of every order-0 frame just before it returns to the free lists. */
    private volatile LongConsumer freeObserver;

    public FrameTable(PhysicalMemory mem) {
        this.mem = mem;
        long n = mem.frameCount();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many frames: " + n);
        }
        this.nframes = (int) n;
        refcount = new int[nframes];
        mapcount = new int[nframes];
        flags = new int[nframes];
        order = new byte[nframes];
        next = new int[nframes];
        prev = new int[nframes];
        ptl = new SpinLock[nframes];
        entireMapcount = new int[(nframes >> HPAGE_PMD_ORDER) + 1];
        java.util.Arrays.fill(freeHead, -1);
        if (nframes > 0) {
            flags[0] = PG_RESERVED;
            refcount[0] = 1;
        }
        // memblock_free_all: hand every frame but 0 to the buddy allocator in aligned blocks.
        int pfn = 1;
        synchronized (zoneLock) {
            while (pfn < nframes) {
                int o = MAX_ORDER;
                while (o > 0 && ((pfn & ((1 << o) - 1)) != 0 || pfn + (1 << o) > nframes)) {
                    o--;
                }
                addFree(pfn, o);
                freePages += 1L << o;
                pfn += 1 << o;
            }
        }
    }

    public PhysicalMemory memory() {
        return mem;
    }

    public int frameCount() {
        return nframes;
    }

    public long freePages() {
        synchronized (zoneLock) {
            return freePages;
        }
    }

    public long allocFailures() {
        synchronized (zoneLock) {
            return allocFailures;
        }
    }

    public void setFreeObserver(LongConsumer c) {
        freeObserver = c;
    }

    // ---- buddy allocator -------------------------------------------------------------------

    /** A cache that can give frames back under memory pressure (struct shrinker). Returns frames freed. */
    @FunctionalInterface
    public interface Shrinker {
        long shrink();
    }

    private final java.util.concurrent.CopyOnWriteArrayList<Shrinker> shrinkers = new java.util.concurrent.CopyOnWriteArrayList<>();

    public void registerShrinker(Shrinker s) {
        shrinkers.add(s);
    }

    public void unregisterShrinker(Shrinker s) {
        shrinkers.remove(s);
    }

    /**
     * alloc_pages(order): returns the first pfn with refcount 1, or -1 when memory is exhausted even
     * after the shrinkers dropped what they could (the slow path's direct reclaim, then the caller's OOM).
     */
    public long allocPages(int ord) {
        long pfn = allocPagesFast(ord);
        if (pfn >= 0 || shrinkers.isEmpty()) {
            return pfn;
        }
        long freed = 0;
        for (Shrinker s : shrinkers) {
            freed += s.shrink();
        }
        if (freed > 0) {
            reclaimed += freed;
            pfn = allocPagesFast(ord);
        }
        return pfn;
    }

    private long reclaimed;

    /** Frames given back by shrinkers over the machine's life. */
    public long reclaimedPages() {
        synchronized (zoneLock) {
            return reclaimed;
        }
    }

    private long allocPagesFast(int ord) {
        synchronized (zoneLock) {
            int o = ord;
            while (o <= MAX_ORDER && freeHead[o] < 0) {
                o++;
            }
            if (o > MAX_ORDER) {
                allocFailures++;
                return -1;
            }
            int pfn = freeHead[o];
            removeFree(pfn, o);
            // expand(): give back the upper halves.
            while (o > ord) {
                o--;
                addFree(pfn + (1 << o), o);
            }
            freePages -= 1L << ord;
            for (int i = 0; i < (1 << ord); i++) {
                flags[pfn + i] = 0;
                mapcount[pfn + i] = 0;
            }
            refcount[pfn] = 1;
            order[pfn] = (byte) ord;
            return pfn;
        }
    }

    /** Charges the kernel's frame work (zeroing, copying, page-table locks) to {@code c}. */
    public void setCharge(CycleCharge c) {
        this.charge = java.util.Objects.requireNonNull(c);
    }

    public CycleCharge charge() {
        return charge;
    }

    /** alloc_page(GFP_KERNEL | __GFP_ZERO): clear_page, charged per cache line. */
    public long allocZeroedPage() {
        long pfn = allocPages(0);
        if (pfn >= 0) {
            mem.zeroFrame(pfn << PhysicalMemory.PAGE_SHIFT);
            charge.bulk(pfn << PhysicalMemory.PAGE_SHIFT, PhysicalMemory.PAGE_SIZE);
        }
        return pfn;
    }

    /**
     * vma_alloc_folio(GFP_TRANSHUGE, HPAGE_PMD_ORDER) for khugepaged: a zeroed, 2 MiB aligned compound page
     * (head + 511 tails), refcount 1 on the head; -1 when no order-9 block is free (the caller's
     * SCAN_ALLOC_HUGE_PAGE_FAIL: MADV_COLLAPSE's ENOMEM).
     */
    public long allocHugePage() {
        long pfn = allocPages(HPAGE_PMD_ORDER);
        if (pfn < 0) {
            return -1;
        }
        for (int i = 0; i < HPAGE_PMD_NR; i++) {
            mem.zeroFrame((pfn + i) << PhysicalMemory.PAGE_SHIFT);
            flags[(int) pfn + i] = i == 0 ? PG_HEAD : PG_TAIL; // prep_compound_page, before anyone sees it
        }
        charge.bulk(pfn << PhysicalMemory.PAGE_SHIFT, (long) PhysicalMemory.PAGE_SIZE * HPAGE_PMD_NR);
        entireMapcount[(int) pfn >> HPAGE_PMD_ORDER] = 0;
        VarHandle.releaseFence();
        return pfn;
    }

    /** compound_head: the head of the huge page {@code pfn} belongs to, or {@code pfn} itself. */
    public long compoundHead(long pfn) {
        return (flags(pfn) & PG_TAIL) != 0 ? pfn & -(long) HPAGE_PMD_NR : pfn;
    }

    /** folio_test_large / PageCompound. */
    public boolean isCompound(long pfn) {
        return (flags(pfn) & (PG_HEAD | PG_TAIL)) != 0;
    }

    /** folio_entire_mapcount of the huge page containing {@code pfn}: how many PMDs map it whole. */
    public int entireMapcount(long pfn) {
        return isCompound(pfn) ? (int) INTS.getVolatile(entireMapcount, (int) compoundHead(pfn) >> HPAGE_PMD_ORDER) : 0;
    }

    /** folio_add_*_rmap_pmd / folio_remove_rmap_pmd: {@code delta} PMD mappings of the huge page at {@code head}. */
    public void addEntireMap(long head, int delta) {
        int old = (int) INTS.getAndAdd(entireMapcount, (int) head >> HPAGE_PMD_ORDER, delta);
        if (old + delta < 0) {
            INTS.getAndAdd(entireMapcount, (int) head >> HPAGE_PMD_ORDER, -delta);
            throw new IllegalStateException("entire mapcount underflow on 0x" + Long.toHexString(head));
        }
    }

    /** The per-page {@code _mapcount} alone (PTE mappings of this one page), for the census. */
    public int pageMapcount(long pfn) {
        return (int) INTS.getVolatile(mapcount, (int) pfn);
    }

    /** folio_ref_add: {@code n} more references to the huge page at {@code head} (split_huge_pmd's PTEs). */
    public void refAdd(long head, int n) {
        INTS.getAndAdd(refcount, (int) compoundHead(head), n);
    }

    /** trylock_page on the folio's head: true if this caller took PG_locked. */
    public boolean trylockPage(long pfn) {
        long h = compoundHead(pfn);
        return ((int) INTS.getAndBitwiseOr(flags, (int) h, PG_LOCKED) & PG_LOCKED) == 0;
    }

    /** unlock_page. */
    public void unlockPage(long pfn) {
        clearFlags(compoundHead(pfn), PG_LOCKED);
    }

    /** PageLocked (of the folio). */
    public boolean pageLocked(long pfn) {
        return (flags(compoundHead(pfn)) & PG_LOCKED) != 0;
    }

    /** copy_page(dst, src) (copy_user_highpage): copies frame {@code srcPfn} into {@code dstPfn}, charged per line. */
    public void copyPage(long srcPfn, long dstPfn) {
        mem.copyFrame(srcPfn << PhysicalMemory.PAGE_SHIFT, dstPfn << PhysicalMemory.PAGE_SHIFT);
        charge.copy(srcPfn << PhysicalMemory.PAGE_SHIFT, dstPfn << PhysicalMemory.PAGE_SHIFT, PhysicalMemory.PAGE_SIZE);
    }

    /** __free_pages(page, order) once the last reference is gone. */
    private void freePagesNow(long pfn, int ord) {
        observeFree(pfn, ord);
        destroyCompound(pfn, ord);
        synchronized (zoneLock) {
            freeLocked(pfn, ord);
        }
    }

    /** free_tail_page_prepare: a freed compound page's frames stop being head and tails. */
    private void destroyCompound(long pfn, int ord) {
        if ((flags(pfn) & PG_HEAD) != 0) {
            for (int i = 0; i < (1 << ord); i++) {
                clearFlags(pfn + i, PG_HEAD | PG_TAIL | PG_LOCKED);
            }
        }
    }

    /** Tells the test hook about every frame of the block before it returns to the free lists. */
    private void observeFree(long pfn, int ord) {
        LongConsumer obs = freeObserver;
        if (obs != null) {
            for (int i = 0; i < (1 << ord); i++) {
                obs.accept(pfn + i);
            }
        }
    }

    /** __free_one_page under zone->lock: merges with the buddy while it is free at the same order. */
    private void freeLocked(long pfn, int ord) {
        int p = (int) pfn;
        if ((flags[p] & (PG_BUDDY | PG_RESERVED)) != 0) {
            throw new IllegalStateException("double free of pfn 0x" + Long.toHexString(pfn));
        }
        freePages += 1L << ord;
        int o = ord;
        while (o < MAX_ORDER) {
            int buddy = p ^ (1 << o);
            if (buddy >= nframes || (flags[buddy] & PG_BUDDY) == 0 || order[buddy] != o) {
                break;
            }
            removeFree(buddy, o);
            p = Math.min(p, buddy);
            o++;
        }
        addFree(p, o);
    }

    private void addFree(int pfn, int o) {
        flags[pfn] = PG_BUDDY;
        order[pfn] = (byte) o;
        refcount[pfn] = 0;
        prev[pfn] = -1;
        next[pfn] = freeHead[o];
        if (freeHead[o] >= 0) {
            prev[freeHead[o]] = pfn;
        }
        freeHead[o] = pfn;
    }

    private void removeFree(int pfn, int o) {
        if (prev[pfn] >= 0) {
            next[prev[pfn]] = next[pfn];
        } else {
            freeHead[o] = next[pfn];
        }
        if (next[pfn] >= 0) {
            prev[next[pfn]] = prev[pfn];
        }
        flags[pfn] &= ~PG_BUDDY;
    }

    // ---- struct page accessors -------------------------------------------------------------

    /** page_count: the folio's refcount (a tail's is its head's). */
    public int refcount(long pfn) {
        return (int) INTS.getVolatile(refcount, (int) compoundHead(pfn));
    }

    /** page_mapcount (6.x): this page's PTE mappings plus the PMD mappings of its folio. */
    public int mapcount(long pfn) {
        return (int) INTS.getVolatile(mapcount, (int) pfn) + entireMapcount(pfn);
    }

    public int flags(long pfn) {
        return (int) INTS.getVolatile(flags, (int) pfn);
    }

    public boolean isFree(long pfn) {
        return (flags(pfn) & PG_BUDDY) != 0;
    }

    /** set_bit on page->flags. */
    public void setFlags(long pfn, int f) {
        INTS.getAndBitwiseOr(flags, (int) pfn, f);
    }

    /** clear_bit on page->flags. */
    public void clearFlags(long pfn, int f) {
        INTS.getAndBitwiseAnd(flags, (int) pfn, ~f);
    }

    /** get_page / folio_get (page_ref_inc; a free page must not be revived). */
    public void get(long pfn) {
        int p = (int) compoundHead(pfn);
        for (;;) {
            int r = (int) INTS.getVolatile(refcount, p);
            if (r <= 0) {
                throw new IllegalStateException("get_page on a free page 0x" + Long.toHexString(pfn));
            }
            if (INTS.compareAndSet(refcount, p, r, r + 1)) {
                return;
            }
        }
    }

    /**
     * put_page / folio_put (put_page_testzero): frees the frame when the last reference goes. Reserved
     * frames never go.
     */
    public void put(long pfn) {
        long h = compoundHead(pfn);
        if (putTestZero(h)) {
            freePagesNow(h, order[(int) h]);
        }
    }

    /** put_page_testzero: drops one reference; true when it was the last (never for a reserved frame). */
    private boolean putTestZero(long pfn) {
        int p = (int) pfn;
        if ((flags(p) & PG_RESERVED) != 0) {
            return false;
        }
        for (;;) {
            int r = (int) INTS.getVolatile(refcount, p);
            if (r <= 0) {
                throw new IllegalStateException("put_page underflow on 0x" + Long.toHexString(pfn));
            }
            if (INTS.compareAndSet(refcount, p, r, r - 1)) {
                return r == 1;
            }
        }
    }

    /**
     * release_pages (mm/swap.c) for {@code pfns[0..n)}: drops one reference from each frame, as
     * {@link #put} does, and frees the frames whose last reference went in one pass under one
     * {@code zone->lock} hold (free_unref_folios) instead of one lock round trip per frame. The frames
     * that survive keep their references; the array's first entries are overwritten with the frames freed.
     */
    public void putPages(long[] pfns, int n) {
        int dead = 0;
        for (int i = 0; i < n; i++) {
            long h = compoundHead(pfns[i]);
            if (putTestZero(h)) {
                pfns[dead++] = h;
            }
        }
        if (dead == 0) {
            return;
        }
        for (int i = 0; i < dead; i++) {
            observeFree(pfns[i], order[(int) pfns[i]]);
            destroyCompound(pfns[i], order[(int) pfns[i]]);
        }
        synchronized (zoneLock) {
            for (int i = 0; i < dead; i++) {
                freeLocked(pfns[i], order[(int) pfns[i]]);
            }
        }
    }

    /**
     * folio_add_new_anon_rmap: the first mapping of a frame just allocated, which no page table, TLB or
     * other thread can reach yet. As in Linux (__folio_set_anon, atomic_set of _mapcount) these are
     * plain stores, not atomic read-modify-writes; the release store of the PTE that maps the frame (or
     * the PTE lock's release) publishes them to everyone who later finds the frame through it.
     */
    public void addNewAnonRmap(long pfn) {
        int p = (int) pfn;
        if (refcount[p] <= 0 || mapcount[p] != 0) {
            throw new IllegalStateException("new anon rmap on a frame in use: 0x" + Long.toHexString(pfn));
        }
        flags[p] |= PG_ANON | PG_ANON_EXCLUSIVE;
        mapcount[p] = 1;
    }

    /**
     * page_try_dup_anon_rmap (fork's copy_present_pte): one more mm maps the anon page, which is no
     * longer exclusive to either. Called under the source PTE lock, so no do_wp_page of the parent can
     * test the flag meanwhile. Always succeeds: mmulab has no GUP pins that would force a copy.
     */
    public void dupAnonRmap(long pfn) {
        clearFlags(pfn, PG_ANON_EXCLUSIVE);
        addMap(pfn);
    }

    /** folio_move_anon_rmap: do_wp_page found the only reference and takes the page over exclusively. */
    public void moveAnonRmap(long pfn) {
        setFlags(pfn, PG_ANON_EXCLUSIVE);
    }

    /** PageAnonExclusive. */
    public boolean anonExclusive(long pfn) {
        return (flags(pfn) & (PG_ANON | PG_ANON_EXCLUSIVE)) == (PG_ANON | PG_ANON_EXCLUSIVE);
    }

    /** page_add_*_rmap: one more PTE maps the frame. */
    public void addMap(long pfn) {
        INTS.getAndAdd(mapcount, (int) pfn, 1);
    }

    /** page_remove_rmap. */
    public void removeMap(long pfn) {
        int old = (int) INTS.getAndAdd(mapcount, (int) pfn, -1);
        if (old <= 0) {
            INTS.getAndAdd(mapcount, (int) pfn, 1);
            throw new IllegalStateException("mapcount underflow on 0x" + Long.toHexString(pfn));
        }
    }

    /** Marks a frame reserved and pinned (the zero page): put_page never frees it. */
    public void reserve(long pfn) {
        setFlags(pfn, PG_RESERVED);
    }

    // ---- page-table pages (pagetable_pte_ctor / dtor: the split PTE lock lives with the page) ----

    public void pgtableCtor(long pfn) {
        setFlags(pfn, PG_PGTABLE);
        ptl[(int) pfn] = new SpinLock(LockDep.PTE_LOCK, charge);
    }

    /**
     * The pre-split kernel's ptlock for a PTE table not yet visible to anyone: its mm's page_table_lock
     * ({@link PtlockSplit}). The table then shares that lock with every other table of the mm.
     */
    void sharePtlock(long pfn, SpinLock pageTableLock) {
        ptl[(int) pfn] = pageTableLock;
    }

    public void pgtableDtor(long pfn) {
        ptl[(int) pfn] = null;
        clearFlags(pfn, PG_PGTABLE | PG_PTE_TABLE);
    }

    /**
     * ptlock_ptr(page) or null when {@code pfn} is not a page table (any more). Each pgtableCtor makes a
     * new lock, so a table freed and allocated again at the same pfn has a lock of a different identity:
     * a thread that picked the old one up before the free sees the difference after locking it.
     */
    SpinLock ptlockOrNull(long pfn) {
        return ptl[(int) pfn];
    }

    /** ptlock_ptr(page): the lock of a page-table page. */
    public SpinLock ptlock(long pfn) {
        SpinLock l = ptl[(int) pfn];
        if (l == null) {
            throw new IllegalStateException("pfn 0x" + Long.toHexString(pfn) + " is not a page table");
        }
        return l;
    }

    public long pageTablePages() {
        long n = 0;
        synchronized (zoneLock) {
            for (int f : flags) {
                if ((f & PG_PGTABLE) != 0) {
                    n++;
                }
            }
        }
        return n;
    }
}
