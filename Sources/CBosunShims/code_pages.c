#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/mman.h>
#include "CBosunShims.h"

/// One mapping of /proc/self/smaps, as far as trimming needs it.
struct bosun_mapping {
    unsigned long start, end;
    char permissions[5];
    int file_backed;
    long anonymous_kb;
};

/// In a read-only mapping that also holds pages the process wrote before making it read-only
/// (relocated data, RELRO), drops only the pages still backed by the file, found in
/// /proc/self/pagemap (bit 63 present, bit 61 file page). Nothing can write to the mapping any
/// more, so no page turns anonymous between the look and the drop.
static void bosun_trim_file_pages_only(int pagemap, unsigned long start, unsigned long end) {
    const unsigned long page = 4096;
    unsigned long run = 0;
    for (unsigned long address = start; address < end; address += page) {
        unsigned long long entry = 0;
        int file_page = pread(pagemap, &entry, sizeof entry, (off_t)(address / page * sizeof entry)) == sizeof entry
            && (entry >> 63 & 1) && (entry >> 61 & 1);
        if (file_page && run == 0) run = address;
        if (!file_page && run != 0) {
            madvise((void *)run, address - run, MADV_DONTNEED);
            run = 0;
        }
    }
    if (run != 0) madvise((void *)run, end - run, MADV_DONTNEED);
}

static long bosun_trim(const struct bosun_mapping *mapping, int pagemap) {
    // Only code and read-only data from a file: a page in a writable mapping may be written (and
    // become the process's own) between any look and the drop, and would lose its contents.
    if (!mapping->file_backed || mapping->permissions[0] != 'r' || mapping->permissions[1] == 'w') return 0;
    size_t length = mapping->end - mapping->start;
    void *address = (void *)mapping->start;
    if (madvise(address, length, MADV_RANDOM) != 0) return 0;
    if (mapping->anonymous_kb == 0) {
        if (madvise(address, length, MADV_DONTNEED) != 0) return 0;
    } else if (pagemap >= 0) {
        bosun_trim_file_pages_only(pagemap, mapping->start, mapping->end);
    }
    return (long)length;
}

long bosun_trim_file_pages(void) {
    FILE *smaps = fopen("/proc/self/smaps", "r");
    if (smaps == NULL) return -1;
    int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    char line[4096];
    struct bosun_mapping current = {0};
    int have = 0;
    long advised = 0;
    while (fgets(line, sizeof line, smaps) != NULL) {
        unsigned long start, end;
        char permissions[5] = {0};
        unsigned long offset, inode;
        char device[32];
        int consumed = 0;
        // A mapping's first line ("start-end perms offset dev inode path"); the lines after it are
        // "Name: value" fields, which never parse this far.
        if (sscanf(line, "%lx-%lx %4s %lx %31s %lu %n", &start, &end, permissions, &offset, device, &inode, &consumed) >= 6) {
            if (have) advised += bosun_trim(&current, pagemap);
            memset(&current, 0, sizeof current);
            current.start = start;
            current.end = end;
            memcpy(current.permissions, permissions, 4);
            const char *path = line + consumed;
            current.file_backed = inode != 0 && path[0] == '/';
            have = 1;
            continue;
        }
        long kb;
        if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) current.anonymous_kb = kb;
    }
    if (have) advised += bosun_trim(&current, pagemap);
    fclose(smaps);
    if (pagemap >= 0) close(pagemap);
    return advised;
}
