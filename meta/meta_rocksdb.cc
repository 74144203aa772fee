/* meta_rocksdb.cc — what a full disk needs from RocksDB that its C API (7.8.3) lacks.
 *
 * 1. An info log that survives a failed write. RocksDB's own LOG writer is a WritableFileWriter:
 *    once one append fails (ENOSPC), the next line it logs trips
 *    `assert(sync_without_flush_called_)` in AssertFalseAndGetStatusForPrevError, and Debian's
 *    build keeps its assertions, so the process aborts. It logs on every failed write (the error
 *    handler) and dumps its options at every open, so a full drive killed the process while
 *    writing, and killed it again at the next start. The logger below writes each line with one
 *    write(2) on an O_APPEND descriptor and ignores the result: a full disk loses log lines, never
 *    the process. Only warnings and errors are kept (the options dump is in the OPTIONS file
 *    already), and the file starts over at each open once it passed a few MiB.
 * 2. Preallocation off (allow_fallocate). RocksDB fallocates WAL files by 1.1 write buffers
 *    (17.6 MiB here), SSTs by 1.1 target file sizes and the MANIFEST by 4 MiB. Those blocks are
 *    taken from the drive at once (tmpfs commits pages, ext4 and XFS reserve blocks) although no
 *    byte is in them yet, so they eat the free-space reserve of store/ unseen. The records are
 *    small and every WAL append is synced anyway, so preallocation buys little here.
 * 3. No flush of the replayed WAL at open (avoid_flush_during_recovery): an open would otherwise
 *    write the memtables it rebuilt into a new SST before serving anything, which needs as much
 *    free space as the WAL holds; on a full drive the open fails and the database could never be
 *    reopened to take the deletes that free space. The WAL files are kept until the memtables
 *    are flushed in the normal course. A WAL torn by a failed append ends in a partial record,
 *    which replay takes as the end of that file, as after a crash.
 * 4. A background-error listener. RocksDB reports write failures of its own threads (flush,
 *    compaction, MANIFEST) only through the next foreground write; the listener tells meta_db.c
 *    at once, so that the handle is marked failed before any other write reaches it. It also
 *    turns RocksDB's automatic recovery off: after an error the database stays stopped until
 *    meta_db.c closes and reopens it, which is the one recovery path there is to reason about.
 *
 * rocksdb_options_t is the C API's wrapper around rocksdb::Options; its layout below is the one
 * RocksDB's c.cc defines ({ Options rep; }), unchanged since the C API exists.
 */
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <rocksdb/c.h>
#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>

#include "meta/meta_internal.h"

extern "C" {
struct rocksdb_options_t {
    rocksdb::Options rep;
};
}

namespace
{

/* The log starts over at an open once it is larger than this (the previous one is kept). */
constexpr off_t kLogRollBytes = 4 << 20;
/* One line; longer ones are cut (RocksDB's error lines are a few hundred bytes). */
constexpr size_t kLogLineMax = 1024;

class DropOnErrorLogger : public rocksdb::Logger
{
  public:
    explicit DropOnErrorLogger(int fd) /* takes fd (may be -1: lines go nowhere) */
        : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), fd_(fd)
    {
    }
    ~DropOnErrorLogger() override
    {
        if (fd_ >= 0)
            close(fd_);
    }

    using rocksdb::Logger::Logv;
    void Logv(const char *format, va_list ap) override
    {
        char line[kLogLineMax];
        struct timeval tv;
        struct tm tm;
        size_t n;
        int m;

        gettimeofday(&tv, nullptr);
        localtime_r(&tv.tv_sec, &tm);
        m = snprintf(line, sizeof(line), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
        n = m > 0 ? (size_t)m : 0;
        /* Room is kept for the newline; vsnprintf writes at most cap - n - 1 characters. */
        const size_t cap = sizeof(line) - 1;
        m = vsnprintf(line + n, cap - n, format, ap);
        if (m > 0)
            n += (size_t)m < cap - n - 1 ? (size_t)m : cap - n - 1;
        if (n == 0 || line[n - 1] != '\n')
            line[n++] = '\n';
        /* One write of the whole line: O_APPEND keeps concurrent lines whole, and a failure
         * (the disk is full) only loses this line. */
        ssize_t w = write(fd_, line, n);
        (void)w;
    }

  private:
    int fd_;
};

class ErrorListener : public rocksdb::EventListener
{
  public:
    ErrorListener(meta_rocksdb_error_fn fn, void *arg) : fn_(fn), arg_(arg)
    {
    }

    void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status *bg_error) override
    {
        if (bg_error != nullptr && !bg_error->ok())
            fn_(arg_, bg_error->IsNoSpace() || bg_error->ToString().find("No space left") != std::string::npos);
    }

    void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool *auto_recovery) override
    {
        if (auto_recovery != nullptr)
            *auto_recovery = false;
    }

  private:
    meta_rocksdb_error_fn fn_;
    void *arg_;
};

} // namespace

int meta_rocksdb_configure(struct rocksdb_options_t *opts, const char *log_path, meta_rocksdb_error_fn on_error,
                           void *arg)
{
    try {
        struct stat st;
        int fd;

        opts->rep.allow_fallocate = false;
        opts->rep.avoid_flush_during_recovery = true;
        /* RocksDB would retry a failed write by itself, on its own threads (retryable IO
         * errors, and a full drive is one); meta_db.c reopens instead. */
        opts->rep.max_bgerror_resume_count = 0;
        if (log_path != nullptr) {
            if (stat(log_path, &st) == 0 && st.st_size > kLogRollBytes) {
                char old[4096];
                if (snprintf(old, sizeof(old), "%s.old", log_path) < (int)sizeof(old))
                    rename(log_path, old);
            }
            /* A log that cannot be opened (a full drive refusing the inode) gives a logger that
             * writes nowhere: RocksDB must not fall back to its own file logger. */
            fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            opts->rep.info_log = std::make_shared<DropOnErrorLogger>(fd);
        }
        if (on_error != nullptr)
            opts->rep.listeners.push_back(std::make_shared<ErrorListener>(on_error, arg));
        return 0;
    } catch (...) {
        return -ENOMEM;
    }
}
