"""Files, written so that nothing is ever lost and read so that nothing can hang us.

atomic_write(path, write): a save either completes or leaves the old file as it was.
open_regular(path): open a file for reading only if it is a regular file - never a device such as
/dev/zero (endless), a FIFO (blocks until someone writes) or a socket.
"""
import contextlib
import errno
import os
import socket
import stat
import tempfile
import time
import zlib

# Our temporary files are named .tge-<host>-<pid>-<random>.tmp (about 35 characters, whatever the
# target's name: a legal 250-character file name must still be savable). The host and pid say who
# wrote one, so a later save can tell a leftover of a killed save from a save in progress.
TEMP_PREFIX = ".tge-"
TEMP_SUFFIX = ".tmp"
STALE_SECONDS = 60          # a leftover is removed only when untouched for this long


class NotRegularFileError(OSError):
    """A path that is a folder, a device, a FIFO or a socket where a regular file was expected."""


def _kind(mode):
    """What a non-regular file is, in words."""
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _check_regular(mode, path, doing):
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(errno.EINVAL, f"is {_kind(mode)}, not a regular file; refused {doing}", path)


def open_regular(path):
    """Open `path` (symlinks followed) for binary reading, if it is a regular file.

    A folder, device, FIFO or socket raises NotRegularFileError (an OSError) before anything is read,
    or even opened: reading /dev/zero never ends, opening a FIFO blocks until a writer comes. Other
    problems raise the usual OSError (FileNotFoundError, PermissionError, ...)."""
    path = os.fspath(path)
    _check_regular(os.stat(path).st_mode, path, "without reading it")
    # O_NONBLOCK: should the path be swapped for a FIFO after the stat, opening it still cannot block;
    # the fstat below then refuses it. On a regular file O_NONBLOCK changes nothing.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        _check_regular(os.fstat(fd).st_mode, path, "without reading it")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def atomic_write(path, write):
    """Call write(f) on a temporary binary file next to `path`, then move it over `path` atomically
    (os.replace). On any error, or an interrupt, the temporary file is removed and `path` is left as
    it was. The new file gets the permissions the old one had (or the umask's default).

    A symlink is followed: the file it points to is replaced and the link stays a link. A target that
    exists but is not a regular file (a folder, /dev/full, a FIFO) raises NotRegularFileError before
    anything is written. Errors name `path`, never the temporary file. Temporary files that earlier
    saves on this machine left behind when they were killed are removed from the folder."""
    path = os.fspath(path)
    target = os.path.realpath(path)
    try:
        _check_regular(os.stat(target).st_mode, path, "to replace it")
    except FileNotFoundError:
        pass                                    # a new file (or a dangling link's target): created
    folder = os.path.dirname(target)
    _remove_stale_temp_files(folder)
    mode = _file_mode(target)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{_host()}-{os.getpid()}-", suffix=TEMP_SUFFIX,
                                   dir=folder)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)                     # mkstemp makes 0600 files
        os.replace(tmp, target)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and (
                e.filename is None or os.path.basename(os.fspath(e.filename)).startswith(TEMP_PREFIX)):
            raise OSError(e.errno, e.strerror, path) from None     # the same subclass, naming the target
        raise
    return path


def _file_mode(path):
    """The permissions `path` has, or those a new file would get."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


_HOST = []


def _host():
    """A short tag of this machine's name (8 hex digits), so process ids are only compared on it."""
    if not _HOST:
        _HOST.append(format(zlib.crc32(socket.gethostname().encode("utf-8", "replace")), "08x"))
    return _HOST[0]


def _running(pid):
    """Whether process `pid` exists on this machine (POSIX: signal 0 probes without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True                             # exists but is not ours, or cannot be asked: keep its files
    return True


def _remove_stale_temp_files(folder):
    """Remove our temporary files in `folder` that a killed save left behind: written on this
    machine by a process that no longer runs, and untouched for STALE_SECONDS. Never fails."""
    if os.name != "posix":                      # on Windows os.kill(pid, 0) would kill, not probe
        return
    mine = f"{TEMP_PREFIX}{_host()}-"
    now = time.time()
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    with entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(mine) and name.endswith(TEMP_SUFFIX)):
                continue
            pid = name[len(mine):].partition("-")[0]
            if not pid.isdigit() or _running(int(pid)):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_SECONDS:
                    os.unlink(entry.path)
