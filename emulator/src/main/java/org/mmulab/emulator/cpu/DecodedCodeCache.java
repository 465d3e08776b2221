package org.mmulab.emulator.cpu;

import java.lang.invoke.VarHandle;

import org.mmulab.emulator.memory.PhysicalMemory;

/**
 * Decoded instructions per physical code frame, shared by every vCPU on one {@link PhysicalMemory}
 * (that memory has a single code-write listener, which this cache installs).
 *
 * <p>Protocol: a frame is marked with {@link PhysicalMemory#markCodeFrame} <em>before</em> any byte of
 * it is decoded, so a write that lands after the mark always reaches {@link #codeFrameWritten}, which
 * invalidates the decoded page and forgets it. The next fetch from the frame decodes afresh. Lookups
 * are by physical frame number, obtained from an instruction-fetch translation, so translation and
 * permissions are always checked by the MMU before cached code is used.
 *
 * <p>The index is a two-level array (512 frames per leaf) so lookups allocate nothing. It is kept per
 * decode mode (64-bit, 32-bit): the same bytes decode differently in the two modes (REX vs INC/DEC,
 * address size), so a frame executed in both modes has one decoded page per mode; a write drops both.
 */
public final class DecodedCodeCache implements PhysicalMemory.CodeWriteListener {
    private static final int LEAF_SHIFT = 9;
    private static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;

    private final PhysicalMemory mem;
    /** Decode modes: index into {@link #modes}. */
    static final int MODE64 = 0, MODE32 = 1;
    private final DecodedPage[][][] modes;
    /** Pages decoded since creation and pages dropped by writes (statistics, not synchronized). */
    public long pagesDecoded, pagesInvalidated;

    /** Creates the cache for {@code mem} and installs it as that memory's code-write listener. */
    public DecodedCodeCache(PhysicalMemory mem) {
        this.mem = mem;
        long frames = mem.frameCount();
        int n = (int) ((frames + LEAF_MASK) >>> LEAF_SHIFT);
        this.modes = new DecodedPage[][][] {new DecodedPage[n][], new DecodedPage[n][]};
        mem.setCodeWriteListener(this);
    }

    /**
     * The cache shared by every interpreter on {@code mem}: the one already installed as its code-write
     * listener, or a new one.
     */
    public static DecodedCodeCache forMemory(PhysicalMemory mem) {
        synchronized (mem) {
            if (mem.codeWriteListener() instanceof DecodedCodeCache c && c.mem == mem) {
                return c;
            }
            return new DecodedCodeCache(mem);
        }
    }

    public PhysicalMemory memory() {
        return mem;
    }

    /** The 64-bit-mode decoded page for {@code pfn} (see {@link #page(long, int)}). */
    DecodedPage page(long pfn) {
        return page(pfn, MODE64);
    }

    /**
     * The decoded page for {@code pfn} in decode mode {@code mode}, creating (and marking the frame) when
     * absent. Null outside RAM.
     */
    DecodedPage page(long pfn, int mode) {
        if (pfn < 0 || pfn >= mem.frameCount()) {
            return null;
        }
        DecodedPage[][] leaves = modes[mode];
        DecodedPage[] leaf = leaves[(int) (pfn >>> LEAF_SHIFT)];
        if (leaf != null) {
            DecodedPage p = leaf[(int) (pfn & LEAF_MASK)];
            if (p != null && p.valid) {
                return p;
            }
        }
        return create(pfn, leaves);
    }

    private synchronized DecodedPage create(long pfn, DecodedPage[][] leaves) {
        int li = (int) (pfn >>> LEAF_SHIFT);
        DecodedPage[] leaf = leaves[li];
        if (leaf == null) {
            leaf = new DecodedPage[1 << LEAF_SHIFT];
            leaves[li] = leaf;
        }
        DecodedPage p = leaf[(int) (pfn & LEAF_MASK)];
        if (p != null && p.valid) {
            return p;
        }
        mem.markCodeFrame(pfn); // mark first: a write after this point invalidates the new page
        p = new DecodedPage(pfn, 64);
        p.snapshot = new byte[DecodedPage.PAGE];
        mem.readBytes(pfn << 12, p.snapshot, 0, DecodedPage.PAGE);
        leaf[(int) (pfn & LEAF_MASK)] = p;
        pagesDecoded++;
        return p;
    }

    @Override
    public void codeFrameWritten(long pfn) {
        for (DecodedPage[][] leaves : modes) {
            DecodedPage[] leaf = leaves[(int) (pfn >>> LEAF_SHIFT)];
            if (leaf == null) {
                continue;
            }
            DecodedPage p = leaf[(int) (pfn & LEAF_MASK)];
            if (p != null) {
                p.valid = false;
                leaf[(int) (pfn & LEAF_MASK)] = null;
                pagesInvalidated++;
            }
        }
    }

    /**
     * A serializing instruction (CPUID) on some vCPU: after a full fence, every decoded page whose frame
     * no longer holds the bytes it had when it was marked is dropped, so code another vCPU modified is
     * decoded afresh (cross-modifying code, SDM Vol. 3A §8.1.3: the writer stores the code, then a flag;
     * the executor waits for the flag, executes a serializing instruction, then runs the new code).
     *
     * <p>Why this is needed on top of the write-side check: a writer's store and its opaque read of the
     * frame's code bit are not ordered (StoreLoad), so a store racing with another vCPU's first marking
     * of the frame can miss the mark while the marking vCPU decodes the old bytes. Closing that window on
     * the writer's side would cost a full fence on every guest store; the SDM only promises the new code
     * after a serializing instruction, so the check is made there, where it is rare. The check compares
     * every cached page with memory (a few microseconds per hundred pages).
     */
    public void serialize() {
        VarHandle.fullFence();
        for (DecodedPage[][] leaves : modes) {
            for (DecodedPage[] leaf : leaves) {
                if (leaf == null) {
                    continue;
                }
                for (DecodedPage p : leaf) {
                    if (p != null && p.valid && p.snapshot != null && !mem.frameEquals(p.pfn << 12, p.snapshot)) {
                        codeFrameWritten(p.pfn);
                    }
                }
            }
        }
    }

    /** Whether decoded code for {@code pfn} is currently cached (tests, statistics). */
    public boolean isCached(long pfn) {
        return isCached(pfn, MODE64) || isCached(pfn, MODE32);
    }

    /** Whether decoded code for {@code pfn} in decode mode {@code mode} is currently cached. */
    boolean isCached(long pfn, int mode) {
        DecodedPage[] leaf = modes[mode][(int) (pfn >>> LEAF_SHIFT)];
        return leaf != null && leaf[(int) (pfn & LEAF_MASK)] != null;
    }
}
