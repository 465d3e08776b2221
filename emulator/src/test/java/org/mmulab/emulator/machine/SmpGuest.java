package org.mmulab.emulator.machine;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.Pte;

/**
 * A multi-vCPU machine built through the emulator API only (no kernel): one 4-level page table shared
 * by every vCPU mapping {@link #PAGES} user pages at {@link #va}(i) to frames {@link #frame}(i), and a
 * trap handler that hands syscalls to a test's lambda and records anything else as a failure.
 */
final class SmpGuest {
    static final int PAGES = 16;
    static final long PML4 = 0x10_0000, PDPT = 0x10_1000, PD = 0x10_2000, PT = 0x10_3000;
    static final long VA0 = 0x40_0000L, FRAME0 = 0x20_0000L;
    /** Spare frames (not mapped at first) for remapping tests. */
    static final long SPARE0 = 0x30_0000L;

    /** inc rax; jmp back: an endless loop that never traps. */
    static final int[] SPIN = {0x48, 0xff, 0xc0, 0xeb, 0xfb};
    /** syscall; jmp back. */
    static final int[] SYSCALL_LOOP = {0x0f, 0x05, 0xeb, 0xfc};

    final Machine machine;
    final PhysicalMemory mem;
    final List<String> failures = new CopyOnWriteArrayList<>();
    /** (cpu, rcx-free syscall number in RAX) for every syscall; run on the trapping vCPU's thread. */
    volatile BiConsumer<Vcpu, Long> onSyscall = (cpu, nr) -> cpu.stop();
    volatile java.util.function.Consumer<Vcpu> onTick = cpu -> { };

    SmpGuest(int cpus) {
        this(cpus, Machine.Scheduling.PARALLEL, 0);
    }

    /** A machine in {@code mode}; DETERMINISTIC with seed 1. */
    SmpGuest(Machine.Scheduling mode, int cpus) {
        this(cpus, mode, 1);
    }

    /** A machine in {@code mode}; DETERMINISTIC uses {@code seed}. */
    SmpGuest(int cpus, Machine.Scheduling mode, long seed) {
        machine = new Machine(16 << 20, cpus);
        if (mode == Machine.Scheduling.DETERMINISTIC) {
            machine.setDeterministic(seed);
        }
        mem = machine.memory();
        long urw = Pte.P | Pte.RW | Pte.US;
        mem.write64(PML4, PDPT | urw);
        mem.write64(PDPT, PD | urw);
        mem.write64(PD + 8 * 2, PT | urw); // 0x400000: PD index 2
        for (int i = 0; i < PAGES; i++) {
            mem.write64(pteAddr(i), frame(i) | urw);
        }
        machine.setTrapHandler(new TrapHandler() {
            @Override
            public void syscall(Vcpu cpu, boolean int80) {
                try {
                    onSyscall.accept(cpu, cpu.state.gpr[CpuState.RAX]);
                } catch (Throwable t) {
                    failures.add("cpu " + cpu.id() + ": " + t);
                    machine.shutdown();
                }
            }

            @Override
            public void exception(Vcpu cpu, int vector, long errorCode) {
                failures.add("exception " + vector + " on cpu " + cpu.id() + " at 0x" + Long.toHexString(cpu.state.rip)
                        + " cr2 0x" + Long.toHexString(cpu.state.cr2));
                machine.shutdown();
            }

            @Override
            public void tick(Vcpu cpu) {
                onTick.accept(cpu);
            }
        });
        for (Vcpu v : machine.vcpus()) {
            v.mmu().writeCr3(PML4);
            v.state.setRflags(CpuState.IF);
        }
    }

    static long va(int page) {
        return VA0 + 0x1000L * page;
    }

    static long frame(int page) {
        return FRAME0 + 0x1000L * page;
    }

    static long pteAddr(int page) {
        return PT + 8L * (2 * 0 + page); // PT index of VA0 is 0
    }

    /** Writes code bytes at page {@code page}, offset {@code off}. */
    void code(int page, int off, int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        mem.writeBytes(frame(page) + off, b, 0, b.length);
    }

    /** Starts vCPU {@code cpu} at {@code rip}. */
    void start(int cpu, long rip) {
        machine.vcpu(cpu).state.rip = rip;
    }

    void assertNoFailures() {
        if (!failures.isEmpty()) {
            throw new AssertionError(String.join("; ", failures));
        }
    }

    /**
     * Spins (on a vCPU's thread inside a handler) until {@code cond}, at a LOCK_SPIN yield point each
     * round (so the baton moves under DETERMINISTIC scheduling); the test's @Timeout guards a hang.
     */
    void await(java.util.function.BooleanSupplier cond) {
        while (!cond.getAsBoolean()) {
            machine.yieldPoint(YieldKind.LOCK_SPIN);
            Thread.onSpinWait();
        }
    }
}
