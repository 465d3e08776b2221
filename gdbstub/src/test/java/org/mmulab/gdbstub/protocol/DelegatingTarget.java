package org.mmulab.gdbstub.protocol;

import org.mmulab.gdbstub.target.BreakpointType;
import org.mmulab.gdbstub.target.GdbTarget;
import org.mmulab.gdbstub.target.ResumePlan;
import org.mmulab.gdbstub.target.StopEvent;
import org.mmulab.gdbstub.target.StopListener;
import org.mmulab.gdbstub.target.TargetArch;

/** Forwards every call; tests override single methods to observe or break them. */
class DelegatingTarget implements GdbTarget {
    private final GdbTarget d;

    DelegatingTarget(GdbTarget d) {
        this.d = d;
    }

    @Override
    public TargetArch arch() {
        return d.arch();
    }

    @Override
    public int threadCount() {
        return d.threadCount();
    }

    @Override
    public StopEvent attach(StopListener listener) {
        return d.attach(listener);
    }

    @Override
    public byte[] readRegister(int thread, int regnum) {
        return d.readRegister(thread, regnum);
    }

    @Override
    public boolean writeRegister(int thread, int regnum, byte[] value) {
        return d.writeRegister(thread, regnum, value);
    }

    @Override
    public byte[] readMemory(int thread, long address, int length) {
        return d.readMemory(thread, address, length);
    }

    @Override
    public int writeMemory(int thread, long address, byte[] data) {
        return d.writeMemory(thread, address, data);
    }

    @Override
    public boolean insertBreakpoint(BreakpointType type, long address, int kind) {
        return d.insertBreakpoint(type, address, kind);
    }

    @Override
    public boolean removeBreakpoint(BreakpointType type, long address, int kind) {
        return d.removeBreakpoint(type, address, kind);
    }

    @Override
    public void resume(ResumePlan plan) {
        d.resume(plan);
    }

    @Override
    public void interrupt() {
        d.interrupt();
    }

    @Override
    public String monitor(String command) {
        return d.monitor(command);
    }

    @Override
    public void detach() {
        d.detach();
    }

    @Override
    public void release() {
        d.release();
    }

    @Override
    public void kill() {
        d.kill();
    }
}
