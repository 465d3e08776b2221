package org.mmulab.bench;

import java.util.concurrent.TimeUnit;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.kernel.mm.FrameTable;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.Mmap;
import org.mmulab.kernel.mm.Mremap;
import org.mmulab.kernel.mm.PaePgtable;
import org.mmulab.kernel.mm.X86_64Pgtable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of a 16 MiB anonymous region whose every page is present, back
 * and forth between two addresses, on the mm alone (mm/mremap.c move_page_tables): {@code aligned}
 * moves between 2 MiB-aligned addresses, so whole PTE tables move (8 PMD entries per move);
 * {@code misaligned} shifts the destination by one page, so all 4096 PTEs move one by one under the two
 * PTE locks. The difference is what moving tables instead of entries saves.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class MremapBench {
    static final long LEN = 16L << 20, A = 0x4000_0000L, B = 0x6000_0000L;

    @Param({"4level", "pae"})
    public String paging;

    @Param({"aligned", "misaligned"})
    public String placement;

    Mmap mmap;
    MmStruct mm;
    long at, other;

    @Setup(Level.Trial)
    public void setUp() {
        PhysicalMemory mem = new PhysicalMemory(64L << 20);
        Memory memory = new Memory(mem, new FrameTable(mem),
                paging.equals("pae") ? new PaePgtable(mem) : new X86_64Pgtable(mem));
        mmap = new Mmap(memory);
        mm = memory.mmAlloc();
        int flags = Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED | Mmap.MAP_POPULATE;
        if (mmap.doMmap(mm, null, A, LEN, Mmap.PROT_READ | Mmap.PROT_WRITE, flags, 0, null) != A) {
            throw new IllegalStateException("mmap");
        }
        at = A;
        other = placement.equals("aligned") ? B : B + 4096;
    }

    @Benchmark
    public long moveSixteenMiB() {
        long r = mmap.mremap(mm, at, LEN, LEN, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, other);
        if (r != other) {
            throw new IllegalStateException("mremap: " + r);
        }
        other = at;
        at = r;
        return r;
    }
}
