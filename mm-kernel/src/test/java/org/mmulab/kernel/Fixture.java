package org.mmulab.kernel;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.Memory;
import org.mmulab.kernel.mm.MmStruct;

/**
 * A machine with the kernel installed and a small process exec'd, driven without an interpreter:
 * guest accesses are made through the real MMU ({@link #touch}) and a #PF goes to the kernel's fault
 * entry exactly as the vCPU run loop would send it; syscalls are made by loading registers.
 */
final class Fixture {
    static final byte[] CODE = {0x0f, 0x0b}; // ud2
    final Machine machine;
    final Vcpu cpu;
    final Kernel kernel;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    Fixture(long ram) {
        this(ram, "");
    }

    Fixture(long ram, String stdin) {
        machine = new Machine(ram, 1);
        cpu = machine.vcpu(0);
        kernel = new Kernel(machine, new KernelConfig(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out, err));
    }

    static Fixture booted() throws ExecFormatException {
        Fixture f = new Fixture(64L << 20);
        f.exec(TestElf.standard(CODE, "hello data".getBytes(StandardCharsets.UTF_8), 10000).build());
        return f;
    }

    void exec(byte[] elf) throws ExecFormatException {
        kernel.exec(elf, "/bin/test", List.of("/bin/test"), List.of("HOME=/"));
    }

    MmStruct mm() {
        return kernel.mm();
    }

    Memory memory() {
        return kernel.memory();
    }

    /** A user access through the MMU; faults go to the kernel and the access is retried. Returns the PA or -1 - result. */
    long touch(long va, boolean write) {
        for (int i = 0; i < 6; i++) {
            try {
                return cpu.mmu().translate(va, PfErr.U | (write ? PfErr.W : 0));
            } catch (GuestFault f) {
                long code = cpu.state.exceptionErrorCode;
                cpu.state.exceptionVector = -1;
                int r = kernel.doUserAddrFault(cpu, cpu.state.cr2, code);
                if (r != Kernel.FAULT_OK) {
                    return -1 - r;
                }
            }
        }
        throw new AssertionError("fault loop at 0x" + Long.toHexString(va));
    }

    long write64(long va, long v) {
        long pa = touch(va, true);
        if (pa >= 0) {
            machine.memory().write64(pa, v);
        }
        return pa;
    }

    long read64(long va) {
        long pa = touch(va, false);
        if (pa < 0) {
            throw new AssertionError("read of 0x" + Long.toHexString(va) + " failed: " + pa);
        }
        return machine.memory().read64(pa);
    }

    /** A translation that must come from the TLB or the walker without the kernel's help. */
    long translateNoFault(long va, boolean write) {
        try {
            return cpu.mmu().translate(va, PfErr.U | (write ? PfErr.W : 0));
        } catch (GuestFault f) {
            cpu.state.exceptionVector = -1;
            return -1;
        }
    }

    long sys(int nr, long... args) {
        long[] r = cpu.state.gpr;
        int[] regs = {CpuState.RDI, CpuState.RSI, CpuState.RDX, CpuState.R10, CpuState.R8, CpuState.R9};
        r[CpuState.RAX] = nr;
        for (int i = 0; i < args.length; i++) {
            r[regs[i]] = args[i];
        }
        kernel.syscall(cpu, false);
        return r[CpuState.RAX];
    }

    long mmap(long addr, long len, int prot, int flags) {
        return sys(Syscalls.NR_MMAP, addr, len, prot, flags, -1, 0);
    }

    String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }
}
