/**
 * CPU presets as data, one file per part with its sources cited (after Bochs' {@code cpu/cpudb/}): each
 * gives a {@link org.mmulab.emulator.mmu.CpuModel} — TLB hierarchy, paging-structure caches, MAXPHYADDR
 * — and its {@link org.mmulab.emulator.timing.TimingModel} — caches, latencies, frequency, trap and
 * fault costs. {@link org.mmulab.emulator.mmu.cpudb.CpuPresets} is the registry behind
 * {@code --cpu-model NAME|host|list}; {@link org.mmulab.emulator.mmu.cpudb.HostCpu} picks the preset
 * closest to a machine from its {@code /proc/cpuinfo} text. Depends on {@code mmu} and {@code timing} only.
 */
package org.mmulab.emulator.mmu.cpudb;
