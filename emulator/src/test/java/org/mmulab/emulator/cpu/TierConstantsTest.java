package org.mmulab.emulator.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The translation tier mirrors one decoder constant it cannot see (cpu.tier.MemAccessEmitter.RIPREL); a new
 * interpreter starts on the default engine, which {@code -Dmmulab.engine} selects for a whole test run.
 */
class TierConstantsTest {
    @Test
    void ripRelativeBaseCodeMatchesTheDecoder() throws ReflectiveOperationException {
        var f = Class.forName("org.mmulab.emulator.cpu.tier.MemAccessEmitter").getDeclaredField("RIPREL");
        f.setAccessible(true);
        assertEquals(Decoder.RIPREL, f.getInt(null));
    }

    @Test
    void newInterpretersUseTheDefaultEngine() {
        org.mmulab.emulator.cpu.tier.Engine expected =
                org.mmulab.emulator.cpu.tier.Engine.parse(System.getProperty("mmulab.engine", "tier"));
        System.out.println("TierConstantsTest: default engine " + expected);
        assertEquals(expected, org.mmulab.emulator.cpu.tier.Engine.DEFAULT);
        assertEquals(expected, new TestMachine().cpu.engine());
    }
}
