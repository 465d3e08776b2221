package org.mmulab.emulator.mmu.cpudb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code --cpu-model host} from given /proc/cpuinfo texts (never the real host's). */
class HostCpuTest {
    private static String x86(String vendor, int family, int model, String name) {
        return "processor\t: 0\nvendor_id\t: " + vendor + "\ncpu family\t: " + family + "\nmodel\t\t: " + model
                + "\nmodel name\t: " + name + "\nstepping\t: 1\nflags\t\t: fpu vme\n\nprocessor\t: 1\nvendor_id\t: Other\n";
    }

    private static void picks(String preset, boolean exact, String cpuinfo) {
        HostCpu h = HostCpu.fromCpuinfo(cpuinfo);
        assertEquals(preset, h.preset().name(), h.message());
        assertEquals(exact, h.exact(), h.message());
        assertTrue(h.message().startsWith("--cpu-model host: ") && !h.message().contains("\n"), h.message());
    }

    @Test
    void amdFamiliesAndModels() {
        picks("zen5", true, x86("AuthenticAMD", 26, 2, "AMD EPYC"));
        picks("zen3", true, x86("AuthenticAMD", 25, 1, "AMD EPYC 7763 64-Core Processor"));
        picks("zen3", true, x86("AuthenticAMD", 25, 0x21, "AMD Ryzen 9 5950X 16-Core Processor"));
        picks("zen4", true, x86("AuthenticAMD", 25, 0x11, "AMD EPYC 9654 96-Core Processor"));
        picks("zen4", true, x86("AuthenticAMD", 25, 0x61, "AMD Ryzen 9 7950X 16-Core Processor"));
        picks("zen3", false, x86("AuthenticAMD", 23, 0x31, "AMD EPYC 7B12"));
        HostCpu h = HostCpu.fromCpuinfo(x86("AuthenticAMD", 26, 2, "AMD EPYC"));
        assertTrue(h.message().contains("AuthenticAMD family 1Ah model 02h (AMD EPYC)"), h.message());
    }

    @Test
    void intelModels() {
        picks("skylake", true, x86("GenuineIntel", 6, 0x5e, "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz"));
        picks("skylake", true, x86("GenuineIntel", 6, 0x9e, "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"));
        picks("sapphire-rapids", true, x86("GenuineIntel", 6, 0x8f, "Intel(R) Xeon(R) Platinum 8480+"));
        picks("sapphire-rapids", false, x86("GenuineIntel", 6, 0x6a, "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"));
        picks("skylake", false, x86("GenuineIntel", 6, 0x55, "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"));
    }

    @Test
    void nonX86AndUnknownCpusFallBackWithAMessage() {
        String arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
        HostCpu h = HostCpu.fromCpuinfo(arm);
        assertEquals("skylake", h.preset().name());
        assertFalse(h.exact());
        assertTrue(h.message().contains("not an x86") && h.message().contains("using the default skylake"), h.message());
        HostCpu old = HostCpu.fromCpuinfo(x86("AuthenticAMD", 21, 2, "AMD Opteron(tm) Processor 6376"));
        assertTrue(old.message().contains("no preset for AuthenticAMD family 15h model 02h"), old.message());
        assertEquals("skylake", HostCpu.fromCpuinfo(x86("GenuineIntel", 6, 0x1a, "Intel Core i7 920")).preset().name());
        assertTrue(HostCpu.fromCpuinfo("vendor_id : GenuineIntel\ncpu family : six\nmodel : 1\n").message().contains("unreadable"));
        assertTrue(HostCpu.fromCpuinfo("").message().contains("not an x86"));
    }

    @Test
    void aVirtualMachineIsNamedAsOne() {
        String bare = x86("AuthenticAMD", 26, 2, "AMD EPYC");
        HostCpu b = HostCpu.fromCpuinfo(bare);
        assertFalse(b.virtualised());
        assertFalse(b.message().contains("virtual machine"), b.message());
        HostCpu v = HostCpu.fromCpuinfo(bare.replace("flags\t\t: fpu vme", "flags\t\t: fpu vme hypervisor lahf_lm"));
        assertTrue(v.virtualised());
        assertEquals("zen5", v.preset().name(), "the preset stays bare metal");
        assertTrue(v.message().contains("virtual machine") && v.message().contains("--virt-layer")
                && !v.message().contains("\n"), v.message());
        assertFalse(HostCpu.fromCpuinfo(bare.replace("fpu vme", "fpu hypervisorx")).virtualised(), "whole flag words only");
    }
}
