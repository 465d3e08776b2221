package org.mmulab.cli;

import org.mmulab.emulator.mmu.CpuModel;
import org.mmulab.emulator.mmu.cpudb.CpuPresets;
import org.mmulab.emulator.mmu.cpudb.HostCpu;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --cpu-model NAME|host|list} (boot and bench): a preset by name, {@code host} for the preset
 * closest to this machine ({@link HostCpu}, which says which and why; on a non-x86 or unknown host it
 * falls back to the default with a message), or {@code list}, which answers with the presets as its
 * one-line message and a usage exit status, as an unknown name does.
 *
 * @param preset  the chosen preset
 * @param message what {@code host} chose and why (printed on stderr), or null for a named preset
 * @param virtualised {@code host} on a machine whose flags include {@code hypervisor} ({@link HostCpu#virtualised})
 */
record CpuModelOption(CpuPresets.Preset preset, String message, boolean virtualised) {
    static final String DEFAULT = "skylake";

    CpuModel model() {
        return preset.model();
    }

    /** Picked by {@code host} (HostCpu always says which preset and why; a named preset has no message). */
    boolean fromHost() {
        return message != null;
    }

    static CpuModelOption parse(String value) {
        if (value.equals("list")) {
            throw new IllegalArgumentException(CpuPresets.listing());
        }
        if (value.equals("host")) {
            HostCpu h = HostCpu.detect();
            return new CpuModelOption(h.preset(), h.message(), h.virtualised());
        }
        return new CpuModelOption(CpuPresets.byName(value), null, false);
    }

    /**
     * The preset's name, as the user gives it. picocli renders every option's value as a string while it parses
     * (at each boot, tracing on or off); the record's generated toString would print the whole CPU model and
     * bootstrap the record's method handles on the way, about a fifth of a {@code boot hello}'s main thread.
     */
    @Override
    public String toString() {
        return preset.name();
    }

    /** picocli converter: a bad name or {@code list} is a usage error with a one-line message. */
    static final class Converter implements ITypeConverter<CpuModelOption> {
        @Override
        public CpuModelOption convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
