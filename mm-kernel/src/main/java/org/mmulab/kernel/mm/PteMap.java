package org.mmulab.kernel.mm;

/** A mapped and (for the _lock variant) locked PTE: the entry's address, its table's lock, the PMD seen. */
public record PteMap(long ptep, SpinLock ptl, long pmdval) {
    public void unlock() {
        ptl.unlock();
    }
}
