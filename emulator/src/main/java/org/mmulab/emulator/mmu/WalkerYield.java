package org.mmulab.emulator.mmu;

/**
 * Where the page walker lets a deterministic scheduler switch vCPUs: before each paging-structure
 * load and before the locked compare-and-exchange that sets Accessed/Dirty (SDM Vol. 3A §4.8, §8.1.2:
 * the walker's loads are ordinary loads other processors' stores race with; the A/D update is a locked
 * RMW). Installed by the machine under DETERMINISTIC scheduling only; none otherwise.
 */
public interface WalkerYield {
    void beforeLoad();

    void beforeAdUpdate();
}
