package org.mmulab.emulator.cpu;

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
 * <p>The index is a two-level array (512 frames per leaf) so lookups allocate nothing.
 */
public final class DecodedCodeCache implements PhysicalMemory.CodeWriteListener {
    private static final int LEAF_SHIFT = 9;
    private static final int LEAF_MASK = (1 << LEAF_SHIFT) - 1;

    private final PhysicalMemory mem;
    private final DecodedPage[][] leaves;
    /** Pages decoded since creation and pages dropped by writes (statistics, not synchronized). */
    public long pagesDecoded, pagesInvalidated;

    /** Creates the cache for {@code mem} and installs it as that memory's code-write listener. */
    public DecodedCodeCache(PhysicalMemory mem) {
        this.mem = mem;
        long frames = mem.frameCount();
        this.leaves = new DecodedPage[(int) ((frames + LEAF_MASK) >>> LEAF_SHIFT)][];
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

    /** The decoded page for {@code pfn}, creating (and marking the frame) when absent. Null outside RAM. */
    DecodedPage page(long pfn) {
        if (pfn < 0 || pfn >= mem.frameCount()) {
            return null;
        }
        DecodedPage[] leaf = leaves[(int) (pfn >>> LEAF_SHIFT)];
        if (leaf != null) {
            DecodedPage p = leaf[(int) (pfn & LEAF_MASK)];
            if (p != null && p.valid) {
                return p;
            }
        }
        return create(pfn);
    }

    private synchronized DecodedPage create(long pfn) {
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
        leaf[(int) (pfn & LEAF_MASK)] = p;
        pagesDecoded++;
        return p;
    }

    @Override
    public void codeFrameWritten(long pfn) {
        DecodedPage[] leaf = leaves[(int) (pfn >>> LEAF_SHIFT)];
        if (leaf == null) {
            return;
        }
        DecodedPage p = leaf[(int) (pfn & LEAF_MASK)];
        if (p != null) {
            p.valid = false;
            leaf[(int) (pfn & LEAF_MASK)] = null;
            pagesInvalidated++;
        }
    }

    /** Whether decoded code for {@code pfn} is currently cached (tests, statistics). */
    public boolean isCached(long pfn) {
        DecodedPage[] leaf = leaves[(int) (pfn >>> LEAF_SHIFT)];
        return leaf != null && leaf[(int) (pfn & LEAF_MASK)] != null;
    }
}
