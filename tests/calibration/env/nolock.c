/* nolock ERRNO CMD...: run CMD with every file-lock syscall failing with ERRNO (ENOLCK or
 * EOPNOTSUPP), the way a filesystem without lock support answers (NFS without lockd: ENOLCK;
 * some FUSE/9p servers: EOPNOTSUPP). A seccomp filter, inherited by every child: flock(2) and
 * fcntl(2) with F_GETLK/F_SETLK/F_SETLKW/F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW. x86_64 and
 * aarch64 syscall numbers come from <sys/syscall.h>. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

#define NR offsetof(struct seccomp_data, nr)
#define ARG1 offsetof(struct seccomp_data, args[1])

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: nolock ENOLCK|EOPNOTSUPP CMD...\n");
        return 2;
    }
    unsigned err = strcmp(argv[1], "EOPNOTSUPP") == 0 ? EOPNOTSUPP : ENOLCK;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_flock, 9, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 9),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG1),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_GETLK, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLK, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLKW, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_GETLK, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLK, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLKW, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("nolock: seccomp");
        return 97;
    }
    execvp(argv[2], argv + 2);
    perror("nolock: exec");
    return 127;
}
