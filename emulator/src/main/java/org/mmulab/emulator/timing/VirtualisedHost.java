package org.mmulab.emulator.timing;

import java.util.Locale;

/**
 * The virtualised-host layer: what a hypervisor under the guest kernel adds to each kernel entry, for a
 * host that is itself a virtual machine whose guest kernel entries trap to its hypervisor. The presets
 * model bare metal ({@link #NONE}); this layer is added on request ({@code --virt-layer}) or by
 * {@code bench --native --cpu-model host} on a host whose CPUID has the hypervisor bit.
 *
 * <p>Why it exists: under shadow paging (PVM, Huang et al., "PVM: Efficient Shadow Paging for Deploying
 * Secure Containers in Cloud-native Environment", SOSP 2023; Xen PV before it) the guest kernel runs
 * deprivileged, so every system call and every exception of a guest process enters the hypervisor first
 * (PVM's switcher moves the vCPU between guest user and guest kernel mode), and a page fault also has
 * the hypervisor fill its shadow page table from the guest's (a second round trip when the shadow entry
 * is missing). Those costs are far above a bare-metal entry and depend on the hypervisor, its version and
 * the machine under it, so they are not predicted from a publication: they are <em>calibrated</em> from
 * the host's own measurement of the {@code trap_cost} image (a null system call, a read fault on an
 * untouched page) minus what the bare-metal model charges for the same image — {@link #calibrate}. The
 * layer then says nothing about page_fault1 (write faults, zeroing, munmap), which stays the check.
 *
 * <p>Under hardware-assisted virtualisation with nested paging (KVM with EPT/NPT) system calls and page
 * faults do not exit at all; the layer is then about zero and calibration finds that.
 *
 * @param syscallCycles   cycles the hypervisor adds to each system call (entry and exit together)
 * @param exceptionCycles cycles the hypervisor adds to each exception (page faults included: entry, exit and
 *                        the shadow page-table fill)
 * @param source          one line: where the figures come from
 */
public record VirtualisedHost(int syscallCycles, int exceptionCycles, String source) {
    /** Bare metal: nothing added. */
    public static final VirtualisedHost NONE = new VirtualisedHost(0, 0, "bare metal");

    public VirtualisedHost {
        if (syscallCycles < 0 || exceptionCycles < 0) {
            throw new IllegalArgumentException("virtualised-host layer: cycles must not be negative");
        }
        java.util.Objects.requireNonNull(source);
    }

    public boolean isNone() {
        return syscallCycles == 0 && exceptionCycles == 0;
    }

    /**
     * The layer calibrated from one host measurement: {@code hostSyscallNs} and {@code hostReadFaultNs} per
     * event measured natively (trap_cost), converted at the model's frequency, minus the bare-metal model's
     * {@code modelSyscallCycles} and {@code modelReadFaultCycles} for the same image (never below zero).
     */
    public static VirtualisedHost calibrate(TimingModel bare, double hostSyscallNs, double hostReadFaultNs,
            double modelSyscallCycles, double modelReadFaultCycles) {
        double ghz = bare.frequencyHz() / 1e9;
        int s = (int) Math.max(0, Math.round(hostSyscallNs * ghz - modelSyscallCycles));
        int e = (int) Math.max(0, Math.round(hostReadFaultNs * ghz - modelReadFaultCycles));
        return new VirtualisedHost(s, e, String.format(Locale.ROOT,
                "calibrated on this host by trap_cost: null system call %.0f ns, read fault %.0f ns natively, "
                        + "minus the bare %s model's %.0f and %.0f cycles", hostSyscallNs, hostReadFaultNs, bare.name(),
                modelSyscallCycles, modelReadFaultCycles));
    }

    /**
     * {@code --virt-layer} value: {@code none}, or {@code SYSCALL,EXCEPTION} cycles (two non-negative
     * integers); IllegalArgumentException with a one-line message otherwise.
     */
    public static VirtualisedHost parse(String value) {
        if (value.equals("none")) {
            return NONE;
        }
        String[] p = value.split(",", -1);
        if (p.length == 2) {
            try {
                int s = Integer.parseInt(p[0].strip()), e = Integer.parseInt(p[1].strip());
                if (s >= 0 && e >= 0 && s <= 100_000_000 && e <= 100_000_000) {
                    return new VirtualisedHost(s, e, "given by --virt-layer " + s + "," + e);
                }
            } catch (NumberFormatException ignored) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException("--virt-layer: expected none or SYSCALL,EXCEPTION cycles (two integers "
                + "0..100000000), got '" + value + "'");
    }

    /** The {@code --virt-layer} value that gives this layer back. */
    public String option() {
        return isNone() ? "none" : syscallCycles + "," + exceptionCycles;
    }

    @Override
    public String toString() {
        return isNone() ? "bare metal"
                : "virtualised host: +" + syscallCycles + " cycles per system call, +" + exceptionCycles + " per exception ("
                        + source + ")";
    }
}
