package org.mmulab.emulator.mmu.cpudb;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code --cpu-model host}: the preset closest to a machine, from the vendor, family and model its
 * {@code /proc/cpuinfo} reports (the kernel's decoding of CPUID leaf 1: family = base + extended
 * family, model = extended model << 4 | base model; SDM Vol. 2A CPUID, AMD APM Vol. 3 appendix E).
 * The tables of models per microarchitecture follow Linux 6.x {@code arch/x86/include/asm/intel-family.h}
 * and AMD's family/model ranges in the optimization guides cited in each preset. Parsing takes text,
 * so tests give it any machine's cpuinfo; a non-x86 or unrecognised CPU falls back to the default
 * preset with a message saying so.
 *
 * @param preset  the chosen preset
 * @param message one line: the host CPU as read, and why this preset (or that it is a fallback)
 * @param exact   true when the preset models the host's own microarchitecture
 * @param virtualised true when the host's flags include {@code hypervisor} (CPUID.1:ECX bit 31, which
 *                    hypervisors set for their guests): the host is a virtual machine, so its kernel entries
 *                    may cost far more than the bare-metal preset charges (see
 *                    {@link org.mmulab.emulator.timing.VirtualisedHost}); the message then says so
 */
public record HostCpu(CpuPresets.Preset preset, String message, boolean exact, boolean virtualised) {

    /** What {@code --cpu-model host} says on a virtual machine, after the preset line. */
    public static final String VIRTUALISED_NOTE = "this host is a virtual machine (cpuinfo flag 'hypervisor'): the preset "
            + "models bare metal; its guest kernel entries may cost far more here (shadow paging traps each one). "
            + "'mmulab bench --native --cpu-model host' calibrates a virtualised-host layer on this host (trap_cost) "
            + "and prints the --virt-layer value that adds it";

    /** Reads {@code /proc/cpuinfo}; on a machine without it, falls back like an unknown CPU. */
    public static HostCpu detect() {
        String text;
        try {
            text = Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException | RuntimeException e) {
            return fallback("no /proc/cpuinfo (" + System.getProperty("os.name") + ", " + System.getProperty("os.arch") + ")", false);
        }
        return fromCpuinfo(text);
    }

    /** The preset for the first processor described in {@code cpuinfo} (the text of /proc/cpuinfo). */
    public static HostCpu fromCpuinfo(String cpuinfo) {
        String vendor = field(cpuinfo, "vendor_id");
        String fam = field(cpuinfo, "cpu family");
        String mod = field(cpuinfo, "model");
        String name = field(cpuinfo, "model name");
        if (vendor == null || fam == null || mod == null) {
            return fallback("not an x86 /proc/cpuinfo (no vendor_id / cpu family / model)", false);
        }
        String flags = field(cpuinfo, "flags");
        boolean virtualised = flags != null && (" " + flags + " ").contains(" hypervisor ");
        int family, model;
        try {
            family = Integer.parseInt(fam);
            model = Integer.parseInt(mod);
        } catch (NumberFormatException e) {
            return fallback("unreadable cpu family/model '" + fam + "'/'" + mod + "'", false);
        }
        String host = String.format(Locale.ROOT, "%s family %02Xh model %02Xh%s", vendor, family, model,
                name == null ? "" : " (" + name + ")");
        String pick = null;
        String why = null;
        boolean exact = true;
        if (vendor.equals("AuthenticAMD")) {
            switch (family) {
                case 0x1a -> {
                    pick = "zen5";
                    why = "Zen 5";
                }
                case 0x19 -> {
                    boolean zen4 = model >= 0x10 && model <= 0x1f || model >= 0x60 && model <= 0x7f
                            || model >= 0xa0 && model <= 0xaf;
                    pick = zen4 ? "zen4" : "zen3";
                    why = zen4 ? "Zen 4" : "Zen 3";
                }
                case 0x17 -> {
                    pick = "zen3";
                    why = "Zen/Zen 2 (no preset: Zen 3 is the closest)";
                    exact = false;
                }
                default -> {
                }
            }
        } else if (vendor.equals("GenuineIntel") && family == 6) {
            switch (model) {
                case 0x4e, 0x5e, 0x8e, 0x9e, 0xa5, 0xa6 -> {
                    pick = "skylake";
                    why = "Skylake client (Skylake to Comet Lake)";
                }
                case 0x55 -> {
                    pick = "skylake";
                    why = "Skylake/Cascade Lake server (no preset: the Skylake core, client caches)";
                    exact = false;
                }
                case 0x8f, 0xcf -> {
                    pick = "sapphire-rapids";
                    why = "Sapphire/Emerald Rapids";
                }
                case 0x6a, 0x6c, 0x7d, 0x7e, 0x8c, 0x8d, 0x97, 0x9a, 0xb7, 0xba, 0xbf, 0xad, 0xae -> {
                    pick = "sapphire-rapids";
                    why = "Ice Lake to Granite Rapids (no preset of its own: Sapphire Rapids is the closest)";
                    exact = false;
                }
                default -> {
                }
            }
        }
        if (pick == null) {
            return fallback("no preset for " + host, virtualised);
        }
        CpuPresets.Preset p = CpuPresets.byName(pick);
        return new HostCpu(p, "--cpu-model host: " + p.name() + " for " + host + ": " + why + note(virtualised), exact,
                virtualised);
    }

    private static String note(boolean virtualised) {
        return virtualised ? "; " + VIRTUALISED_NOTE : "";
    }

    private static HostCpu fallback(String why, boolean virtualised) {
        CpuPresets.Preset p = CpuPresets.ALL.get(0);
        return new HostCpu(p, "--cpu-model host: " + why + "; using the default " + p.name() + note(virtualised), false,
                virtualised);
    }

    /** The value of the first "key : value" line whose key is exactly {@code key}, or null. */
    private static String field(String text, String key) {
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals(key)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }
}
