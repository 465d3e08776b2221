package org.mmulab.emulator.mmu.cpudb;

import java.util.List;
import java.util.Locale;

import org.mmulab.emulator.mmu.CpuModel;

/**
 * The CPU presets {@code --cpu-model NAME} chooses from, each a part with its sources cited in its
 * file: {@code skylake} ({@link CpuModel#SKYLAKE}, the default), {@code sapphire-rapids}, {@code zen3},
 * {@code zen4}, {@code zen5}; and {@code tiny}, a test model with a few TLB entries everywhere.
 */
public final class CpuPresets {
    private CpuPresets() {
    }

    /** A preset: its {@code --cpu-model} name, one line saying what part it is, the model. */
    public record Preset(String name, String summary, CpuModel model) {
    }

    public static final List<Preset> ALL = List.of(
            new Preset("skylake", "Intel Skylake client (i7-6700K, family 6 model 5Eh), 4.0 GHz", CpuModel.SKYLAKE),
            new Preset("sapphire-rapids", SapphireRapids.SUMMARY, SapphireRapids.MODEL),
            new Preset("zen3", Zen3.SUMMARY, Zen3.MODEL),
            new Preset("zen4", Zen4.SUMMARY, Zen4.MODEL),
            new Preset("zen5", Zen5.SUMMARY, Zen5.MODEL),
            new Preset("tiny", "test model: a few TLB entries everywhere, Skylake timing", CpuModel.TINY));

    /** The preset called {@code name} (case-insensitive); IllegalArgumentException naming the known ones. */
    public static Preset byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (Preset p : ALL) {
            if (p.name().equals(n)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown CPU model '" + name + "' (known: " + names() + ", host, list)");
    }

    /** The preset names, comma-separated. */
    public static String names() {
        StringBuilder b = new StringBuilder();
        for (Preset p : ALL) {
            b.append(b.length() == 0 ? "" : ", ").append(p.name());
        }
        return b.toString();
    }

    /** One line listing every preset with what it models (for {@code --cpu-model list}). */
    public static String listing() {
        StringBuilder b = new StringBuilder("CPU models: ");
        for (Preset p : ALL) {
            b.append(p == ALL.get(0) ? "" : "; ").append(p.name()).append(" = ").append(p.summary());
        }
        return b.append("; host = the preset closest to this machine's CPU").toString();
    }
}
