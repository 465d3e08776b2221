package org.mmulab.emulator.machine;

/**
 * The places where, under {@link Machine.Scheduling#DETERMINISTIC}, the vCPU holding the baton may hand
 * it to another vCPU ({@link Machine#yieldPoint}). Every point where the outcome of a race between
 * vCPUs is decided is one of these: kernel lock operations and page-table word accesses (the kernel
 * calls them), the page walker's loads and its locked A/D update (SDM Vol. 3A §4.8: the walker's
 * accesses are ordinary loads and a locked RMW that other processors' stores race with), IPI
 * send/acknowledge, the instruction quantum and idling. The race explorer logs schedules as
 * "vCPU i did KIND at yield k", so kinds are never removed, only added.
 */
public enum YieldKind {
    LOCK_ACQUIRE,
    LOCK_RELEASE,
    LOCK_SPIN,
    PTE_READ,
    PTE_WRITE,
    PTE_READ_LO,
    PTE_READ_HI,
    PTE_WRITE_LO,
    PTE_WRITE_HI,
    PMD_READ_LOCKLESS,
    /** The page walker loads a paging-structure entry (each level). */
    WALKER_LOAD,
    /** The page walker's locked compare-and-exchange that sets an entry's Accessed/Dirty bits. */
    AD_CAS,
    IPI_SEND,
    IPI_ACK,
    TLB_SHOOTDOWN_BEFORE,
    TLB_SHOOTDOWN_AFTER,
    MMU_GATHER_FLUSH,
    /** The instruction quantum ran out ({@link Machine#deterministicQuantum()} instructions). */
    QUANTUM,
    IDLE,
    BLOCK,
    WAKE,
    /** A vCPU's run loop starts (the first hand-over of a run). */
    START,
    /** A vCPU's run loop ended: it gives the baton away for good. */
    EXIT
}
