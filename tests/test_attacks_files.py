"""Issue 15, item 9: atomic saves under attack - symlinks, targets that are not regular files (a
FIFO, a folder, a device node like /dev/full), a legal 250-character file name, the temporary files a
`kill -9` leaves behind, errors that name the target; and open_regular, which never blocks on a FIFO."""
import errno
import os
import stat
import subprocess
import sys
import time

import pytest

import nn
import tinygrad_edu as te
from attack_helpers import POSIX, REPO, same_weights, small_model, watchdog
from tinygrad_edu import files

watchdog = pytest.fixture(watchdog)

def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real" / "m.npz"
    target.parent.mkdir()
    small_model(0).save(target)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    new = small_model(5)
    new.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert same_weights(nn.load(target), new) and same_weights(nn.load(link), new)
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real"] and os.listdir(target.parent) == ["m.npz"]
    dangling = tmp_path / "dangling.npz"                    # a link to a file not there yet: created
    dangling.symlink_to(tmp_path / "real" / "new.npz")
    new.save(dangling)
    assert dangling.is_symlink() and same_weights(nn.load(tmp_path / "real" / "new.npz"), new)


def non_regular_targets(tmp_path):
    """A FIFO, a folder and, as root, a character device node like /dev/full (made in tmp_path: the
    real /dev/full is never touched)."""
    targets = {}
    if hasattr(os, "mkfifo"):
        targets["FIFO"] = tmp_path / "pipe.npz"
        os.mkfifo(targets["FIFO"])
    targets["folder"] = tmp_path / "folder.npz"
    targets["folder"].mkdir()
    if POSIX and os.geteuid() == 0:
        targets["character device"] = tmp_path / "full"
        os.mknod(targets["character device"], stat.S_IFCHR | 0o666, os.makedev(1, 7))   # /dev/full's numbers
    return targets


def test_saves_refuse_non_regular_targets_before_writing(tmp_path, watchdog):
    for kind, path in non_regular_targets(tmp_path).items():
        mode = os.lstat(path).st_mode
        before = sorted(os.listdir(tmp_path))
        with pytest.raises(te.NotRegularFileError, match=kind) as info:
            small_model().save(path)
        assert info.value.filename == str(path)
        assert os.lstat(path).st_mode == mode                   # still a FIFO / folder / device node
        assert sorted(os.listdir(tmp_path)) == before           # no temporary file left
        with pytest.raises(te.NotRegularFileError):
            te.atomic_write(path, lambda f: f.write(b"x"))


def test_a_legal_250_character_file_name_can_be_saved(tmp_path):
    path = tmp_path / ("m" * 246 + ".npz")
    model = small_model()
    model.save(path)
    assert same_weights(nn.load(path), model)
    assert os.listdir(tmp_path) == [path.name]


def test_errors_name_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"

    def disk_full(f):
        f.write(b"part")
        raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(OSError) as info:
        te.atomic_write(path, disk_full)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    real_replace = os.replace

    def failing_replace(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", src)
    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(PermissionError) as info:
        small_model().save(path)
    assert info.value.filename == str(path) and files.TEMP_PREFIX not in str(info.value)
    monkeypatch.setattr(files.os, "replace", real_replace)
    assert os.listdir(tmp_path) == []
    missing = tmp_path / "no such folder" / "m.npz"            # mkstemp fails: still the target's name
    with pytest.raises(FileNotFoundError) as info:
        small_model().save(missing)
    assert info.value.filename == str(missing)


KILLED_SAVE = """
import sys, time
from tinygrad_edu import atomic_write
def write(f):
    f.write(b"half a model" * 1000)
    f.flush()
    print("writing", flush=True)
    time.sleep(600)
atomic_write(sys.argv[1], write)
"""


@pytest.mark.skipif(not POSIX, reason="stale temporary files are recognised by process id on POSIX only")
def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path):
    target = tmp_path / "m.npz"
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target)], stdout=subprocess.PIPE, text=True,
                             cwd=REPO)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.kill()                                            # kill -9 in the middle of the save
        child.wait()
    leftovers = [n for n in os.listdir(tmp_path) if n.startswith(files.TEMP_PREFIX)]
    assert len(leftovers) == 1 and not target.exists()
    assert len(leftovers[0]) < 50                               # short, whatever the target's name
    stale = tmp_path / leftovers[0]
    # files that are not ours, or are ours but recent or of a live process, are kept
    mine_alive = tmp_path / f"{files.TEMP_PREFIX}{files._host()}-{os.getpid()}-abc{files.TEMP_SUFFIX}"
    other_host = tmp_path / f"{files.TEMP_PREFIX}00000000-{child.pid}-abc{files.TEMP_SUFFIX}"
    foreign = tmp_path / ".m.npz.abc.tmp"
    for path in (mine_alive, other_host, foreign):
        path.write_bytes(b"x")
    old = time.time() - 2 * files.STALE_SECONDS
    for path in (mine_alive, other_host, foreign):
        os.utime(path, (old, old))
    small_model().save(tmp_path / "other.npz")                  # recent: kept for now
    assert stale.exists()
    os.utime(stale, (old, old))
    small_model().save(tmp_path / "other.npz")
    assert not stale.exists()
    assert mine_alive.exists() and other_host.exists() and foreign.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_path_swapped_for_a_fifo_after_the_check_still_cannot_block(tmp_path, monkeypatch, watchdog):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    regular = os.stat(__file__)
    monkeypatch.setattr(files.os, "stat", lambda path, *a, **k: regular)     # the check sees a regular file
    with pytest.raises(te.NotRegularFileError, match="FIFO"):
        files.open_regular(fifo)                                            # O_NONBLOCK open, then fstat
