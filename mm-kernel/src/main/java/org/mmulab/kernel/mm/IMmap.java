package org.mmulab.kernel.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which VMAs map an object: {@code mapping->i_mmap} and {@code i_mmap_writable} (include/linux/fs.h;
 * mm/mmap.c __vma_link_file and __remove_shared_vm_struct, mm/interval_tree.c, mapping_map_writable and
 * mapping_deny_writable). Split from {@link AddressSpace}, which owns the page cache (i_pages), the
 * i_mmap_rwsem guarding this, and one of these.
 */
public final class IMmap {
    /** The owning {@link AddressSpace#iMmapRwsem} (see there for who takes it and its lock order). */
    private final RwSemaphore rwsem;
    /**
     * {@code mapping->i_mmap}: every VMA of every mm that maps this object, in the order Linux's interval
     * tree (mm/interval_tree.c vma_interval_tree, keyed by vm_pgoff) walks them: by pgoff, a VMA inserted
     * with an equal pgoff after those already there, and copy_vma's unmerged new VMA right after the one it
     * copies ({@link #linkVmaAfterLocked}, vma_interval_tree_insert_after). The order is what makes a
     * concurrent mremap and truncate race (seed 004, {@link MoveTables}). Changed only with
     * {@link #rwsem} held for writing; so are the bounds of a linked VMA, which lets a walker holding
     * it for reading use them without the VMA's mmap lock ({@link Truncate}).
     */
    private final ArrayList<VmArea> vmas = new ArrayList<>();
    /**
     * i_mmap_writable: the number of shared VMAs that may write the object (VM_SHARED|VM_MAYWRITE) plus
     * mmaps making one; negative once F_SEAL_WRITE denied them ({@link #denyWritable}).
     */
    private final AtomicInteger writable = new AtomicInteger();

    /** vma_link's __vma_link_file: {@code v} maps this object from now on. */
    void linkVma(VmArea v) {
        rwsem.downWrite();
        try {
            linkVmaLocked(v);
        } finally {
            rwsem.upWrite();
        }
    }

    /** unlink_file_vma: before the VMA's page tables can be freed. */
    void unlinkVma(VmArea v) {
        rwsem.downWrite();
        try {
            unlinkVmaLocked(v);
        } finally {
            rwsem.upWrite();
        }
    }

    /** __vma_link_file with {@link #rwsem} already held for writing (mapping_allow_writable too). */
    void linkVmaLocked(VmArea v) {
        if (indexOf(v) >= 0) {
            return;
        }
        // vma_interval_tree_insert: left of a node only if the key is smaller, so equal keys go after
        int i = vmas.size();
        while (i > 0 && Long.compareUnsigned(vmas.get(i - 1).pgoff, v.pgoff) > 0) {
            i--;
        }
        vmas.add(i, v);
        countWritable(v);
    }

    /**
     * vma_interval_tree_insert_after with {@link #rwsem} held for writing: copy_vma's new VMA {@code v}
     * (same pgoff as {@code prev}) goes right after {@code prev}, so a walk meets the old VMA first and a
     * move of PTEs from prev to v cannot get ahead of a truncate walking them (need_rmap_locks false).
     */
    void linkVmaAfterLocked(VmArea prev, VmArea v) {
        int p = indexOf(prev);
        if (p < 0 || indexOf(v) >= 0) {
            linkVmaLocked(v);
            return;
        }
        vmas.add(p + 1, v);
        countWritable(v);
    }

    private void countWritable(VmArea v) {
        if (sharedMaywrite(v.flags)) {
            writable.incrementAndGet();
        }
    }

    /** Position of {@code v} (by identity) in i_mmap, -1 when not linked. */
    private int indexOf(VmArea v) {
        for (int i = 0; i < vmas.size(); i++) {
            if (vmas.get(i) == v) {
                return i;
            }
        }
        return -1;
    }

    /** __remove_shared_vm_struct with {@link #rwsem} already held for writing (mapping_unmap_writable). */
    void unlinkVmaLocked(VmArea v) {
        int i = indexOf(v);
        if (i >= 0) {
            vmas.remove(i);
            if (sharedMaywrite(v.flags)) {
                writable.decrementAndGet();
            }
        }
    }

    /** is_shared_maywrite: a VMA through which the object can be written now or after mprotect. */
    public static boolean sharedMaywrite(int vmFlags) {
        return (vmFlags & (VmArea.VM_SHARED | VmArea.VM_MAYWRITE)) == (VmArea.VM_SHARED | VmArea.VM_MAYWRITE);
    }

    /**
     * mapping_map_writable: mmap_region's hold on the object while it makes a shared writable VMA;
     * false (EPERM) once F_SEAL_WRITE denied writable mappings. Paired with {@link #unmapWritable}.
     */
    public boolean mapWritable() {
        return writable.getAndUpdate(n -> n < 0 ? n : n + 1) >= 0;
    }

    /** mapping_unmap_writable. */
    public void unmapWritable() {
        writable.decrementAndGet();
    }

    /**
     * mapping_deny_writable (F_SEAL_WRITE): succeeds only while no shared writable VMA or mmap in progress
     * holds the object (EBUSY otherwise), and from then on {@link #mapWritable} fails.
     */
    public boolean denyWritable() {
        return writable.getAndUpdate(n -> n > 0 ? n : n - 1) <= 0;
    }

    /** A snapshot of i_mmap in walk order (pgoff, then insertion); the caller holds {@link #rwsem}. */
    List<VmArea> mappings() {
        return new ArrayList<>(vmas);
    }

    IMmap(RwSemaphore rwsem) {
        this.rwsem = rwsem;
    }
}
