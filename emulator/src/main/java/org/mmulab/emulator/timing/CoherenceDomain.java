package org.mmulab.emulator.timing;

import java.util.ArrayList;
import java.util.List;

/**
 * The vCPUs of one machine under {@code --timing cycle} with more than one vCPU: one last-level cache
 * shared by all of them and line-granular coherence between their private L1I/L1D/L2s, as on a CCX or
 * a client die (AMD 58455: the L3 is shared by the cores of a CCX; Intel's optimization manual: the LLC
 * is shared by the cores of a die). A store (guest or kernel) by one vCPU invalidates the line in every
 * other vCPU's private caches (the write-invalidate step of MESI/MOESI); when another vCPU held it, the
 * store pays a snoop: the preset's core-to-core line transfer ({@link TimingModel#lockHandoff}, the same
 * physical event as a contended lock hand-off). Later reads by the others miss their private levels and
 * are served by the shared LLC, which is inclusive, so it still holds the line.
 *
 * <p>Capacity: the presets give one core's LLC share; the shared LLC is that share times the vCPU count
 * rounded down to a power of two and capped at 8 (a Zen CCD's 8 cores; the set count must stay a power of
 * two), with the share's associativity.
 *
 * <p>Each private line is Modified, Shared or Invalid (MSI, tracked as presence plus a dirty bit in
 * {@link CacheLevel}): a store leaves the writer's L1D and L2 copies Modified and every other copy Invalid;
 * a read by another vCPU that misses its private levels takes the Modified copy — a cache-to-cache
 * transfer charged the same core-to-core latency instead of the LLC's ({@link #takeDirty}) — and both
 * copies are Shared after it. A Modified line evicted from the writer's L2 is written back and clean.
 * Simplification, stated: bulk kernel work (zeroing, copying) fills lines without invalidating others or
 * marking them Modified. Under {@code --deterministic} one vCPU runs at a
 * time, so every access, invalidation and charge happens in one order per seed; in parallel mode the
 * vCPU threads update the shared tags without locks (timing state only, never guest-visible: a race can
 * only misplace an LRU stamp or a line, not crash or change guest results).
 */
public final class CoherenceDomain {
    /** Most LLC shares pooled: the cores of one Zen CCD. */
    public static final int MAX_SHARES = 8;

    private final TimingModel model;
    private final CacheLevel llc;
    private final List<CacheHierarchy> members = new ArrayList<>();
    private final int snoopLatency;

    public CoherenceDomain(TimingModel model, int vcpus) {
        if (vcpus < 2) {
            throw new IllegalArgumentException("a coherence domain needs at least two vCPUs: " + vcpus);
        }
        this.model = model;
        int shares = Integer.highestOneBit(Math.min(vcpus, MAX_SHARES));
        TimingModel.CacheGeometry g = model.llc();
        this.llc = new CacheLevel("LLC", g.sizeBytes() * shares, g.ways(), g.latency(), g.hashedIndex());
        this.snoopLatency = model.lockHandoff();
    }

    /** A new vCPU's hierarchy: its own L1I, L1D and L2, this domain's LLC. */
    public CacheHierarchy join() {
        CacheHierarchy h = new CacheHierarchy(model.l1i().build("L1I"), model.l1d().build("L1D"), model.l2().build("L2"), llc,
                model.memoryLatency(), this, members.size(), model.prefetch());
        members.add(h);
        return h;
    }

    public CacheLevel llc() {
        return llc;
    }

    public int snoopLatency() {
        return snoopLatency;
    }

    /**
     * Member {@code writer} stores to the line holding {@code pa}: every other member's private copies are
     * invalidated. Returns true when at least one held it (the store pays a snoop).
     */
    /**
     * Member {@code reader} reads the line holding {@code pa} after missing its private levels: a member that
     * holds it Modified supplies it and keeps it Shared. True when one did (a core-to-core transfer).
     */
    boolean takeDirty(int reader, long pa) {
        boolean dirty = false;
        for (int i = 0, n = members.size(); i < n; i++) {
            if (i != reader) {
                dirty |= members.get(i).supplyDirty(pa);
            }
        }
        return dirty;
    }

    boolean invalidateOthers(int writer, long pa) {
        boolean held = false;
        for (int i = 0, n = members.size(); i < n; i++) {
            if (i != writer) {
                held |= members.get(i).invalidatePrivate(pa);
            }
        }
        return held;
    }
}
