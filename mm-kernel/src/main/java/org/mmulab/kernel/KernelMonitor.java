package org.mmulab.kernel;

import java.io.PrintWriter;
import java.util.Locale;

import org.mmulab.emulator.debug.MonitorRegistry;
import org.mmulab.emulator.mmu.Pte;
import org.mmulab.kernel.mm.MmStruct;
import org.mmulab.kernel.mm.PgtableOps;
import org.mmulab.kernel.mm.VmArea;

/**
 * The kernel's gdb monitor commands (gdb: {@code monitor vmas}, {@code monitor ptdump}), added to the emulator's
 * {@link MonitorRegistry} by the CLI when it boots with {@code --gdb}. Also registers the commands of
 * {@link Kernel#registerMonitorCommands} ({@code pte}, {@code mmstat}); {@code vmas} here replaces the plain
 * /proc/pid/maps listing with one that also shows sizes and the vm_flags.
 *
 * <p>Runs while the machine is stopped (gdb only sends {@code qRcmd} then), so it reads the VMA tree and the
 * page tables without locks; page tables are read with {@code getLockless}, and only present entries are
 * shown (a present PAE entry read locklessly is never torn; a non-present one may be, and is skipped).
 */
public final class KernelMonitor {
    /** ptdump prints at most this many entries, then how many more there are. */
    public static final int PTDUMP_LIMIT = 512;

    private KernelMonitor() {
    }

    public static void register(Kernel kernel, MonitorRegistry registry) {
        kernel.registerMonitorCommands(registry);
        registry.register("vmas", "the process's VMAs: start-end, perms, size, vm_flags, name (or [anon])",
                (args, out) -> vmas(kernel, out));
        registry.register("ptdump", "ptdump [START END]: present leaf PTEs and large PMD/PUD mappings with flags"
                + " (at most " + PTDUMP_LIMIT + ")", (args, out) -> ptdump(kernel, args, out));
    }

    static void vmas(Kernel kernel, PrintWriter out) {
        MmStruct mm = kernel.mm();
        if (mm == null) {
            out.println("no process");
            return;
        }
        out.printf("%-33s %-4s %8s  %-30s %s%n", "start-end", "perm", "size", "flags", "name");
        for (VmArea v : mm.vmaList()) {
            int f = v.flags();
            String perm = "" + ((f & VmArea.VM_READ) != 0 ? 'r' : '-') + ((f & VmArea.VM_WRITE) != 0 ? 'w' : '-')
                    + ((f & VmArea.VM_EXEC) != 0 ? 'x' : '-') + ((f & VmArea.VM_SHARED) != 0 ? 's' : 'p');
            String name = v.name() != null ? v.name() : v.file() != null ? v.file().name() : "[anon]";
            out.printf("%016x-%016x %s %8s  %-30s %s%n", v.start(), v.end(), perm, size(v.end() - v.start()),
                    flagNames(f), name);
        }
        out.printf("%d vmas, total_vm %d pages%n", mm.mapCount(), mm.totalVm());
    }

    private static final int[] FLAG_BITS = {VmArea.VM_MAYREAD, VmArea.VM_MAYWRITE, VmArea.VM_MAYEXEC,
        VmArea.VM_MAYSHARE, VmArea.VM_GROWSDOWN, VmArea.VM_PFNMAP, VmArea.VM_LOCKED, VmArea.VM_SEQ_READ,
        VmArea.VM_RAND_READ, VmArea.VM_DONTCOPY, VmArea.VM_ACCOUNT, VmArea.VM_NORESERVE, VmArea.VM_DONTDUMP,
        VmArea.VM_WIPEONFORK, VmArea.VM_HUGEPAGE, VmArea.VM_NOHUGEPAGE};
    // The mnemonics of /proc/pid/smaps "VmFlags".
    private static final String[] FLAG_NAMES = {"mr", "mw", "me", "ms", "gd", "pf", "lo", "sr", "rr", "dc", "ac",
        "nr", "dd", "wf", "hg", "nh"};

    static String flagNames(int f) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < FLAG_BITS.length; i++) {
            if ((f & FLAG_BITS[i]) != 0) {
                sb.append(sb.length() == 0 ? "" : " ").append(FLAG_NAMES[i]);
            }
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }

    private static String size(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return (bytes >>> 30) + "G";
        }
        if (bytes % (1L << 20) == 0) {
            return (bytes >>> 20) + "M";
        }
        return (bytes >>> 10) + "K";
    }

    static void ptdump(Kernel kernel, String[] args, PrintWriter out) {
        MmStruct mm = kernel.mm();
        if (mm == null) {
            out.println("no process");
            return;
        }
        PgtableOps ops = kernel.memory().ops();
        long start = 0;
        long end = ops.taskSize();
        if (args.length == 2) {
            start = parse(args[0]);
            end = parse(args[1]);
        } else if (args.length != 0) {
            out.println("usage: ptdump [START END]   (hex addresses; END exclusive)");
            return;
        }
        if (Long.compareUnsigned(start, end) >= 0) {
            out.println("ptdump: empty range");
            return;
        }
        out.printf("page tables of %s at 0x%x (%d levels), 0x%x-0x%x%n", kernel.task().comm, mm.pgdPhys(),
                ops.levels(), start, end);
        Dump d = new Dump(ops, start, end, out);
        d.table(mm.pgdPhys(), ops.levels(), 0);
        if (d.printed == 0 && d.more == 0) {
            out.println("  (nothing present)");
        }
        if (d.more > 0) {
            out.printf("  ... %d more present entries not shown (give a smaller START END)%n", d.more);
        }
    }

    private static long parse(String s) {
        String t = s.toLowerCase(Locale.ROOT);
        return Long.parseUnsignedLong(t.startsWith("0x") ? t.substring(2) : t, 16);
    }

    private static final class Dump {
        final PgtableOps ops;
        final long start;
        final long end;
        final PrintWriter out;
        int printed;
        long more;

        Dump(PgtableOps ops, long start, long end, PrintWriter out) {
            this.ops = ops;
            this.start = start;
            this.end = end;
            this.out = out;
        }

        /** Walks the table at {@code tablePa} of {@code level}, whose first entry maps {@code base}. */
        void table(long tablePa, int level, long base) {
            int shift = ops.shift(level);
            long span = 1L << shift;
            for (int i = 0; i < ops.entries(level); i++) {
                long va = base + i * span;
                long vaEnd = va + span;
                if (Long.compareUnsigned(vaEnd - 1, start) < 0) {
                    continue;
                }
                if (Long.compareUnsigned(va, end) >= 0) {
                    return;
                }
                long e = ops.getLockless(tablePa + 8L * i);
                if ((e & Pte.P) == 0) {
                    continue;
                }
                boolean leaf = level == 1 || ((e & Pte.PS) != 0 && level <= 3 && level < ops.levels());
                if (!leaf) {
                    table(e & Pte.ADDR_MASK, level - 1, va);
                    continue;
                }
                if (printed >= PTDUMP_LIMIT) {
                    more++;
                    continue;
                }
                printed++;
                long pa = e & Pte.ADDR_MASK & ~(span - 1);
                out.printf("  %016x %-3s %016x %-16s -> 0x%x%s%n", va, level == 1 ? "PTE" : level == 2 ? "PMD" : "PUD",
                        e, Pte.flags(e), pa, level == 1 ? "" : level == 2 ? " (2M)" : " (1G)");
            }
        }
    }
}
