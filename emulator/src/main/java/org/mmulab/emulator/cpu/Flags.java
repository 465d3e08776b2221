package org.mmulab.emulator.cpu;

/**
 * RFLAGS storage. The interpreter owns the representation (it may compute the arithmetic flags
 * lazily from the last result); everyone else sees a plain 64-bit value through get/set.
 */
public final class Flags {
    private long value = CpuState.RFLAGS_FIXED | CpuState.IF;

    public long get() {
        return value;
    }

    public void set(long v) {
        value = v | CpuState.RFLAGS_FIXED;
    }
}
