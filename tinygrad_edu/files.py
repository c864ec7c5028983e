"""Writing files so that nothing is ever lost: a save either completes or leaves the old file as it was."""
import contextlib
import os
import stat
import tempfile


def atomic_write(path, write):
    """Call write(f) on a temporary binary file next to `path`, then move it over `path` atomically
    (os.replace). On any error, or an interrupt, the temporary file is removed and `path` is left as
    it was. The new file gets the permissions the old one had (or the umask's default)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))         # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
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
