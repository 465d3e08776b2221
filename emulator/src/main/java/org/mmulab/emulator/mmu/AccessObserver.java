package org.mmulab.emulator.mmu;

/**
 * Sees every user-mode data access the interpreter makes through the MMU's accessors, before the
 * access happens (used for debug watchpoints). Null when nobody watches, so the cost is one field
 * load per access.
 */
@FunctionalInterface
public interface AccessObserver {
    void access(long va, int len, boolean write);
}
