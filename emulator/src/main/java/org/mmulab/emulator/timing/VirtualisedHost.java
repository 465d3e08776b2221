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
 * <p>Page walks: under a hypervisor the hardware's walk is two-dimensional (AMD64 APM Vol. 2 §15.25, nested
 * paging: every guest paging-structure load, and the final guest-physical address, is itself translated through
 * the host's nested page table), and under shadow paging on a nested-paging host (PVM inside a cloud VM) the
 * shadow table is walked that way. The extra cost per walk is not predicted either: {@link #walkCycles} is
 * calibrated from test-images' {@code walk_probe pde} (walks of pages 2 MiB apart whose PDE and PTE lines stay in
 * L2; native ns per target minus the bare model's cycles for the same image, {@link #calibrateWalk}). The layer
 * charges it to every page walk, demand and prefetch, after the STLB miss; tlb_stride stays the check.
 *
 * @param syscallCycles   cycles the hypervisor adds to each system call (entry and exit together)
 * @param exceptionCycles cycles the hypervisor adds to each exception (page faults included: entry, exit and
 *                        the shadow page-table fill)
 * @param walkCycles      cycles a two-dimensional walk adds to each page walk
 * @param source          one line: where the figures come from
 */
public record VirtualisedHost(int syscallCycles, int exceptionCycles, int walkCycles, String source) {
    /** Bare metal: nothing added. */
    public static final VirtualisedHost NONE = new VirtualisedHost(0, 0, 0, "bare metal");

    /** Upper bound of every figure of the layer (as {@code --virt-layer} accepts them). */
    static final int MAX_CYCLES = 100_000_000;

    public VirtualisedHost {
        if (syscallCycles < 0 || exceptionCycles < 0 || walkCycles < 0) {
            throw new IllegalArgumentException("virtualised-host layer: cycles must not be negative");
        }
        java.util.Objects.requireNonNull(source);
    }

    /** A layer of kernel-entry costs only (no walk cost). */
    public VirtualisedHost(int syscallCycles, int exceptionCycles, String source) {
        this(syscallCycles, exceptionCycles, 0, source);
    }

    public boolean isNone() {
        return syscallCycles == 0 && exceptionCycles == 0 && walkCycles == 0;
    }

    /** This layer with {@code walk} cycles per page walk, its source appended. */
    public VirtualisedHost withWalk(int walk, String walkSource) {
        return new VirtualisedHost(syscallCycles, exceptionCycles, walk, isNone() ? walkSource : source + "; " + walkSource);
    }

    /**
     * The walk figure from one host measurement: per {@code walk_probe pde} point (each target load walks), the
     * host's ns per target at the model's frequency minus the bare model's cycles per target; the median of the
     * points, never below zero. {@code hostNs} and {@code modelCycles} are the same points in the same order.
     */
    public static int calibrateWalk(TimingModel bare, double[] hostNs, double[] modelCycles) {
        if (hostNs.length == 0 || hostNs.length != modelCycles.length) {
            throw new IllegalArgumentException("walk calibration: need the same non-empty set of points on both sides");
        }
        double ghz = bare.frequencyHz() / 1e9;
        double[] d = new double[hostNs.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = hostNs[i] * ghz - modelCycles[i];
        }
        java.util.Arrays.sort(d);
        double median = d.length % 2 == 1 ? d[d.length / 2] : (d[d.length / 2 - 1] + d[d.length / 2]) / 2;
        return (int) Math.min(MAX_CYCLES, Math.max(0, Math.round(median)));
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
     * {@code --virt-layer} value: {@code none}, or {@code SYSCALL,EXCEPTION[,WALK]} cycles (two or three
     * non-negative integers); IllegalArgumentException with a one-line message otherwise.
     */
    public static VirtualisedHost parse(String value) {
        if (value.equals("none")) {
            return NONE;
        }
        String[] p = value.split(",", -1);
        if (p.length == 2 || p.length == 3) {
            try {
                int s = Integer.parseInt(p[0].strip()), e = Integer.parseInt(p[1].strip());
                int w = p.length == 3 ? Integer.parseInt(p[2].strip()) : 0;
                if (s >= 0 && e >= 0 && w >= 0 && s <= MAX_CYCLES && e <= MAX_CYCLES && w <= MAX_CYCLES) {
                    return new VirtualisedHost(s, e, w, "given by --virt-layer " + value.strip());
                }
            } catch (NumberFormatException ignored) {
                // falls through to the message below
            }
        }
        throw new IllegalArgumentException("--virt-layer: expected none or SYSCALL,EXCEPTION[,WALK] cycles (two or three "
                + "integers 0..100000000), got '" + value + "'");
    }

    /** The {@code --virt-layer} value that gives this layer back. */
    public String option() {
        return isNone() ? "none" : syscallCycles + "," + exceptionCycles + (walkCycles != 0 ? "," + walkCycles : "");
    }

    @Override
    public String toString() {
        return isNone() ? "bare metal"
                : "virtualised host: +" + syscallCycles + " cycles per system call, +" + exceptionCycles + " per exception"
                        + (walkCycles != 0 ? ", +" + walkCycles + " per page walk" : "") + " (" + source + ")";
    }
}
