package org.mmulab.emulator.debug;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.TrapHandler;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.Pte;

/**
 * A machine built through the emulator API only, running real guest code: every vCPU spins in
 * <pre>
 *   0x400000  inc rax          48 ff c0
 *   0x400003  mov [rbx], rax   48 89 03
 *   0x400006  jmp 0x400000     eb f8
 * </pre>
 * with RBX = {@link #data(int)} (one quadword per vCPU on a writable page). vCPU i runs on its own thread.
 * A trap (fault, syscall) stops that vCPU and is recorded in {@link #traps}. Public: the gdbstub tests use it
 * through this module's test-jar.
 */
public final class GuestLoop implements AutoCloseable {
    public static final long CODE = 0x40_0000L;
    public static final long INC = CODE, STORE = CODE + 3, JMP = CODE + 6;
    public static final long DATA = 0x40_2000L;
    private static final long PML4 = 0x10_0000, PDPT = 0x10_1000, PD = 0x10_2000, PT = 0x10_3000;
    private static final long CODE_PA = 0x20_0000, DATA_PA = 0x20_1000;

    public final Machine machine;
    public final DebugController dbg;
    public final List<String> traps = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    public GuestLoop(int cpus) {
        machine = new Machine(16 << 20, cpus);
        var mem = machine.memory();
        long urw = Pte.P | Pte.RW | Pte.US;
        mem.write64(PML4, PDPT | urw);
        mem.write64(PDPT, PD | urw);
        mem.write64(PD + 8 * 2, PT | urw);                     // 0x400000: PD index 2
        mem.write64(PT, CODE_PA | Pte.P | Pte.US);              // code: read-only, executable
        mem.write64(PT + 8 * 2, DATA_PA | urw);                 // 0x402000: data
        byte[] code = {0x48, (byte) 0xff, (byte) 0xc0, 0x48, (byte) 0x89, 0x03, (byte) 0xeb, (byte) 0xf8};
        mem.writeBytes(CODE_PA, code, 0, code.length);
        machine.setTrapHandler(new TrapHandler() {
            @Override
            public void syscall(Vcpu cpu, boolean int80) {
                traps.add("syscall on cpu " + cpu.id());
                cpu.stop();
            }

            @Override
            public void exception(Vcpu cpu, int vector, long errorCode) {
                traps.add("exception " + vector + " on cpu " + cpu.id() + " at 0x" + Long.toHexString(cpu.state.rip));
                cpu.stop();
            }
        });
        for (Vcpu v : machine.vcpus()) {
            v.mmu().writeCr3(PML4);
            v.state.rip = CODE;
            v.state.gpr[CpuState.RBX] = data(v.id());
            v.state.setRflags(CpuState.IF);
        }
        dbg = new DebugController(machine);
    }

    public static long data(int cpu) {
        return DATA + 8L * cpu;
    }

    public long stored(int cpu) {
        return machine.memory().read64(DATA_PA + 8L * cpu);
    }

    public CpuState state(int cpu) {
        return machine.vcpu(cpu).state;
    }

    /** Starts every vCPU on its own thread. */
    public GuestLoop start() {
        for (Vcpu v : machine.vcpus()) {
            Thread t = new Thread(v::run, "vcpu-" + v.id());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        return this;
    }

    /** Stops every vCPU for good (parked ones too) and joins their threads. */
    @Override
    public void close() throws InterruptedException {
        machine.shutdown();
        dbg.resume(DebugController.Action.CONTINUE, java.util.Map.of());
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(10));
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not stop");
            }
        }
    }
}
