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
        this(ram, stdin, KernelConfig.PagingMode.FOUR_LEVEL);
    }

    Fixture(long ram, KernelConfig.PagingMode paging) {
        this(ram, "", paging);
    }

    Fixture(long ram, String stdin, KernelConfig.PagingMode paging) {
        this(ram, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), paging);
    }

    Fixture(long ram, java.io.InputStream stdin, KernelConfig.PagingMode paging) {
        machine = new Machine(ram, 1);
        cpu = machine.vcpu(0);
        kernel = new Kernel(machine, new KernelConfig(stdin, out, err).withPaging(paging));
    }

    /** An i386 process (ud2 at 0x401000, data at 0x403010) under {@code paging}. */
    static Fixture booted32(KernelConfig.PagingMode paging) throws ExecFormatException {
        Fixture f = new Fixture(64L << 20, paging);
        f.exec(TestElf.standard32(CODE, "hello data".getBytes(StandardCharsets.UTF_8), 10000).build());
        return f;
    }

    /** An int 0x80 call: EAX = nr, EBX, ECX, EDX, ESI, EDI, EBP = args; returns EAX sign-extended. */
    long sys32(int nr, long... args) {
        long[] r = cpu.state.gpr;
        int[] regs = {CpuState.RBX, CpuState.RCX, CpuState.RDX, CpuState.RSI, CpuState.RDI, CpuState.RBP};
        r[CpuState.RAX] = nr;
        for (int i = 0; i < args.length; i++) {
            r[regs[i]] = args[i] & 0xffff_ffffL;
        }
        kernel.syscall(cpu, true);
        return (int) r[CpuState.RAX];
    }

    /** Reads {@code n} bytes of user memory through the MMU (faulting pages in). */
    byte[] readBytes(long va, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            long pa = touch(va + i, false);
            if (pa < 0) {
                throw new AssertionError("read of 0x" + Long.toHexString(va + i) + " failed");
            }
            b[i] = (byte) machine.memory().read8(pa);
        }
        return b;
    }

    void writeBytes(long va, byte[] b) {
        for (int i = 0; i < b.length; i++) {
            long pa = touch(va + i, true);
            if (pa < 0) {
                throw new AssertionError("write of 0x" + Long.toHexString(va + i) + " failed");
            }
            machine.memory().write8(pa, b[i]);
        }
    }

    long read32(long va) {
        byte[] b = readBytes(va, 4);
        return (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
    }

    String readString(long va) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4096; i++) {
            int c = readBytes(va + i, 1)[0] & 0xff;
            if (c == 0) {
                return sb.toString();
            }
            sb.append((char) c);
        }
        throw new AssertionError("unterminated string at 0x" + Long.toHexString(va));
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

    long sys(long nr, long... args) {
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
