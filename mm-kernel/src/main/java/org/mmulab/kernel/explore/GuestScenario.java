package org.mmulab.kernel.explore;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.mmulab.kernel.ExecFormatException;
import org.mmulab.kernel.Kernel;
import org.mmulab.kernel.KernelConfig;
import org.mmulab.kernel.mm.FileBytes;
import org.mmulab.kernel.mm.MmFix;

/**
 * A scenario whose threads are a real guest program: a static, self-checking x86-64 binary (one of
 * test-images' SMP images) booted with the whole kernel on the explorer's machine, every vCPU running
 * guest instructions, the seed's schedule choosing at every yield point — the kernel's, the walker's
 * and each instruction quantum's ({@code Machine.setDeterministicQuantum}). The invariants: the program's
 * own checks (exit status 0), the kernel's {@code --check} (no frame freed while a vCPU can reach it, the
 * census at the end), and no kernel exception.
 * Not in the catalogue of issue 18 (its scenarios are Java-driven); built by whoever has the image.
 */
public final class GuestScenario extends Scenario {
    private final String name;
    private final MmFix fix;
    private final String path;
    private final FileBytes image;
    private final List<String> argv;
    private final int cpus;
    private final int quantum;
    private final int budget;
    private final long horizon;

    /**
     * {@code path} (the image's name as the guest sees it) holding {@code image}; {@code argv} with
     * argv[0]; {@code quantum}: guest instructions between two QUANTUM yield points.
     */
    public GuestScenario(String name, MmFix fix, String path, FileBytes image, List<String> argv, int cpus, int quantum,
            int budget, long horizon) {
        this.name = name;
        this.fix = fix;
        this.path = path;
        this.image = image;
        this.argv = List.copyOf(argv);
        this.cpus = cpus;
        this.quantum = quantum;
        this.budget = budget;
        this.horizon = horizon;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public MmFix fix() {
        return fix;
    }

    @Override
    public String description() {
        return "guest program " + String.join(" ", argv) + " on " + cpus + " vCPUs";
    }

    @Override
    public String invariants() {
        return "guest-self-check, mm-check (free watch and census), kernel-bug";
    }

    @Override
    public int cpus() {
        return cpus;
    }

    @Override
    public long horizon() {
        return horizon;
    }

    @Override
    public int budget() {
        return budget;
    }

    /**
     * A uniform random walk: guest threads wait for each other by spinning in user space, where PCT
     * would run the highest-priority spinner forever (its waits are not the kernel's LOCK_SPIN).
     */
    @Override
    public Strategy strategy() {
        return Strategy.RANDOM;
    }

    /** A guest program's run reaches millions of yield points (every quantum of every vCPU). */
    @Override
    long maxYields() {
        return 50_000_000;
    }

    @Override
    int quantum() {
        return quantum;
    }

    @Override
    boolean guest() {
        return true;
    }

    @Override
    void run(ExploreRig rig) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        Kernel kernel = new Kernel(rig.machine, new KernelConfig(InputStream.nullInputStream(), out, err)
                .withPaging(KernelConfig.PagingMode.FOUR_LEVEL));
        for (MmFix f : rig.reverted) {
            kernel.memory().fixes.revert(f);
        }
        kernel.memory().check.watchFrees(rig.machine);
        int status;
        try {
            kernel.exec(image, path, argv, List.of());
            status = kernel.run();
        } catch (ExecFormatException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            rig.violate("kernel-bug", e.toString());
            return;
        }
        if (status != 0) {
            String[] lines = err.toString(StandardCharsets.UTF_8).strip().split("\n");
            rig.violate("guest-self-check", "exit status " + status + ": " + lines[lines.length - 1]);
        }
        for (String v : kernel.checkMm()) {
            rig.violate("mm-check", v); // --check: frees while reachable during the run, then the census
        }
    }
}
