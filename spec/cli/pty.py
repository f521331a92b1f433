# Runs a command under a pseudo-terminal, for the CLI specs: the spec writes keystrokes to this helper's stdin and
# reads what the terminal shows from its stdout (the command's stdout and stderr, as a terminal merges them).
# Usage: python3 pty.py <columns> <command> [args...]; exits with the command's exit code (128 + n for signal n).
import fcntl
import os
import select
import struct
import sys
import termios

columns = int(sys.argv[1])
command = sys.argv[2:]
master, slave = os.openpty()
# The size is set before the command starts, so it never sees a 0x0 terminal.
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, columns, 0, 0))
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    os.execvp(command[0], command)
os.close(slave)

keys = sys.stdin.fileno()
screen = sys.stdout.fileno()
readers = [master, keys]
while True:
    ready, _, _ = select.select(readers, [], [])
    if keys in ready:
        typed = os.read(keys, 4096)
        if typed:
            os.write(master, typed)
        else:
            # The spec closed its end: stop reading it, but keep the terminal open (closing it would hang up the command).
            readers.remove(keys)
    if master in ready:
        try:
            shown = os.read(master, 4096)
        except OSError:
            # EIO: every process holding the terminal has exited.
            shown = b''
        if not shown:
            break
        os.write(screen, shown)

_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
