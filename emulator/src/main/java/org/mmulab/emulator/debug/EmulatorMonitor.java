package org.mmulab.emulator.debug;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.machine.Machine;
import org.mmulab.emulator.machine.Vcpu;
import org.mmulab.emulator.mmu.DebugWalk;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.mmu.MmuCounters;
import org.mmulab.emulator.mmu.Tlb;
import org.mmulab.emulator.mmu.TlbArray;

/**
 * The monitor commands the emulator owns (gdb's {@code monitor ...}, as QEMU's monitor/hmp-cmds): {@code walk}
 * (every paging level of a VA, SDM §4.5/§4.4 incl. the PAE PDPTE registers), {@code tlb} (the modelled
 * TLB and paging-structure-cache contents), {@code cpus}, {@code phys} and {@code stats}. The kernel adds
 * its own ({@code pte}, {@code vmas}, {@code mmstat}). Split from {@link DebugController}, which registers
 * these at construction and whose selected vCPU they refer to.
 */
final class EmulatorMonitor {
    private EmulatorMonitor() {
    }

    static void register(DebugController dc, MonitorRegistry monitor) {
        Machine machine = dc.machine();
        monitor.register("walk", "walk VA: every paging level for VA (PDPTE register in PAE), final PA",
                (args, out) -> {
                    if (args.length != 1) {
                        out.println("usage: walk VA   (VA: hex number or $pc/$rsp/$rip/...)");
                        return;
                    }
                    long va = parseAddress(dc, args[0]);
                    DebugWalk w = machine.vcpu(dc.selectedCpu()).mmu().debugWalk(va);
                    out.printf("walk 0x%x (%s paging, cpu %d)%n", w.va(), w.mode(), dc.selectedCpu());
                    for (DebugWalk.Level l : w.levels()) {
                        out.println("  " + l);
                    }
                    if (w.translated()) {
                        out.printf("  => PA 0x%x%n", w.physical());
                    } else {
                        out.println("  => no translation: " + w.stopReason());
                    }
                });
        monitor.register("tlb", "tlb [CPU]: modelled TLB and paging-structure-cache contents", (args, out) -> {
            int cpu = args.length > 0 ? Integer.parseInt(args[0]) : dc.selectedCpu();
            dc.checkCpu(cpu);
            Mmu mmu = machine.vcpu(cpu).mmu();
            for (Tlb t : new Tlb[] {mmu.itlb(), mmu.dtlb(), mmu.stlb()}) {
                for (int size = 0; size < 3; size++) {
                    TlbArray a = t.array(size);
                    if (a == null) {
                        continue;
                    }
                    out.printf("%s: %d/%d entries, %d-way%n", a.name(), a.validCount(), a.entries(), a.ways());
                    a.forEach((va, pcid, frame, attrs) -> out.printf("  %016x -> %012x pcid=%d %s%n", va, frame, pcid,
                            attrString(attrs)));
                }
            }
            mmu.pagingStructureCaches().forEach(c -> out.printf("%s: %d/%d entries%n", c.name(), c.validCount(),
                    c.entries()));
        });
        monitor.register("cpus", "list vCPUs with RIP, CR3 and paging mode", (args, out) -> {
            for (Vcpu v : machine.vcpus()) {
                CpuState s = v.state;
                out.printf("cpu %d%s rip=0x%x cr3=0x%x %s %s%n", v.id(), v.id() == dc.selectedCpu() ? "*" : " ", s.rip,
                        s.cr3, s.pagingLongMode() ? "4-level" : "PAE", s.longMode64 ? "64-bit" : "32-bit");
            }
        });
        monitor.register("phys", "phys on|off: gdb memory addresses are physical / virtual", (args, out) -> {
            if (args.length == 1 && (args[0].equals("on") || args[0].equals("off"))) {
                dc.setPhysicalMode(args[0].equals("on"));
            }
            out.println("gdb memory accesses are " + (dc.physicalMode() ? "physical" : "virtual (debug walk)"));
        });
        monitor.register("stats", "per-vCPU TLB, walk and fault counters", (args, out) -> {
            for (Vcpu v : machine.vcpus()) {
                out.printf("cpu %d: instructions=%d%n", v.id(), v.state.instructions);
                MmuCounters c = v.mmu().counters;
                c.asMap().forEach((k, val) -> out.printf("  %-28s %d%n", k, val));
            }
        });
    }

    private static String attrString(int attrs) {
        return ((attrs & TlbArray.ATTR_RW) != 0 ? "W" : "r") + ((attrs & TlbArray.ATTR_US) != 0 ? "U" : "s")
                + ((attrs & TlbArray.ATTR_XD) != 0 ? "X" : "-") + ((attrs & TlbArray.ATTR_D) != 0 ? "D" : "-")
                + ((attrs & TlbArray.ATTR_G) != 0 ? "G" : "-");
    }

    /** A hex/decimal number or a register name like {@code $pc}, {@code $rsp} of the selected vCPU. */
    static long parseAddress(DebugController dc, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("$")) {
            CpuState s = dc.state(dc.selectedCpu());
            String r = t.substring(1);
            if (r.equals("pc") || r.equals("rip") || r.equals("eip")) {
                return s.rip;
            }
            if (r.equals("sp")) {
                return s.gpr[CpuState.RSP];
            }
            List<String> names = new ArrayList<>(List.of("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"));
            int i = names.indexOf(r);
            if (i < 0 && r.length() == 3 && r.charAt(0) == 'e') {
                i = names.indexOf("r" + r.substring(1));
            }
            if (i < 0) {
                throw new IllegalArgumentException("unknown register " + text);
            }
            return s.gpr[i];
        }
        try {
            if (t.startsWith("0x")) {
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            return Long.parseUnsignedLong(t, 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an address: " + text);
        }
    }
}
