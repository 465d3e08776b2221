package org.mmulab.bench;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.ExecFormatException;
import org.mmulab.kernel.Kernel;
import org.mmulab.kernel.KernelConfig;
import org.mmulab.kernel.mm.Mmap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The anonymous-memory fault path as the vCPU run loop drives it: a user write through the MMU raises
 * #PF, the kernel's trap entry ({@code Kernel.exception}, arch/x86/mm/fault.c) runs handle_mm_fault
 * (mm/memory.c do_anonymous_page), and the access is retried. {@code anonFault} measures faults alone
 * (the region is remapped outside the timed part); {@code anonFaultAndZap} includes munmap (zap, TLB
 * flush, free_pgtables) and mmap amortised per page, like will-it-scale's page_fault1 loop;
 * {@code sparseMmapMunmap} is one mmap+munmap of a never-touched PROT_NONE range (1 TiB under 4-level
 * paging, 2 GiB under PAE: an i386 process has no more), seed 003's "unmap 1 TiB in microseconds";
 * {@code cowFault} is the write fault after fork: the region is faulted in and the mm forked
 * ({@link org.mmulab.kernel.mm.Fork#dupMmap}) outside the timing, so every timed write finds its page
 * write-protected and shared with the child and copies it (do_wp_page -> wp_page_copy, with the
 * ptep_clear_flush of the old translation).
 *
 * <p>{@code paging} selects the machine: {@code 4level} boots the x86_64 image, {@code pae} the i386
 * image under a 32-bit PAE kernel ({@link KernelConfig#withPaging}). Run from the repository root, or
 * pass {@code -p images=/path/to/test-images/bin}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FaultPathBench {
    private static final int PAGES = 4096; // 16 MiB per region

    /** A booted process with one anonymous region mapped into its mm. */
    @State(Scope.Thread)
    public static class Process {
        /** The paging mode of the machine: 4level (x86_64 image) or pae (i386 image, 3-level tables). */
        @Param({"4level", "pae"})
        public String paging;

        /** Directory holding x86_64/ and i386/ images; any static image only provides a process to map into. */
        @Param({"test-images/bin"})
        public String images;

        Kernel kernel;
        Vcpu cpu;
        long base;
        int next;
        long sparseLen;

        @Setup(Level.Trial)
        public void boot() throws IOException, ExecFormatException {
            KernelConfig.PagingMode mode = KernelConfig.PagingMode.parse(paging);
            String image = images + (mode == KernelConfig.PagingMode.PAE ? "/i386/hello" : "/x86_64/hello");
            Machine machine = new Machine(512L << 20, 1);
            kernel = new Kernel(machine, new KernelConfig(new ByteArrayInputStream(new byte[0]),
                    OutputStream.nullOutputStream(), OutputStream.nullOutputStream()).withPaging(mode));
            kernel.exec(Files.readAllBytes(Path.of(image)), image, List.of(image), List.of());
            sparseLen = mode == KernelConfig.PagingMode.PAE ? 2L << 30 : 1L << 40;
            cpu = machine.vcpu(0);
            map();
        }

        void map() {
            base = kernel.mmap().doMmap(kernel.mm(), null, 0, (long) PAGES << 12, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS, 0, null);
            if (base < 0) {
                throw new IllegalStateException("mmap failed: " + base);
            }
            next = 0;
        }

        void remap() {
            int r = kernel.mmap().doMunmap(kernel.mm(), base, (long) PAGES << 12);
            if (r != 0) {
                throw new IllegalStateException("munmap failed: " + r);
            }
            map();
        }

        /** One user write to {@code va}: the #PF goes to the kernel's trap entry, then the write retries. */
        long write(long va) {
            try {
                return cpu.mmu().translate(va, PfErr.U | PfErr.W);
            } catch (GuestFault f) {
                cpu.state.exceptionVector = -1;
                kernel.exception(cpu, Vectors.PF, cpu.state.exceptionErrorCode);
                return cpu.mmu().translate(va, PfErr.U | PfErr.W);
            }
        }
    }

    /** A process whose region is remapped, untimed, before every invocation. */
    @State(Scope.Thread)
    public static class FreshRegion extends Process {
        @Setup(Level.Invocation)
        public void fresh() {
            if (next != 0) {
                remap();
            }
        }
    }

    /**
     * A process whose region is faulted in and then forked, untimed, before every invocation: each page is
     * mapped read-only by parent and child. The previous invocation's child is torn down first.
     */
    @State(Scope.Thread)
    public static class ForkedRegion extends Process {
        org.mmulab.kernel.mm.MmStruct child;

        @Setup(Level.Invocation)
        public void forked() {
            if (child != null) {
                kernel.memory().exitMmap(child);
                child = null;
            }
            remap();
            for (int i = 0; i < PAGES; i++) {
                write(base + ((long) i << 12));
            }
            child = org.mmulab.kernel.mm.Fork.dupMmap(kernel.memory(), kernel.mm());
            if (child == null) {
                throw new IllegalStateException("fork: out of memory");
            }
        }
    }

    /** The COW fault: one write per page of a region shared with a forked child (wp_page_copy). */
    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long cowFault(ForkedRegion p) {
        long sum = 0;
        for (int i = 0; i < PAGES; i++) {
            sum += p.write(p.base + ((long) i << 12));
        }
        return sum;
    }

    /** Faults a whole 16 MiB region per invocation; the remap happens in the untimed setup. */
    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long anonFault(FreshRegion p) {
        long sum = 0;
        for (int i = 0; i < PAGES; i++) {
            sum += p.write(p.base + ((long) i << 12));
        }
        p.next = PAGES;
        return sum;
    }

    /** One page per call; every 4096 pages the region is unmapped and mapped again inside the timing. */
    @Benchmark
    public long anonFaultAndZap(Process p) {
        if (p.next == PAGES) {
            p.remap();
        }
        return p.write(p.base + ((long) p.next++ << 12));
    }

    /** mmap + munmap of a never-touched PROT_NONE range: 1 TiB (4level) or 2 GiB (pae). */
    @Benchmark
    public long sparseMmapMunmap(Process p) {
        long a = p.kernel.mmap().doMmap(p.kernel.mm(), null, 0, p.sparseLen, Mmap.PROT_NONE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_NORESERVE, 0, null);
        if (a < 0) {
            throw new IllegalStateException("mmap failed: " + a);
        }
        int r = p.kernel.mmap().doMunmap(p.kernel.mm(), a, p.sparseLen);
        if (r != 0) {
            throw new IllegalStateException("munmap failed: " + r);
        }
        return a;
    }
}
