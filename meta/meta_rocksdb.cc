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
 * 5. A file-system seam for fault tests. RocksDB's Env is a composite of the default one (its
 *    threads and clock) and a FileSystemWrapper over the default file system whose files ask
 *    meta_fs_set_fault_hook's hook before each operation (meta.h), so that a test can fail the
 *    n-th WAL append or sync, an SST write, a MANIFEST rename, and see the engine survive it.
 *    Without a hook (production) each operation costs one atomic load more and goes straight to
 *    the wrapped file; with one, the failures look like the POSIX file system's own (an IOError
 *    with the errno's text, NoSpace for ENOSPC), so the paths they take are the real ones.
 *
 * rocksdb_options_t is the C API's wrapper around rocksdb::Options; its layout below is the one
 * RocksDB's c.cc defines ({ Options rep; }), unchanged since the C API exists.
 */
#include <atomic>
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
#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

extern "C" {
#include "meta/meta.h" /* a C header without its own extern "C" */
}
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

/* ---- the file-system seam (5.) ---- */

std::atomic<meta_fs_fault_fn> fault_hook{nullptr};

/* 0, or the errno the hook fails the operation with; *len (may be NULL) may come back cut. */
int ask(int op, const std::string &path, const std::string *path2 = nullptr, size_t *len = nullptr)
{
    meta_fs_fault_fn fn = fault_hook.load(std::memory_order_acquire);
    return fn == nullptr ? 0 : fn(op, path.c_str(), path2 != nullptr ? path2->c_str() : nullptr, len);
}

/* The status the POSIX file system gives for err (its IOError helper: context, then strerror). */
rocksdb::IOStatus fault_status(int err, const char *context, const std::string &path)
{
    std::string msg = std::string(context) + " " + path;
    if (err == ENOSPC || err == EDQUOT)
        return rocksdb::IOStatus::NoSpace(msg, strerror(err));
    return rocksdb::IOStatus::IOError(msg, strerror(err));
}

class FaultWritableFile : public rocksdb::FSWritableFileOwnerWrapper
{
  public:
    FaultWritableFile(std::unique_ptr<rocksdb::FSWritableFile> &&file, const std::string &path)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(file)), path_(path)
    {
    }

    rocksdb::IOStatus Append(const rocksdb::Slice &data, const rocksdb::IOOptions &opts,
                             rocksdb::IODebugContext *dbg) override
    {
        size_t n = data.size();
        int err = ask(META_FS_WRITE, path_, nullptr, &n);
        if (n < data.size()) { /* a short write: its first bytes land, then it fails or resumes */
            rocksdb::IOStatus s = target()->Append(rocksdb::Slice(data.data(), n), opts, dbg);
            if (!s.ok() || err != 0)
                return s.ok() ? fault_status(err, "While appending to file:", path_) : s;
            return target()->Append(rocksdb::Slice(data.data() + n, data.size() - n), opts, dbg);
        }
        return err != 0 ? fault_status(err, "While appending to file:", path_) : target()->Append(data, opts, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice &data, const rocksdb::IOOptions &opts,
                             const rocksdb::DataVerificationInfo &, rocksdb::IODebugContext *dbg) override
    {
        return Append(data, opts, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice &data, uint64_t offset, const rocksdb::IOOptions &opts,
                                       rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_WRITE, path_);
        return err != 0 ? fault_status(err, "While pwrite to file at offset", path_)
                        : target()->PositionedAppend(data, offset, opts, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice &data, uint64_t offset, const rocksdb::IOOptions &opts,
                                       const rocksdb::DataVerificationInfo &, rocksdb::IODebugContext *dbg) override
    {
        return PositionedAppend(data, offset, opts, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions &opts, rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_SYNC, path_);
        return err != 0 ? fault_status(err, "While fdatasync", path_) : target()->Sync(opts, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions &opts, rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_FSYNC, path_);
        return err != 0 ? fault_status(err, "While fsync", path_) : target()->Fsync(opts, dbg);
    }
    rocksdb::IOStatus Close(const rocksdb::IOOptions &opts, rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_CLOSE, path_);
        rocksdb::IOStatus s = target()->Close(opts, dbg); /* closed either way, as close(2) does */
        return err != 0 ? fault_status(err, "While closing file after writing", path_) : s;
    }

  private:
    std::string path_;
};

/* A read: n bytes, or fewer when the hook cuts it (what a file shorter than expected gives). */
template <typename ReadFn> rocksdb::IOStatus checked_read(const std::string &path, size_t n, ReadFn read)
{
    size_t len = n;
    int err = ask(META_FS_READ, path, nullptr, &len);
    if (err != 0 && len == n)
        return fault_status(err, "While pread offset in file", path);
    return read(len);
}

class FaultRandomAccessFile : public rocksdb::FSRandomAccessFileOwnerWrapper
{
  public:
    FaultRandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> &&file, const std::string &path)
        : rocksdb::FSRandomAccessFileOwnerWrapper(std::move(file)), path_(path)
    {
    }

    rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions &opts, rocksdb::Slice *result,
                           char *scratch, rocksdb::IODebugContext *dbg) const override
    {
        return checked_read(path_, n,
                            [&](size_t len) { return target()->Read(offset, len, opts, result, scratch, dbg); });
    }
    /* One request at a time through Read, as FSRandomAccessFile's own MultiRead does, so that each
     * is checked; without a hook the wrapped file's batched reads are kept. */
    rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest *reqs, size_t num_reqs, const rocksdb::IOOptions &opts,
                                rocksdb::IODebugContext *dbg) override
    {
        if (fault_hook.load(std::memory_order_acquire) == nullptr)
            return target()->MultiRead(reqs, num_reqs, opts, dbg);
        for (size_t i = 0; i < num_reqs; i++)
            reqs[i].status = Read(reqs[i].offset, reqs[i].len, opts, &reqs[i].result, reqs[i].scratch, dbg);
        return rocksdb::IOStatus::OK();
    }

  private:
    std::string path_;
};

class FaultSequentialFile : public rocksdb::FSSequentialFileOwnerWrapper
{
  public:
    FaultSequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> &&file, const std::string &path)
        : rocksdb::FSSequentialFileOwnerWrapper(std::move(file)), path_(path)
    {
    }

    rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions &opts, rocksdb::Slice *result, char *scratch,
                           rocksdb::IODebugContext *dbg) override
    {
        return checked_read(path_, n, [&](size_t len) { return target()->Read(len, opts, result, scratch, dbg); });
    }
    rocksdb::IOStatus PositionedRead(uint64_t offset, size_t n, const rocksdb::IOOptions &opts, rocksdb::Slice *result,
                                     char *scratch, rocksdb::IODebugContext *dbg) override
    {
        return checked_read(
            path_, n, [&](size_t len) { return target()->PositionedRead(offset, len, opts, result, scratch, dbg); });
    }

  private:
    std::string path_;
};

class FaultDirectory : public rocksdb::FSDirectoryWrapper
{
  public:
    FaultDirectory(std::unique_ptr<rocksdb::FSDirectory> &&dir, const std::string &path)
        : rocksdb::FSDirectoryWrapper(std::move(dir)), path_(path)
    {
    }

    rocksdb::IOStatus Fsync(const rocksdb::IOOptions &opts, rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_FSYNC, path_);
        return err != 0 ? fault_status(err, "While fsync", path_) : FSDirectoryWrapper::Fsync(opts, dbg);
    }
    rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions &opts, rocksdb::IODebugContext *dbg,
                                          const rocksdb::DirFsyncOptions &dir_opts) override
    {
        int err = ask(META_FS_FSYNC, path_);
        return err != 0 ? fault_status(err, "While fsync", path_)
                        : FSDirectoryWrapper::FsyncWithDirOptions(opts, dbg, dir_opts);
    }

  private:
    std::string path_;
};

class FaultFileSystem : public rocksdb::FileSystemWrapper
{
  public:
    explicit FaultFileSystem(const std::shared_ptr<rocksdb::FileSystem> &base) : rocksdb::FileSystemWrapper(base)
    {
    }
    const char *Name() const override
    {
        return "YuncangFaultSeam";
    }

    rocksdb::IOStatus NewWritableFile(const std::string &f, const rocksdb::FileOptions &opts,
                                      std::unique_ptr<rocksdb::FSWritableFile> *r,
                                      rocksdb::IODebugContext *dbg) override
    {
        return opened<FaultWritableFile>(f, r, [&] { return target()->NewWritableFile(f, opts, r, dbg); });
    }
    rocksdb::IOStatus ReopenWritableFile(const std::string &f, const rocksdb::FileOptions &opts,
                                         std::unique_ptr<rocksdb::FSWritableFile> *r,
                                         rocksdb::IODebugContext *dbg) override
    {
        return opened<FaultWritableFile>(f, r, [&] { return target()->ReopenWritableFile(f, opts, r, dbg); });
    }
    rocksdb::IOStatus ReuseWritableFile(const std::string &f, const std::string &old, const rocksdb::FileOptions &opts,
                                        std::unique_ptr<rocksdb::FSWritableFile> *r,
                                        rocksdb::IODebugContext *dbg) override
    {
        return opened<FaultWritableFile>(f, r, [&] { return target()->ReuseWritableFile(f, old, opts, r, dbg); });
    }
    rocksdb::IOStatus NewRandomAccessFile(const std::string &f, const rocksdb::FileOptions &opts,
                                          std::unique_ptr<rocksdb::FSRandomAccessFile> *r,
                                          rocksdb::IODebugContext *dbg) override
    {
        return opened<FaultRandomAccessFile>(f, r, [&] { return target()->NewRandomAccessFile(f, opts, r, dbg); });
    }
    rocksdb::IOStatus NewSequentialFile(const std::string &f, const rocksdb::FileOptions &opts,
                                        std::unique_ptr<rocksdb::FSSequentialFile> *r,
                                        rocksdb::IODebugContext *dbg) override
    {
        return opened<FaultSequentialFile>(f, r, [&] { return target()->NewSequentialFile(f, opts, r, dbg); });
    }
    rocksdb::IOStatus NewDirectory(const std::string &f, const rocksdb::IOOptions &opts,
                                   std::unique_ptr<rocksdb::FSDirectory> *r, rocksdb::IODebugContext *dbg) override
    {
        return opened<FaultDirectory>(f, r, [&] { return target()->NewDirectory(f, opts, r, dbg); });
    }
    rocksdb::IOStatus RenameFile(const std::string &from, const std::string &to, const rocksdb::IOOptions &opts,
                                 rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_RENAME, from, &to);
        return err != 0 ? fault_status(err, "While renaming a file to", to) : target()->RenameFile(from, to, opts, dbg);
    }
    rocksdb::IOStatus DeleteFile(const std::string &f, const rocksdb::IOOptions &opts,
                                 rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_DELETE, f);
        return err != 0 ? fault_status(err, "while unlink() file", f) : target()->DeleteFile(f, opts, dbg);
    }
    rocksdb::IOStatus CreateDir(const std::string &d, const rocksdb::IOOptions &opts,
                                rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_MKDIR, d);
        return err != 0 ? fault_status(err, "While mkdir", d) : target()->CreateDir(d, opts, dbg);
    }
    rocksdb::IOStatus CreateDirIfMissing(const std::string &d, const rocksdb::IOOptions &opts,
                                         rocksdb::IODebugContext *dbg) override
    {
        int err = ask(META_FS_MKDIR, d);
        return err != 0 ? fault_status(err, "While mkdir if missing", d) : target()->CreateDirIfMissing(d, opts, dbg);
    }

  private:
    /* Opens f with open() unless the hook fails the open (then nothing is opened), and hands
     * out the file wrapped. */
    template <typename Wrapper, typename File, typename OpenFn>
    static rocksdb::IOStatus opened(const std::string &f, std::unique_ptr<File> *r, OpenFn open)
    {
        int err = ask(META_FS_OPEN, f);
        if (err != 0)
            return fault_status(err, "While open a file", f);
        rocksdb::IOStatus s = open();
        if (s.ok())
            r->reset(new Wrapper(std::move(*r), f));
        return s;
    }
};

/* Built once, never freed: every database of the process uses it until exit. */
rocksdb::Env *seam_env()
{
    static rocksdb::Env *env =
        rocksdb::NewCompositeEnv(std::make_shared<FaultFileSystem>(rocksdb::FileSystem::Default())).release();
    return env;
}

} // namespace

void meta_fs_set_fault_hook(meta_fs_fault_fn fn)
{
    fault_hook.store(fn, std::memory_order_release);
}

int meta_rocksdb_configure(struct rocksdb_options_t *opts, const char *log_path, meta_rocksdb_error_fn on_error,
                           void *arg)
{
    try {
        struct stat st;
        int fd;

        opts->rep.env = seam_env();
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

int meta_rocksdb_pin_metadata(struct rocksdb_options_t *opts)
{
    rocksdb::BlockBasedTableOptions *t;

    if (opts->rep.table_factory == nullptr ||
        (t = opts->rep.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()) == nullptr)
        return -EINVAL;
    /* kAll: the table reader holds them from open to eviction of the table, charged to the
     * cache; the C API only has the older level-0 switch */
    t->metadata_cache_options.unpartitioned_pinning = rocksdb::PinningTier::kAll;
    t->metadata_cache_options.top_level_index_pinning = rocksdb::PinningTier::kAll;
    return 0;
}
