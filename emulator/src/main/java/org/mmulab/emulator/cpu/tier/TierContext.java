package org.mmulab.emulator.cpu.tier;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Flags;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.timing.VcpuClock;
import org.mmulab.emulator.timing.WalkTiming;

/**
 * Per-vCPU inputs and outputs of a {@link CompiledBlock} call: no allocation per call, the block reads
 * the guest registers' array, lazy flags and MMU from here and writes its exit here.
 */
public final class TierContext {
    public final long[] r;
    public final Flags fl;
    public final Mmu mmu;
    /**
     * The vCPU state: under --timing cycle a block stores each memory-accessing instruction's address in
     * {@code rip} before the access, as the interpreter has it while the instruction executes (the data
     * prefetcher, timing.StridePrefetcher, trains on the load's instruction address).
     */
    public final CpuState state;
    /** The interpreter (typed Object: blocks are defined in its package and read its stop/interrupt requests). */
    public final Object interp;
    /** The code frame being run and the virtual address of its page (blocks are position independent). */
    public CodeSource page;
    public long vbase;
    /** Guest accesses may yield to another vCPU (deterministic scheduling): see {@link Tier}'s poll rule. */
    public boolean strictPolls;
    /** Out: next RIP (or the faulting instruction's RIP when {@link #fault}). */
    public long rip;
    /** Out: the last block raised a guest exception (vector and error code are in the CPU state). */
    public boolean fault;
    /** Under --timing cycle (else null): the vCPU's clock and walk timing, which cycle-mode blocks charge. */
    public VcpuClock clock;
    public WalkTiming walk;
    /** Out, with {@link #fault} under --timing cycle: clock + walk cycles when the faulting instruction issued. */
    public long issueCycles;

    public TierContext(CpuState state, long[] r, Flags fl, Mmu mmu, Object interp) {
        this.state = state;
        this.r = r;
        this.fl = fl;
        this.mmu = mmu;
        this.interp = interp;
    }
}
