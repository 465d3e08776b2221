package org.mmulab.bench;

import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Exit;
import org.mmulab.emulator.cpu.Interpreter;
import org.mmulab.emulator.cpu.tier.Engine;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.Pte;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Interpreter throughput on a fixed instruction mix, in guest instructions per microsecond (= guest
 * MIPS): one operation is one retired guest instruction ({@link OperationsPerInvocation}), so JMH's
 * {@code ops/us} column reads directly as millions of instructions per second. The [bench] target is
 * 150 MIPS on {@code cpuLoop} under fast timing.
 *
 * <p>Each invocation is one {@link Interpreter#run} call with the budget of a {@code Vcpu} quantum
 * (65,536 instructions), the way the machine's run loop drives the interpreter; the guest code is an
 * endless loop, so every call ends on the budget. {@code mode} picks 64-bit long mode under 4-level
 * paging or 32-bit protected mode under PAE paging (what i386 images run in by default); the two
 * programs are the same source assembled with {@code as --64} and {@code as --32}.
 *
 * <ul>
 * <li>{@code cpuLoop}: the shape gcc -O2 gives a fixed-count integer loop (register ALU, LEA, a shift,
 *     SUB/JNE); 7 instructions per iteration, no memory operands.</li>
 * <li>{@code memBranch}: loads and stores through the MMU fast path (scaled-index addressing), a
 *     memory read-modify-write, CALL/RET, PUSH/POP and a data-dependent conditional branch.</li>
 * </ul>
 * {@code engine} runs each program with the translation tier ({@code tier}, the default engine) or the
 * interpreter alone ({@code interp}); the tier compiles only 64-bit code, so mode 32 measures the
 * interpreter either way. Allocation per operation must be 0 B ({@code -prof gc}) for both engines: the
 * interpreter's hot loop and a compiled block's call allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class InterpBench {
    /** Instructions per invocation: one {@code Vcpu.QUANTUM}. */
    static final int BUDGET = 1 << 16;

    private static final long CODE = 0x40_0000L, DATA = 0x60_0000L, STACK = 0x7f_f000L;
    private static final int CPU_LOOP = 0x000, MEM_LOOP = 0x040, GUEST_LOOP = 0x080;

    /*
     * cpu_loop:                        (64-bit encoding shown; the 32-bit one uses e-registers)
     *   add  %rcx,%rax
     *   lea  (%rax,%rax,2),%rdx
     *   xor  %rdx,%rbx
     *   shr  $7,%rdx
     *   add  %rdx,%rsi
     *   sub  $1,%rcx
     *   jne  cpu_loop
     *   mov  $1000000000,%ecx          ; re-arm: the loop never ends
     *   jmp  cpu_loop
     * (padding to 0x40)
     * mem_loop:                        ; %rdi = DATA, a 256-entry array of words
     *   mov  -8(%rdi,%rcx,8),%rax
     *   add  %rax,%rbx
     *   xor  %rcx,%rax
     *   mov  %rax,-8(%rdi,%rcx,8)
     *   call func
     *   test $1,%bl
     *   je   1f
     *   add  %rbx,(%rdi)
     * 1:push %rbx
     *   pop  %rsi
     *   dec  %rcx
     *   jne  mem_loop
     *   mov  $256,%ecx
     *   jmp  mem_loop
     * func:
     *   add  %rax,%rdx
     *   ret
     * (padding to 0x80)
     * guest_loop:                      ; the body of test-images' cpu_loop.c (rotate, 3-operand IMUL)
     *   add  %rbx,%rax
     *   xor  %rax,%rbx
     *   rol  $7,%rax
     *   lea  3(%rax,%rbx,2),%rbx
     *   imul $33,%rax,%rax
     *   sub  %rbx,%rax
     *   dec  %rcx
     *   jnz  guest_loop
     *   mov  $1000000000,%ecx
     *   jmp  guest_loop
     */
    private static final String CPU64 = "4801c8488d14404831d348c1ea074801d64883e90175e9b900ca9a3bebe2";
    private static final String MEM64 = "488b44cff84801c34831c8488944cff8e816000000f6c301740348011f535e48ffc975dc"
            + "b900010000ebd54801c2c3";
    private static final String GUEST64 = "4801d84831c348c1c007488d5c5803486bc0214829d848ffc975e5b900ca9a3bebde";
    private static final String GUEST32 = "01d831c3c1c0078d5c58036bc02129d84975edb900ca9a3bebe6";
    private static final String CPU32 = "01c88d144031d3c1ea0701d683e90175efb900ca9a3bebe8";
    private static final String MEM32 = "8b448ffc01c331c889448ffce813000000f6c3017402011f535e4975e3b900010000ebdc"
            + "01c2c3";

    /** "64": long mode, 4-level paging; "32": 32-bit protected mode, PAE paging. */
    @Param({"64", "32"})
    public String mode;

    /** {@code --engine}: "tier" (hot blocks compiled to bytecode; 64-bit mode only) or "interp". */
    @Param({"tier", "interp"})
    public String engine;

    /** One machine per program, both set up (and warmed once) before any measurement. */
    private Guest cpuLoop, memLoop, guestLoop;

    @Setup
    public void setUp() {
        boolean m32 = mode.equals("32");
        Engine e = Engine.parse(engine);
        cpuLoop = new Guest(m32, CPU_LOOP, 1_000_000_000L, e);
        memLoop = new Guest(m32, MEM_LOOP, 256, e);
        guestLoop = new Guest(m32, GUEST_LOOP, 1_000_000_000L, e);
    }

    @Benchmark
    @OperationsPerInvocation(BUDGET)
    public long cpuLoop() {
        return cpuLoop.run();
    }

    @Benchmark
    @OperationsPerInvocation(BUDGET)
    public long memBranch() {
        return memLoop.run();
    }

    /** The loop of the guest {@code cpu_loop} image (what {@code mmulab bench} reports as its MIPS). */
    @Benchmark
    @OperationsPerInvocation(BUDGET)
    public long guestLoop() {
        return guestLoop.run();
    }

    /**
     * A quick probe outside JMH for a loaded machine: runs each program for {@code seconds} (default 5)
     * per mode and prints guest MIPS per second of wall time and per second of this thread's CPU time
     * (the latter is what other processes on a shared 2-core machine disturb least). Reported only.
     * Usage: {@code java -cp bench/target/benchmarks.jar org.mmulab.bench.InterpBench [seconds [64|32
     * [cpuLoop|memBranch|guestLoop]]]}; naming one mode and program keeps the JIT profile free of the others.
     */
    public static void main(String[] args) {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        java.lang.management.ThreadMXBean tmx = java.lang.management.ManagementFactory.getThreadMXBean();
        String[] modes = args.length > 1 ? new String[] {args[1]} : new String[] {"64", "32"};
        int[] entries = args.length > 2 ? new int[] {args[2].equals("cpuLoop") ? CPU_LOOP
                : args[2].equals("guestLoop") ? GUEST_LOOP : MEM_LOOP}
                : new int[] {CPU_LOOP, MEM_LOOP, GUEST_LOOP};
        for (String m : modes) {
            for (int entry : entries) {
                Guest g = new Guest(m.equals("32"), entry, entry == MEM_LOOP ? 256 : 1_000_000_000L,
                        Engine.parse(System.getProperty("engine", "tier")));
                double best = 0, bestCpu = 0;
                for (int sec = 0; sec < seconds; sec++) {
                    long t0 = System.nanoTime();
                    long c0 = tmx.getCurrentThreadCpuTime();
                    long n = 0;
                    while (System.nanoTime() - t0 < 1_000_000_000L) {
                        g.run();
                        n += BUDGET;
                    }
                    best = Math.max(best, n / ((System.nanoTime() - t0) / 1e3));
                    bestCpu = Math.max(bestCpu, n / ((tmx.getCurrentThreadCpuTime() - c0) / 1e3));
                }
                System.out.printf("%-10s %s-bit: best second %.1f MIPS wall, %.1f MIPS per thread-CPU second%n",
                        entry == CPU_LOOP ? "cpuLoop" : entry == GUEST_LOOP ? "guestLoop" : "memBranch", m, best,
                        bestCpu);
            }
        }
    }

    /** RAM, page tables, one vCPU's state, MMU and interpreter, and both programs loaded. */
    private static final class Guest {
        final CpuState state = new CpuState();
        final Interpreter cpu;

        Guest(boolean m32, int entry, long count, Engine engine) {
            PhysicalMemory mem = new PhysicalMemory(16 << 20);
            Mmu mmu = new Mmu(mem, state, CpuModel.SKYLAKE);
            PageTables pt = new PageTables(mem, m32);
            pt.map(CODE, Pte.P | Pte.US);
            pt.map(DATA, Pte.P | Pte.RW | Pte.US | Pte.XD);
            pt.map(STACK, Pte.P | Pte.RW | Pte.US | Pte.XD);
            pt.load(CODE + CPU_LOOP, m32 ? CPU32 : CPU64);
            pt.load(CODE + MEM_LOOP, m32 ? MEM32 : MEM64);
            pt.load(CODE + GUEST_LOOP, m32 ? GUEST32 : GUEST64);
            state.cpl = 3;
            if (m32) {
                state.efer = CpuState.EFER_NXE; // no LME/LMA: PAE paging, 32-bit protected mode
                state.longMode64 = false;
            }
            mmu.writeCr3(pt.root); // loads the PDPTE registers under PAE
            cpu = new Interpreter(state, mmu, mem);
            cpu.setEngine(engine);
            state.gpr[CpuState.RSP] = STACK + 0x800;
            state.gpr[CpuState.RDI] = DATA;
            state.gpr[CpuState.RCX] = count;
            state.rip = CODE + entry;
            run(); // decodes the loop (and compiles it under the tier): measurements see the steady state
        }

        /** One quantum; returns a register so the work cannot be dropped. */
        long run() {
            int x = cpu.run(BUDGET);
            if (x != Exit.BUDGET) {
                throw new IllegalStateException("interpreter exit " + x + ": " + cpu.lastFaultDescription());
            }
            return state.gpr[CpuState.RBX];
        }
    }

    /**
     * Page tables for the benchmark in the format of the chosen paging mode: 4-level (PML4, PDPT, PD, PT)
     * or PAE (a 32-byte PDPT of four entries, PD, PT). Frames come from a bump allocator at 1 MiB.
     */
    private static final class PageTables {
        private final PhysicalMemory mem;
        private final boolean pae;
        private long free = 0x10_0000L;
        final long root;

        PageTables(PhysicalMemory mem, boolean pae) {
            this.mem = mem;
            this.pae = pae;
            this.root = alloc();
        }

        private long alloc() {
            long f = free;
            free += 0x1000;
            mem.zeroFrame(f);
            return f;
        }

        /** The next-level table behind entry {@code index} of {@code table}, created when absent. */
        private long next(long table, long index, boolean pdpte) {
            long ea = table + index * 8;
            long e = mem.read64(ea);
            if ((e & Pte.P) == 0) {
                // PAE PDPTEs have no R/W or U/S bits (they are reserved there).
                e = alloc() | Pte.P | (pdpte ? 0 : Pte.RW | Pte.US);
                mem.write64(ea, e);
            }
            return e & Pte.ADDR_MASK;
        }

        void map(long va, long flags) {
            long pd;
            if (pae) {
                pd = next(root, (va >>> 30) & 3, true);
            } else {
                long pdpt = next(root, (va >>> 39) & 511, false);
                pd = next(pdpt, (va >>> 30) & 511, false);
            }
            long ptab = next(pd, (va >>> 21) & 511, false);
            mem.write64(ptab + ((va >>> 12) & 511) * 8, alloc() | flags);
        }

        private long pa(long va) {
            long pd = pae ? mem.read64(root + ((va >>> 30) & 3) * 8) & Pte.ADDR_MASK
                    : mem.read64((mem.read64(root + ((va >>> 39) & 511) * 8) & Pte.ADDR_MASK) + ((va >>> 30) & 511) * 8)
                            & Pte.ADDR_MASK;
            long ptab = mem.read64(pd + ((va >>> 21) & 511) * 8) & Pte.ADDR_MASK;
            return (mem.read64(ptab + ((va >>> 12) & 511) * 8) & Pte.ADDR_MASK) | (va & 0xfff);
        }

        void load(long va, String hex) {
            byte[] b = HexFormat.of().parseHex(hex);
            for (int i = 0; i < b.length; i++) {
                mem.write8(pa(va + i), b[i]);
            }
        }
    }
}
