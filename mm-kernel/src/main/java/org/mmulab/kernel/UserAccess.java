package org.mmulab.kernel;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.GuestFault;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.PfErr;

/**
 * copy_from_user / copy_to_user / clear_user / get_user / put_user (arch/x86/lib/usercopy_64.c and
 * the exception-table fixups): the kernel touches user memory through the vCPU's MMU as a supervisor
 * access, so the hardware walker, the TLB and CR0.WP apply exactly as to the guest. A #PF goes to the
 * kernel's fault handler ({@code do_user_addr_fault} for a kernel-mode fault on a user address) and the
 * access is retried; an unresolvable fault makes the copy stop short (the fixup path), which the
 * syscalls turn into -EFAULT or a short count.
 */
public final class UserAccess {
    private static final int MAX_RETRIES = 8;
    private final Kernel kernel;
    private final Vcpu cpu;
    private final PhysicalMemory mem;

    UserAccess(Kernel kernel, Vcpu cpu) {
        this.kernel = kernel;
        this.cpu = cpu;
        this.mem = cpu.machine().memory();
    }

    /** Physical address of user {@code va} for a kernel access, faulting pages in; -1 on failure. */
    long translate(long va, boolean write) {
        long taskSize = kernel.taskSize();
        if (va < 0 || va >= taskSize) {
            return -1; // access_ok
        }
        CpuState s = cpu.state;
        long savedCr2 = s.cr2;
        try {
            for (int i = 0; i < MAX_RETRIES; i++) {
                try {
                    return cpu.mmu().translate(va, write ? PfErr.W : 0);
                } catch (GuestFault f) {
                    int vector = s.exceptionVector;
                    long err = s.exceptionErrorCode;
                    s.exceptionVector = -1;
                    if (vector != org.mmulab.emulator.cpu.Vectors.PF) {
                        return -1;
                    }
                    // A #PF taken in kernel mode: exception entry, the handler, IRET back to the copy.
                    long start = cpu.cycles();
                    cpu.clock().exceptionEntry();
                    boolean resolved = kernel.kernelModeFault(cpu, s.cr2, err);
                    cpu.clock().exceptionExit();
                    cpu.clock().recordFault(cpu.cycles() - start);
                    if (!resolved) {
                        return -1;
                    }
                }
            }
            return -1;
        } finally {
            s.cr2 = savedCr2;
        }
    }

    /** copy_to_user: returns the number of bytes NOT copied (0 on success). */
    public int copyToUser(long va, byte[] src, int off, int len) {
        int done = 0;
        while (done < len) {
            long pa = translate(va + done, true);
            if (pa < 0) {
                return len - done;
            }
            int n = (int) Math.min(len - done, 4096 - ((va + done) & 0xfff));
            mem.writeBytes(pa, src, off + done, n);
            kernel.memory().frames().charge().bulk(pa, n);
            done += n;
        }
        return 0;
    }

    /** copy_from_user: returns the number of bytes NOT copied. */
    public int copyFromUser(byte[] dst, int off, long va, int len) {
        int done = 0;
        while (done < len) {
            long pa = translate(va + done, false);
            if (pa < 0) {
                return len - done;
            }
            int n = (int) Math.min(len - done, 4096 - ((va + done) & 0xfff));
            mem.readBytes(pa, dst, off + done, n);
            kernel.memory().frames().charge().bulk(pa, n);
            done += n;
        }
        return 0;
    }

    /** clear_user: returns the number of bytes NOT cleared. */
    public int clearUser(long va, int len) {
        return copyToUser(va, new byte[len], 0, len);
    }

    public boolean putUser64(long va, long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return copyToUser(va, b, 0, 8) == 0;
    }

    /** get_user of a u64; returns null on fault. */
    public Long getUser64(long va) {
        byte[] b = new byte[8];
        if (copyFromUser(b, 0, va, 8) != 0) {
            return null;
        }
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    /** strncpy_from_user-ish: reads a NUL-terminated string of at most max bytes; null on fault. */
    public String getUserString(long va, int max) {
        StringBuilder sb = new StringBuilder();
        byte[] one = new byte[1];
        for (int i = 0; i < max; i++) {
            if (copyFromUser(one, 0, va + i, 1) != 0) {
                return null;
            }
            if (one[0] == 0) {
                return sb.toString();
            }
            sb.append((char) (one[0] & 0xff));
        }
        return sb.toString();
    }
}
