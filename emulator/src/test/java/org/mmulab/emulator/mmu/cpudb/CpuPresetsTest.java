package org.mmulab.emulator.mmu.cpudb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.mmulab.emulator.cpu.CpuState;
import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.CpuModel.TlbGeometry;
import org.mmulab.emulator.mmu.Mmu;
import org.mmulab.emulator.timing.TimingModel;
import org.mmulab.emulator.timing.TimingModel.CacheGeometry;

/** The presets build (MMU, caches), are named uniquely, and bad geometries are refused. */
class CpuPresetsTest {
    @Test
    void everyPresetBuildsItsMmuAndCaches() {
        Set<String> names = new HashSet<>();
        for (CpuPresets.Preset p : CpuPresets.ALL) {
            assertTrue(names.add(p.name()), "unique name " + p.name());
            assertEquals(p.name(), p.model().name());
            Mmu mmu = new Mmu(new PhysicalMemory(1 << 20), new CpuState(), p.model());
            assertEquals(p.model().l1d4k().entries(), mmu.dtlb().array(0).entries(), p.name());
            TimingModel t = p.model().timing();
            assertEquals(t.l1d().sizeBytes(), t.buildCaches().l1().sets() * t.l1d().ways() * 64L, p.name());
            assertTrue(t.l1d().latency() < t.l2().latency() && t.l2().latency() < t.llc().latency()
                    && t.llc().latency() < t.memoryLatency(), p.name() + ": latencies grow outwards");
            assertTrue(t.frequencyHz() >= 1_000_000_000L && t.frequencyHz() <= 6_000_000_000L, p.name());
            assertFalse(p.summary().isBlank());
        }
        assertTrue(names.containsAll(Set.of("skylake", "sapphire-rapids", "zen3", "zen4", "zen5")), names.toString());
    }

    @Test
    void namesAreCaseInsensitiveAndUnknownOnesAreNamed() {
        assertEquals(Zen4.MODEL, CpuModel.byName("ZEN4"));
        assertEquals(CpuModel.SKYLAKE, CpuModel.byName("skylake"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuModel.byName("pentium"));
        assertTrue(e.getMessage().contains("unknown CPU model 'pentium'") && e.getMessage().contains("zen5"), e.getMessage());
        assertTrue(CpuPresets.listing().contains("sapphire-rapids = Intel Sapphire Rapids"), CpuPresets.listing());
    }

    @Test
    void badGeometriesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new TlbGeometry(96, 5));
        assertThrows(IllegalArgumentException.class, () -> new TlbGeometry(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new CacheGeometry(48 << 10, 10, 5));
        assertThrows(IllegalArgumentException.class, () -> new CacheGeometry(32 << 10, 8, -1));
        assertThrows(IllegalArgumentException.class, () -> CpuModel.SKYLAKE.withMaxPhysAddrBits(60));
    }
}
