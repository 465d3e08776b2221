package org.mmulab.gdbstub.target;

/** Receives the one stop event per resume, after every vCPU has stopped. May be called from any thread. */
@FunctionalInterface
public interface StopListener {
    void onStop(StopEvent event);
}
