package org.mmulab.emulator.debug;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.mmu.ControlRegisterWrites;
import org.mmulab.emulator.mmu.Mmu;

/**
 * The system registers a debugger sees besides the general ones (QEMU's gdb stub shows the same set): the control
 * registers, EFER and the segment-base MSRs. Reads return the architectural value; writes go through the CPU's own
 * MOV-to-CR / WRMSR checks ({@link ControlRegisterWrites}), so a value the CPU would refuse with #GP is refused and
 * changes nothing.
 */
public enum SystemRegister {
    CR0, CR2, CR3, CR4, CR8, EFER, FS_BASE, GS_BASE, KERNEL_GS_BASE;

    /** The register's value in {@code s}. */
    public long read(CpuState s) {
        return switch (this) {
            case CR0 -> s.cr0;
            case CR2 -> s.cr2;
            case CR3 -> s.cr3;
            case CR4 -> s.cr4;
            case CR8 -> s.cr8;
            case EFER -> s.efer;
            case FS_BASE -> s.fsBase;
            case GS_BASE -> s.gsBase;
            case KERNEL_GS_BASE -> s.kernelGsBase;
        };
    }

    /** Writes through the CPU's checks; false (nothing changed) where the CPU raises #GP. */
    boolean write(Mmu mmu, long value) {
        return switch (this) {
            case CR0 -> ControlRegisterWrites.movToCr0(mmu, value);
            case CR2 -> ControlRegisterWrites.movToCr2(mmu, value);
            case CR3 -> ControlRegisterWrites.movToCr3(mmu, value);
            case CR4 -> ControlRegisterWrites.movToCr4(mmu, value);
            case CR8 -> ControlRegisterWrites.movToCr8(mmu, value);
            case EFER -> ControlRegisterWrites.wrmsrEfer(mmu, value);
            case FS_BASE -> ControlRegisterWrites.wrmsrBase(mmu, ControlRegisterWrites.BaseMsr.FS_BASE, value);
            case GS_BASE -> ControlRegisterWrites.wrmsrBase(mmu, ControlRegisterWrites.BaseMsr.GS_BASE, value);
            case KERNEL_GS_BASE -> ControlRegisterWrites.wrmsrBase(mmu, ControlRegisterWrites.BaseMsr.KERNEL_GS_BASE,
                    value);
        };
    }
}
