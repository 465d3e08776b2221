package org.mmulab.kernel.mm;

/**
 * struct vm_area_struct (include/linux/mm_types.h) with the vm_flags of include/linux/mm.h. A VMA
 * covers [start, end), page aligned; {@code pgoff} is the page offset into {@code file} (or, for
 * anonymous memory, start >> PAGE_SHIFT as Linux sets it). Mutated only under the mm's mmap write lock.
 */
public final class VmArea {
    public static final int VM_READ = 0x1, VM_WRITE = 0x2, VM_EXEC = 0x4, VM_SHARED = 0x8;
    public static final int VM_MAYREAD = 0x10, VM_MAYWRITE = 0x20, VM_MAYEXEC = 0x40, VM_MAYSHARE = 0x80;
    public static final int VM_GROWSDOWN = 0x100, VM_PFNMAP = 0x400, VM_LOCKED = 0x2000, VM_IO = 0x4000;
    public static final int VM_DONTEXPAND = 0x40000, VM_LOCKONFAULT = 0x80000, VM_MIXEDMAP = 0x10000000;
    /** VM_SPECIAL: mappings mremap may not expand and mlock/madvise leave alone. */
    public static final int VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
    public static final int VM_SEQ_READ = 0x8000, VM_RAND_READ = 0x10000, VM_DONTCOPY = 0x20000,
            VM_ACCOUNT = 0x100000, VM_NORESERVE = 0x200000, VM_DONTDUMP = 0x4000000;
    public static final int VM_HUGEPAGE = 0x20000000, VM_NOHUGEPAGE = 0x40000000;
    public static final int VM_WIPEONFORK = 0x02000000;
    /** VM_SOFTDIRTY: the whole VMA counts as soft-dirty (new since the last clear_refs "4"). */
    public static final int VM_SOFTDIRTY = 0x08000000;
    /** Bits that must match for two neighbours to merge (everything but the "soft" ones). */
    static final int VM_MERGE_IGNORE = 0;

    public final MmStruct mm;
    long start;
    long end;
    int flags;
    long pgoff;
    /** The mapped object: an ELF image's page cache or a shmem object; null for anonymous memory. */
    final AddressSpace file;
    /** /proc/pid/maps name hint: "[heap]", "[stack]", or null. */
    String name;
    /** Not in its mm's VMA tree (removed by munmap, merge or exit): a vmacache hit on it is stale. */
    boolean detached;

    VmArea(MmStruct mm, long start, long end, int flags, long pgoff, AddressSpace file) {
        this.mm = mm;
        this.start = start;
        this.end = end;
        this.flags = flags;
        this.pgoff = pgoff;
        this.file = file;
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }

    public int flags() {
        return flags;
    }

    public long pgoff() {
        return pgoff;
    }

    public AddressSpace file() {
        return file;
    }

    public String name() {
        return name;
    }

    public boolean isAnonymous() {
        return file == null;
    }

    /** vma_is_accessible. */
    public boolean accessible() {
        return (flags & (VM_READ | VM_WRITE | VM_EXEC)) != 0;
    }

    /** vm_page_prot. */
    public long pageProt() {
        return PteBits.pageProt(flags);
    }

    /** linear_page_index. */
    public long pageIndex(long addr) {
        return ((addr - start) >>> 12) + pgoff;
    }

    long pages() {
        return (end - start) >>> 12;
    }

    /** The part of /proc/pid/maps describing this VMA. */
    @Override
    public String toString() {
        return String.format("%012x-%012x %c%c%c%c %08x%s", start, end, (flags & VM_READ) != 0 ? 'r' : '-',
                (flags & VM_WRITE) != 0 ? 'w' : '-', (flags & VM_EXEC) != 0 ? 'x' : '-',
                (flags & VM_SHARED) != 0 ? 's' : 'p', file == null ? 0 : pgoff << 12,
                name != null ? " " + name : file != null ? " " + file.name() : "");
    }
}
