package org.mmulab.kernel;

import static org.mmulab.kernel.Kernel.FAULT_OK;
import static org.mmulab.kernel.Kernel.FAULT_OOM;
import static org.mmulab.kernel.Kernel.FAULT_SIGBUS;
import static org.mmulab.kernel.Kernel.SIGILL;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.cpu.Vectors;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.PfErr;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.VmArea;

/**
 * The user-mode exception handlers (Linux 6.x arch/x86/kernel/traps.c: exc_invalid_op, exc_divide_error,
 * math_error, exc_int3, exc_general_protection, exc_alignment_check; the #PF entry of
 * arch/x86/mm/fault.c exc_page_fault): each maps the vector to a signal and si_code, runs the task's
 * handler when one is installed ({@link Signals#deliverFault}), or records the show_signal_msg line and
 * takes the default action ({@link Kernel#forceSigFault}). Then the return to user mode.
 */
final class Traps {
    private final Kernel k;

    Traps(Kernel k) {
        this.k = k;
    }

    void exception(Vcpu cpu, int vector, long errorCode) {
        CpuContext ctx = k.enter(cpu);
        Task task = ctx.curr;
        if (task == null || task.exited || task.killPending) {
            // An idle vCPU's first fetch (no task yet), or a task killed meanwhile.
            if (task == null || !k.returnToUser(ctx)) {
                k.sched().schedule(ctx);
            }
            return;
        }
        switch (vector) {
            case Vectors.PF -> {
                long addr = cpu.state.cr2;
                if (addr == task.lastFaultAddr && cpu.state.rip == task.lastFaultRip && errorCode == task.lastFaultErr
                        && cpu.state.instructions == task.lastFaultInstructions) {
                    if (++task.repeatedFaults >= FAULT_LOOP_LIMIT) {
                        // The kernel "resolved" the same fault over and over: a kernel bug, not the guest's.
                        k.stderrLine(String.format("mmulab: kernel bug: page fault at 0x%x (rip 0x%x, %s) not resolved after %d retries",
                                addr, cpu.state.rip, PfErr.describe(errorCode), task.repeatedFaults));
                        k.forceSigFault(k.SIGSEGV, null);
                        k.sched().schedule(ctx);
                        return;
                    }
                } else {
                    task.lastFaultAddr = addr;
                    task.lastFaultRip = cpu.state.rip;
                    task.lastFaultErr = errorCode;
                    task.lastFaultInstructions = cpu.state.instructions;
                    task.repeatedFaults = 0;
                }
                int r = k.doUserAddrFault(cpu, addr, errorCode);
                switch (r) {
                    case FAULT_OK -> { }
                    case FAULT_OOM -> k.oomKill();
                    case FAULT_SIGBUS -> {
                        if (!deliver(cpu, k.SIGBUS, Signals.BUS_ADRERR, addr, vector, errorCode)) {
                            recordFatal(cpu, "bus error at 0x" + Long.toHexString(addr), errorCode);
                            k.forceSigFault(k.SIGBUS, null);
                        }
                    }
                    default -> {
                        int code = k.mm() != null && k.mm().vmaLookup(addr) != null ? Signals.SEGV_ACCERR : Signals.SEGV_MAPERR;
                        if (!deliver(cpu, k.SIGSEGV, code, addr, vector, errorCode)) {
                            recordFatal(cpu, "segfault at " + Long.toHexString(addr), errorCode);
                            k.forceSigFault(k.SIGSEGV, null);
                        }
                    }
                }
            }
            case Vectors.UD -> {
                if (!deliver(cpu, SIGILL, Signals.ILL_ILLOPN, cpu.state.rip, vector, 0)) {
                    String d = illegalInstructionDescription(cpu);
                    recordFatal(cpu, "trap invalid opcode (" + d + ")", errorCode);
                    k.forceSigFault(SIGILL, d + UNFLUSHED);
                }
            }
            case Vectors.DE, Vectors.MF, Vectors.XM -> {
                int code = vector == Vectors.MF ? x87FpeCode(cpu.state) : Signals.FPE_INTDIV;
                if (!deliver(cpu, k.SIGFPE, code, cpu.state.rip, vector, 0)) {
                    recordFatal(cpu, "trap " + Vectors.name(vector), errorCode);
                    k.forceSigFault(k.SIGFPE, null);
                }
            }
            case Vectors.BP, Vectors.DB -> {
                if (!deliver(cpu, k.SIGTRAP, 1, cpu.state.rip, vector, 0)) {
                    k.forceSigFault(k.SIGTRAP, null);
                }
            }
            case Vectors.AC -> {
                if (!deliver(cpu, k.SIGBUS, 1, cpu.state.rip, vector, errorCode)) {
                    k.forceSigFault(k.SIGBUS, null);
                }
            }
            default -> { // #GP, #SS, #NP, #TS and anything else: SIGSEGV with SI_KERNEL (0x80)
                if (!deliver(cpu, k.SIGSEGV, 0x80, 0, vector, errorCode)) {
                    recordFatal(cpu, "trap " + Vectors.name(vector), errorCode);
                    k.forceSigFault(k.SIGSEGV, null);
                }
            }
        }
        if (!k.returnToUser(ctx)) {
            k.sched().schedule(ctx);
        }
    }
    private static final int FAULT_LOOP_LIMIT = 64;

    /**
     * Runs the handler for a fault signal if there is one. False: the caller takes the default action.
     * A handler whose frame cannot be set up gets SIGSEGV's default action (force_sigsegv).
     */
    private boolean deliver(Vcpu cpu, int sig, int code, long addr, int trapno, long err) {
        int r = Signals.deliverFault(k, k.cpuContext(cpu).curr, cpu, sig, code, addr, trapno, err);
        if (r == Signals.SETUP_FAILED) {
            recordFatal(cpu, "signal frame setup failed for signal " + sig, err);
            k.forceSigFault(k.SIGSEGV, null);
            return true;
        }
        return r == Signals.DELIVERED;
    }

    String lastFatal;

    /** What Linux's show_signal_msg would log (dmesg, not the terminal): "comm[pid]: segfault at ... ip ... sp ...". */
    private void recordFatal(Vcpu cpu, String what, long err) {
        Task task = k.cpuContext(cpu).curr;
        MmStruct mm = task.mm;
        long ip = cpu.state.rip;
        VmArea v = mm == null ? null : mm.vmaLookup(ip);
        lastFatal = String.format("%s[%d]: %s ip %016x sp %016x error %x%s", task.comm, task.pid, what, ip,
                cpu.state.gpr[CpuState.RSP], err,
                v == null ? "" : String.format(" in %s[%x+%x]", v.file() != null ? v.file().name() : v.name() != null ? v.name() : "anon",
                        v.start(), v.end() - v.start()));
    }

    /** si_code of a SIGFPE for #MF, from the unmasked x87 exception flags (fpu__exception_code). */
    static int x87FpeCode(CpuState s) {
        int err = s.fpu.statusWord() & ~s.fpu.fcw & 0x3f;
        if ((err & 0x01) != 0) {
            return 7; // FPE_FLTINV
        } else if ((err & 0x04) != 0) {
            return 3; // FPE_FLTDIV
        } else if ((err & 0x08) != 0) {
            return 4; // FPE_FLTOVF
        } else if ((err & 0x12) != 0) {
            return 5; // FPE_FLTUND
        } else if ((err & 0x20) != 0) {
            return 6; // FPE_FLTRES
        }
        return 0;
    }

    /**
     * What the #UD report adds: a process killed by a signal does not run exit handlers, so whatever
     * its libc still held in stdio buffers is never written. mmulab cannot see into those buffers (they
     * are guest memory in libc's own layout), so it says so once instead of guessing.
     */
    static final String UNFLUSHED = " (killed by SIGILL: output still buffered in the guest's stdio is lost"
            + " with it, as on Linux)";

    private static String illegalInstructionDescription(Vcpu cpu) {
        String d = cpu.interpreter().lastFaultDescription();
        return d != null && !d.isEmpty() ? d : "invalid opcode at 0x" + Long.toHexString(cpu.state.rip);
    }
}
