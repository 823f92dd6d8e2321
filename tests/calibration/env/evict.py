"""Drop the page cache of the given trees' files (posix_fadvise DONTNEED on each regular file),
so a backend started next reads its libraries afresh and the pages are charged to its own
memory cgroup — as in a new container, whose image files no other cgroup has read. Pages that
another process has mapped stay (the kernel keeps them); nothing is written or changed."""
import os
import sys


def evict(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


for top in sys.argv[1:]:
    for root, _dirs, files in os.walk(top):
        for name in files:
            p = os.path.join(root, name)
            if os.path.isfile(p) and not os.path.islink(p):
                evict(p)
