package org.mmulab.kernel;

/**
 * An image execve could not open (the EACCES/ENOENT/... cases of fs/exec.c do_open_execat). The message
 * is one line with the reason and errno name; the CLI prints it after the path and exits with 2.
 */
public final class ExecOpenException extends Exception {
    private static final long serialVersionUID = 1L;

    public ExecOpenException(String message) {
        super(message.replace('\n', ' '));
    }
}
