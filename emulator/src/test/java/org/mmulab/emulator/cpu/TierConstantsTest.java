package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The translation tier mirrors one decoder constant it cannot see (cpu.tier.BlockCompiler.RIPREL). */
class TierConstantsTest {
    @Test
    void ripRelativeBaseCodeMatchesTheDecoder() throws ReflectiveOperationException {
        var f = Class.forName("org.mmulab.emulator.cpu.tier.BlockCompiler").getDeclaredField("RIPREL");
        f.setAccessible(true);
        assertEquals(Decoder.RIPREL, f.getInt(null));
    }
}
