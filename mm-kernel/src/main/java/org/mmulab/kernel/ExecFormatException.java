package org.mmulab.kernel;

/**
 * An executable the loader refuses (the ENOEXEC cases of fs/binfmt_elf.c, and what mmulab does not
 * support yet). The message is one line saying what is wrong; the CLI prints it and exits with 2.
 */
public final class ExecFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public ExecFormatException(String message) {
        super(message.replace('\n', ' '));
    }
}
