"""The Debian package of `make deb`, seen as dpkg, systemd and an admin see it.

- its metadata and file list (dpkg-deb -I/-f/-c): the fields, the conffiles, stripped binaries,
  and a Depends: that names the package of every library the binaries link, found here the other
  way round (objdump -p for the NEEDED names, ldd for their files, dpkg -S for their packages);
- a real installation: dpkg -i, then dpkg --purge, inside a private mount namespace whose /etc,
  /var and /usr are overlays on the machine's own (every write lands in a tmpfs that vanishes
  with the namespace), so the maintainer scripts really create the system user, the folders and
  the secrets, and dpkg really records the conffiles;
- the extracted yc-gateway started with the shipped configuration, adapted only to a temporary
  data folder, log folder and free port, serving a PUT and a GET through boto3; its access log
  reopened on SIGHUP after a rotation (what the shipped logrotate rule relies on); the same
  start, and yc-store's from the shipped store-main.env, under their units' restrictions as far
  as they can be rebuilt without systemd (a read-only file system but for the ReadWritePaths,
  another user, no new privileges, no capability, no writable and executable memory, only the
  allowed socket families);
- the units: `systemd-analyze verify` and `security --offline` on the extracted tree, and the
  hardening each unit must carry; lintian on the package where it is installed;
- every binary's --help (exit 0, usage, options) and the man page made from it;
- the three-node install of docs/operations.md, from the files that section has the admin
  write, with the extracted binaries on three loopback addresses.

There is no running systemd on the machines that run this suite, so the units are not started
here: docs/operations.md ("Installing from the package") gives the check to run by hand.
"""
import ctypes
import ctypes.util
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from conftest import REPO_ROOT, _die_with_parent, free_port, make_client, random_keys

BINARIES = ("yc-gateway", "yc-store", "yc-admin")
UNITS = ("yc-gateway.service", "yc-store@.service")
READY_TIMEOUT = 20.0
NOBODY = 65534  # the sandboxed daemons' user, standing for yuncang


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


@pytest.fixture(scope="module")
def deb():
    """The package `make deb` builds (the last line it prints is its path)."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (this is not a Debian machine)")
    res = run(["make", "-s", "deb"], cwd=REPO_ROOT, timeout=1200)
    assert res.returncode == 0, "make deb failed:\n%s\n%s" % (res.stdout[-3000:], res.stderr[-3000:])
    path = res.stdout.strip().splitlines()[-1]
    assert path.endswith(".deb") and os.path.isfile(path), res.stdout
    return path


@pytest.fixture(scope="module")
def workdir():
    """A folder every user may traverse (the sandboxed gateway runs as another user)."""
    d = tempfile.mkdtemp(prefix="yc-pkg-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def root(deb, workdir):
    """The package's files, extracted as dpkg-deb -x lays them out."""
    r = os.path.join(workdir, "root")
    res = run(["dpkg-deb", "-x", deb, r])
    assert res.returncode == 0, res.stderr
    os.chmod(r, 0o755)
    return r


def fields(deb):
    out = run(["dpkg-deb", "-f", deb]).stdout
    result, name = {}, None
    for line in out.splitlines():
        if line.startswith(" ") and name:
            result[name] += "\n" + line
        else:
            name, _, value = line.partition(":")
            result[name] = value.strip()
    return result


def depends_names(depends):
    """Package names of a Depends: field (each alternative)."""
    names = set()
    for clause in depends.split(","):
        for alt in clause.split("|"):
            names.add(re.split(r"[\s(:]", alt.strip())[0])
    return names


def unit_settings(path):
    """{(section, key): [values]} of a unit file (keys repeat: EnvironmentFile, ReadWritePaths)."""
    settings, sect = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                sect = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            settings.setdefault((sect, key.strip()), []).append(value.strip())
    return settings


def yaml_setting(text, name):
    m = re.search(r"^%s:\s*(\S+)" % re.escape(name), text, re.M)
    return m.group(1) if m else None


# ---------------------------------------------------------------- metadata and contents

def test_control_fields_name_the_package_this_tree_builds(deb):
    f = fields(deb)
    assert f["Package"] == "yuncang"
    head = run(["git", "rev-parse", "--short=8", "HEAD"], cwd=REPO_ROOT).stdout.strip()
    assert re.fullmatch(r"\d[0-9A-Za-z.+~]*", f["Version"]) and head in f["Version"], f["Version"]
    assert f["Architecture"] == run(["dpkg", "--print-architecture"]).stdout.strip()
    assert f["Maintainer"] and f["Description"].startswith("S3-compatible")
    assert int(f["Installed-Size"]) > 100  # KiB: the three binaries at least
    info = run(["dpkg-deb", "-I", deb]).stdout
    for member in ("control", "conffiles", "md5sums", "postinst", "prerm", "postrm"):
        assert re.search(r"\s%s\s" % member, info), "control member %s missing:\n%s" % (member, info)


def linked_packages(binary):
    """The Debian packages holding the shared libraries binary needs: objdump's NEEDED names,
    resolved by the dynamic linker (ldd), owned according to dpkg -S."""
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", run(["objdump", "-p", binary]).stdout, re.M)
    assert needed, binary
    resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", binary]).stdout, re.M))
    packages = {}
    for lib in needed:
        assert lib in resolved, "%s needs %s, which the dynamic linker does not find" % (binary, lib)
        path = resolved[lib]
        owners = None
        # merged /usr: dpkg may know the file under /lib or /usr/lib
        for candidate in (path, os.path.realpath(path), re.sub(r"^/usr/lib/", "/lib/", path),
                          re.sub(r"^/lib/", "/usr/lib/", path)):
            res = run(["dpkg", "-S", candidate])
            if res.returncode == 0:
                owners = {o.split(":")[0].strip() for o in res.stdout.split(": ")[0].split(",")}
                break
        assert owners, "no package owns %s (%s)" % (path, lib)
        packages[lib] = owners
    return packages


def test_depends_names_the_package_of_every_linked_library(deb, root):
    depends = fields(deb)["Depends"]
    names = depends_names(depends)
    for b in BINARIES:
        for lib, owners in linked_packages(os.path.join(root, "usr/bin", b)).items():
            assert owners & names, "%s links %s of %s, not in Depends: %s" % (b, lib, owners, depends)
    assert not [n for n in names if n.endswith("-dev")], depends
    assert "adduser" in names  # postinst makes the system user with it
    # versions come from the libraries' shlibs/symbols files, not from nowhere
    assert re.search(r"librocksdb[\w.]* \(>= [\d.]+", depends) and re.search(r"libc6 \(>= ", depends), depends


def test_contents_install_binaries_units_config_and_logrotate(deb, root):
    listing = run(["dpkg-deb", "-c", deb]).stdout
    entries = {}
    for line in listing.splitlines():
        parts = line.split(None, 5)
        entries[parts[5].lstrip(".").split(" -> ")[0]] = (parts[0], parts[1])
    for b in BINARIES:
        assert entries.get("/usr/bin/" + b) == ("-rwxr-xr-x", "root/root"), entries.get("/usr/bin/" + b)
        sections = run(["readelf", "-S", os.path.join(root, "usr/bin", b)]).stdout
        assert ".debug_info" not in sections and ".symtab" not in sections, "%s is not stripped" % b
        assert entries.get("/usr/share/man/man8/%s.8.gz" % b, ("",))[0] == "-rw-r--r--"
    for u in UNITS:
        assert entries.get("/lib/systemd/system/" + u) == ("-rw-r--r--", "root/root")
    for f in ("/etc/yuncang/yuncang.yaml", "/etc/yuncang/store-main.env", "/etc/logrotate.d/yuncang",
              "/usr/share/doc/yuncang/copyright", "/usr/share/doc/yuncang/operations.md"):
        assert f in entries, "%s missing from the package" % f
    # the secrets are made per host by postinst, never shipped
    assert not [p for p in entries if p.startswith("/etc/yuncang/") and p.endswith(("root.env", "cluster.env"))]
    tops = {p.split("/")[1] for p in entries if p.count("/") > 1}
    assert tops <= {"etc", "lib", "usr"}, tops
    assert not [p for p in entries if p.startswith("/usr/local")]
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert sorted(conffiles) == sorted(p for p in entries if p.startswith("/etc/") and not p.endswith("/"))


def test_maintainer_scripts_are_valid_shell(deb, workdir):
    ctl = os.path.join(workdir, "control")
    assert run(["dpkg-deb", "-e", deb, ctl]).returncode == 0
    for s in ("postinst", "prerm", "postrm"):
        path = os.path.join(ctl, s)
        assert os.access(path, os.X_OK), s
        res = run(["sh", "-n", path])
        assert res.returncode == 0, "%s: %s" % (s, res.stderr)
        if shutil.which("shellcheck"):
            res = run(["shellcheck", "-s", "sh", path])
            assert res.returncode == 0, "%s:\n%s" % (s, res.stdout)


def test_lintian_finds_no_error_or_warning(deb):
    if shutil.which("lintian") is None:
        pytest.skip("lintian is not installed")
    res = run(["lintian", "--tag-display-limit", "0", deb], timeout=600)
    problems = [l for l in res.stdout.splitlines() if re.match(r"[EW]: ", l)]
    assert not problems and res.returncode == 0, res.stdout + res.stderr


# ---------------------------------------------------------------- a real installation

INSTALL_SCRIPT = r"""
set -eu
# every write of dpkg and of the maintainer scripts lands in this tmpfs, gone with the namespace
mount -t tmpfs yc-pkg "$OVL"
for d in etc var usr; do
    mkdir -p "$OVL/$d.upper" "$OVL/$d.work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$OVL/$d.upper,workdir=$OVL/$d.work" "/$d"
done
export DEBIAN_FRONTEND=noninteractive
echo "== install"; dpkg -i "$DEB" 2>&1
echo "== status"; dpkg-query -W -f='${Status} ${Version}\n' yuncang
echo "== conffiles"; dpkg-query -W -f='${Conffiles}\n' yuncang
echo "== user"; getent passwd yuncang
echo "== group"; getent group yuncang
echo "== files"; stat -c '%n %U:%G %a' /etc/yuncang/root.env /etc/yuncang/cluster.env /var/lib/yuncang /var/log/yuncang \
    /usr/bin/yc-gateway /etc/yuncang/yuncang.yaml
echo "== root.env"; cat /etc/yuncang/root.env
echo "== cluster.env"; cat /etc/yuncang/cluster.env
sum1=$(md5sum /etc/yuncang/root.env /etc/yuncang/cluster.env)
echo "== reconfigure"; dpkg-reconfigure yuncang 2>&1 || dpkg --configure --force-all yuncang 2>&1 || true
/var/lib/dpkg/info/yuncang.postinst configure
sum2=$(md5sum /etc/yuncang/root.env /etc/yuncang/cluster.env)
[ "$sum1" = "$sum2" ] && echo "secrets kept" || echo "secrets changed"
echo "== upgrade"  # the same package again: dpkg runs the upgrade path of every script
echo "# edited by the admin" >> /etc/yuncang/yuncang.yaml
dpkg -i "$DEB" </dev/null 2>&1 | tail -n 2
tail -n 1 /etc/yuncang/yuncang.yaml
sum3=$(md5sum /etc/yuncang/root.env /etc/yuncang/cluster.env)
[ "$sum1" = "$sum3" ] && echo "secrets kept" || echo "secrets changed"
echo "== logrotate"
if command -v logrotate >/dev/null; then
    mkdir -p /var/log/yuncang && echo line > /var/log/yuncang/access.log && chown yuncang:yuncang /var/log/yuncang/access.log
    logrotate -f -s "$OVL/logrotate.state" /etc/logrotate.d/yuncang 2>&1 && echo "rotate rc=0"
    ls /var/log/yuncang
else
    echo "no logrotate"
fi
echo "== purge"; dpkg --purge yuncang 2>&1
echo "== after"; ls -d /etc/yuncang/root.env /etc/yuncang/cluster.env /usr/bin/yc-gateway /var/log/yuncang 2>&1 || true
ls -d /var/lib/yuncang
"""


def sections_of(out):
    result, name = {}, None
    for line in out.splitlines():
        if line.startswith("== "):
            name = line[3:].strip()
            result[name] = []
        elif name is not None:
            result[name].append(line)
    return result


@pytest.fixture(scope="module")
def installed(deb, workdir):
    """The output of INSTALL_SCRIPT, run as root in a private mount namespace."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("installing needs root and unshare (a private mount namespace)")
    probe = run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                 "mount -t tmpfs t /mnt && mkdir /mnt/u /mnt/w && mount -t overlay o "
                 "-o lowerdir=/etc,upperdir=/mnt/u,workdir=/mnt/w /etc"])
    if probe.returncode != 0:
        pytest.skip("no overlay mounts in a private namespace here: %s" % probe.stderr.strip())
    ovl = os.path.join(workdir, "overlay")
    os.makedirs(ovl)
    res = run(["unshare", "-m", "--propagation", "private", "bash", "-c", INSTALL_SCRIPT],
              env=dict(os.environ, DEB=deb, OVL=ovl), timeout=600)
    assert res.returncode == 0, "install script failed:\n%s\n%s" % (res.stdout[-4000:], res.stderr[-2000:])
    return sections_of(res.stdout), res.stdout


def test_dpkg_installs_and_configures_the_package(installed):
    s, out = installed
    assert s["status"] == [s["status"][0]] and s["status"][0].startswith("install ok installed "), out
    conffiles = " ".join(s["conffiles"])
    for c in ("/etc/yuncang/yuncang.yaml", "/etc/yuncang/store-main.env", "/etc/logrotate.d/yuncang"):
        assert c in conffiles, out


def test_postinst_makes_a_system_user_folders_and_private_secrets(installed):
    s, out = installed
    user = s["user"][0].split(":")
    assert user[0] == "yuncang" and int(user[2]) < 1000, user  # a system user
    assert user[5] == "/var/lib/yuncang" and user[6] in ("/usr/sbin/nologin", "/bin/false"), user
    assert s["group"] and s["group"][0].startswith("yuncang:"), out
    modes = {line.split()[0]: line.split()[1:] for line in s["files"]}
    assert modes["/etc/yuncang/root.env"] == ["root:root", "600"]
    assert modes["/etc/yuncang/cluster.env"] == ["root:root", "600"]
    assert modes["/var/lib/yuncang"] == ["yuncang:yuncang", "750"]
    assert modes["/var/log/yuncang"] == ["yuncang:yuncang", "750"]
    assert modes["/usr/bin/yc-gateway"] == ["root:root", "755"]
    assert modes["/etc/yuncang/yuncang.yaml"] == ["root:root", "644"]
    env = dict(line.split("=", 1) for line in s["root.env"])
    assert env["YC_ROOT_USER"] == "admin" and re.fullmatch(r"[0-9a-f]{40}", env["YC_ROOT_PASSWORD"]), env
    secret = dict(line.split("=", 1) for line in s["cluster.env"])["YC_CLUSTER_SECRET"]
    assert re.fullmatch(r"[0-9a-f]{48}", secret), secret
    assert "secrets kept" in s["reconfigure"], out  # a second configure never replaces them


def test_upgrade_keeps_the_admins_config_and_the_secrets(installed):
    s, out = installed
    assert "# edited by the admin" in s["upgrade"], out
    assert "secrets kept" in s["upgrade"], out


def test_logrotate_rule_rotates_the_access_log(installed):
    s, out = installed
    if s["logrotate"] == ["no logrotate"]:
        pytest.skip("logrotate is not installed (the package only recommends it)")
    assert "rotate rc=0" in s["logrotate"], out
    assert "access.log.1" in s["logrotate"], out  # rotated; delaycompress keeps .1 plain


def test_purge_removes_secrets_and_logs_but_keeps_the_data(installed):
    s, out = installed
    after = "\n".join(s["after"])
    for gone in ("/etc/yuncang/root.env", "/etc/yuncang/cluster.env", "/usr/bin/yc-gateway", "/var/log/yuncang"):
        assert "cannot access '%s'" % gone in after, out
    assert "/var/lib/yuncang" in after.splitlines()[-1], out


# ---------------------------------------------------------------- the extracted gateway serves

def adapted_config(root, dest, port, data, log_dir):
    """The shipped /etc/yuncang/yuncang.yaml with only the port, the data folder and the log
    folder changed; every other line as shipped."""
    with open(os.path.join(root, "etc/yuncang/yuncang.yaml")) as f:
        text = f.read()
    assert yaml_setting(text, "data") == "/var/lib/yuncang"
    assert yaml_setting(text, "access_log") == "/var/log/yuncang/access.log"
    listen = yaml_setting(text, "listen")
    assert listen and listen.rsplit(":", 1)[1] == "9000", listen
    text = re.sub(r"^listen:.*$", "listen: 127.0.0.1:%d" % port, text, flags=re.M)
    text = text.replace("/var/lib/yuncang", data).replace("/var/log/yuncang", log_dir)
    with open(dest, "w") as f:
        f.write(text)
    return dest


class Extracted:
    """The extracted yc-gateway with the adapted config; prefix (a sandbox) runs before it, and
    the data and log folders belong to owner (the service's user) when given."""

    def __init__(self, root, base, prefix=(), env=None, owner=None, preexec=_die_with_parent):
        self.data = os.path.join(base, "lib")
        self.logs = os.path.join(base, "log")
        for d in (self.data, self.logs):
            os.makedirs(d, mode=0o750)
            if owner is not None:
                os.chown(d, owner, owner)
        self.port = free_port()
        self.conf = adapted_config(root, os.path.join(base, "yuncang.yaml"), self.port, self.data, self.logs)
        os.chmod(self.conf, 0o644)
        self.access, self.secret = random_keys()
        self.stderr_path = os.path.join(base, "stderr.log")
        env = dict(env or {}, PATH="/usr/sbin:/usr/bin:/sbin:/bin", YC_ROOT_USER=self.access,
                   YC_ROOT_PASSWORD=self.secret)
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                list(prefix) + [os.path.join(root, "usr/bin/yc-gateway"), "--config", self.conf], env=env,
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, preexec_fn=preexec)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("the extracted gateway exited %s:\n%s" % (self.proc.returncode, self.stderr()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not listening after %.0f s:\n%s" % (READY_TIMEOUT, self.stderr())
            time.sleep(0.05)

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()[-3000:]

    def client(self):
        return make_client("http://127.0.0.1:%d" % self.port, self.access, self.secret)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def put_get(gw, name):
    s3 = gw.client()
    body = os.urandom(300 * 1024) + b"packaged"  # above inline_max: shard files on the drives
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/object.bin", Body=body)
    got = s3.get_object(Bucket=name, Key="dir/object.bin")["Body"].read()
    assert got == body
    return body


def access_lines(path, op, timeout=5.0):
    """Lines of the access log naming op (lines are written at least every 200 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = []
        if os.path.exists(path):
            with open(path) as f:
                lines = [l for l in f if '"operation":"%s"' % op in l]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_extracted_gateway_serves_with_the_shipped_config(root, workdir):
    ldd = run(["ldd", os.path.join(root, "usr/bin/yc-gateway")]).stdout
    assert "not found" not in ldd, ldd
    base = os.path.join(workdir, "plain")
    os.makedirs(base)
    gw = Extracted(root, base)
    try:
        put_get(gw, "packaged")
        drives = sorted(d for d in os.listdir(gw.data) if d.startswith("drive"))
        assert drives == ["drive%d" % i for i in range(1, 7)], drives  # the shipped 6 drives, EC 4+2
        log = os.path.join(gw.logs, "access.log")
        assert access_lines(log, "PutObject"), "no PutObject line in %s" % log
        # what logrotate does: move the file away, then SIGHUP; the gateway writes a new one
        os.rename(log, log + ".1")
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        gw.client().head_object(Bucket="packaged", Key="dir/object.bin")
        assert access_lines(log, "HeadObject"), "no new access.log after SIGHUP:\n%s" % gw.stderr()
        assert not access_lines(log + ".1", "HeadObject", timeout=0)
    finally:
        assert gw.stop() == 0, gw.stderr()


SANDBOX_SCRIPT = r"""
set -eu
# ProtectSystem=strict with ReadWritePaths: every mount read-only but the writable folders,
# /proc, /sys and /dev (systemd leaves those to the other Protect* settings)
for d in $RW_PATHS; do mount --bind "$d" "$d"; done
tac /proc/self/mountinfo | while read -r _ _ _ _ mnt _; do
    case "$mnt" in
        /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;;
    esac
    case " $RW_PATHS " in
        *" $mnt "*) ;;
        *) mount -o remount,bind,ro "$mnt" 2>/dev/null || true ;;
    esac
done
touch /etc/yc-pkg-probe 2>/dev/null && { echo "root file system still writable" >&2; exit 3; }
# User=yuncang (here: nobody), NoNewPrivileges=yes, CapabilityBoundingSet= (empty)
exec setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs --bounding-set=-all \
    --inh-caps=-all "$@"
"""


# MemoryDenyWriteExecute=yes and RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX, rebuilt with
# libseccomp as systemd builds them: no mapping both writable and executable, no mprotect to
# executable, no socket of another family (EAFNOSUPPORT)
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_LT, SCMP_CMP_EQ, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ = 2, 4, 6, 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
EPERM, EAFNOSUPPORT = 1, 97


class ScmpArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def seccomp_library():
    name = ctypes.util.find_library("seccomp")
    return ctypes.CDLL(name, use_errno=True) if name else None


def unit_seccomp(allowed):
    """A preexec_fn: the child dies with the test, then loads the restrictions, sockets limited
    to the families allowed."""
    return lambda: load_unit_seccomp(allowed)


def load_unit_seccomp(allowed):
    _die_with_parent()
    lib = seccomp_library()
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(ScmpArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)

    def deny(errno_value, syscall, arg, op, a, b=0):
        nr = lib.seccomp_syscall_resolve_name(syscall)
        cmp = ScmpArgCmp(arg, op, a, b)
        if lib.seccomp_rule_add_array(ctx, 0x00050000 | errno_value, nr, 1, ctypes.byref(cmp)) != 0:
            os._exit(120)

    deny(EPERM, b"mmap", 2, SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC)
    deny(EPERM, b"mprotect", 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)
    deny(EPERM, b"pkey_mprotect", 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)
    deny(EAFNOSUPPORT, b"socket", 0, SCMP_CMP_LT, min(allowed))
    deny(EAFNOSUPPORT, b"socket", 0, SCMP_CMP_GT, max(allowed))
    for family in range(min(allowed) + 1, max(allowed)):
        if family not in allowed:
            deny(EAFNOSUPPORT, b"socket", 0, SCMP_CMP_EQ, family)
    if lib.seccomp_load(ctx) != 0:
        os._exit(121)


SECCOMP_PROBE = r"""
import errno, mmap, socket
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_WRITE | mmap.PROT_EXEC)
    print("wx-mapped")
except OSError as e:
    print("wx-refused", e.errno == errno.EPERM)
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)
    print("netlink-opened")
except OSError as e:
    print("netlink-refused", e.errno == errno.EAFNOSUPPORT)
socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
print("inet-unix-ok")
"""


def unit_sandbox(root, unit):
    """(the unit's settings, an argv prefix, a preexec_fn) that run a command under the part of
    the unit's sandbox that decides whether the daemon can run at all, rebuilt with unshare,
    setpriv and libseccomp: only the folders in RW_PATHS writable, another user, no new
    privileges, no capability, no writable and executable memory, only the allowed socket
    families. Skips where the machine cannot."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("needs root, unshare and setpriv")
    if seccomp_library() is None:
        pytest.skip("libseccomp is not installed")
    settings = unit_settings(os.path.join(root, "lib/systemd/system", unit))
    assert settings[("Service", "MemoryDenyWriteExecute")] == ["yes"]
    families = [int(getattr(socket, f)) for f in settings[("Service", "RestrictAddressFamilies")][-1].split()]
    assert families and max(families) < 64, families
    probe = run([sys.executable, "-c", SECCOMP_PROBE], preexec_fn=unit_seccomp(families))
    assert probe.stdout.split("\n")[:3] == ["wx-refused True", "netlink-refused True", "inet-unix-ok"], probe
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", SANDBOX_SCRIPT, "sandbox"]
    return settings, prefix, unit_seccomp(families)


def test_extracted_gateway_serves_under_the_units_restrictions(root, workdir):
    settings, prefix, preexec = unit_sandbox(root, "yc-gateway.service")
    rw = " ".join(settings[("Service", "ReadWritePaths")]).split()
    assert "/var/lib/yuncang" in rw and "/var/log/yuncang" in rw, rw
    base = os.path.join(workdir, "sandboxed")
    os.makedirs(base, mode=0o755)
    data, logs = os.path.join(base, "lib"), os.path.join(base, "log")
    gw = Extracted(root, base, prefix=prefix, env=dict(RW_PATHS="%s %s" % (data, logs)), owner=NOBODY,
                   preexec=preexec)
    try:
        put_get(gw, "sandboxed")
        log = os.path.join(logs, "access.log")
        assert access_lines(log, "PutObject"), gw.stderr()
        assert os.stat(log).st_uid == NOBODY
        for d in os.listdir(data):
            assert os.stat(os.path.join(data, d)).st_uid == NOBODY, d
    finally:
        assert gw.stop() == 0, gw.stderr()


# ---------------------------------------------------------------- units

@pytest.fixture(scope="module")
def unit_root(root, workdir):
    """The extracted tree plus what systemd-analyze --root needs to load the units: the
    machine's targets, /bin/kill (ExecReload) and one instance of the store template."""
    r = os.path.join(workdir, "unitroot")
    shutil.copytree(root, r, symlinks=True)
    sysdir = os.path.join(r, "lib/systemd/system")
    for src_dir in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        if os.path.isdir(src_dir):
            for n in os.listdir(src_dir):
                if n.endswith(".target") and not os.path.exists(os.path.join(sysdir, n)):
                    shutil.copy(os.path.join(src_dir, n), sysdir, follow_symlinks=True)
            break
    os.makedirs(os.path.join(r, "bin"), exist_ok=True)
    shutil.copy(shutil.which("kill") or "/bin/kill", os.path.join(r, "bin/kill"))
    shutil.copy(os.path.join(sysdir, "yc-store@.service"), os.path.join(sysdir, "yc-store@main.service"))
    return r


def test_units_pass_systemd_analyze_verify(unit_root):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    res = run(["systemd-analyze", "verify", "--man=no", "--root=" + unit_root, "yc-gateway.service",
               "yc-store@main.service"])
    # verify exits 0 on many problems (an unknown key is "ignored"): any output is a problem
    assert res.returncode == 0 and not res.stdout.strip() and not res.stderr.strip(), res.stdout + res.stderr


def test_units_exposure_is_ok_for_systemd_analyze_security(unit_root):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for unit in ("yc-gateway.service", "yc-store@main.service"):
        res = run(["systemd-analyze", "security", "--offline=true", "--root=" + unit_root,
                   "--threshold=40", unit])  # the threshold counts tenths: 40 is the 4.0 shown
        if "Unknown option" in res.stderr or "unrecognized option" in res.stderr:
            pytest.skip("this systemd-analyze has no offline security review")
        level = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", res.stdout)
        assert res.returncode == 0 and level, res.stdout[-2000:] + res.stderr
        assert float(level.group(1)) <= 4.0 and level.group(2) == "OK", level.group(0)


def test_units_carry_the_hardening_and_the_paths_they_need(root):
    cfg_text = open(os.path.join(root, "etc/yuncang/yuncang.yaml")).read()
    for unit in UNITS:
        s = unit_settings(os.path.join(root, "lib/systemd/system", unit))
        one = {k: v[-1] for k, v in s.items()}
        assert one[("Service", "User")] == "yuncang" and one[("Service", "Group")] == "yuncang", unit
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                           ("ProtectHome", "yes"), ("Restart", "on-failure")):
            assert one.get(("Service", key)) == value, (unit, key, one.get(("Service", key)))
        assert s[("Service", "CapabilityBoundingSet")] == [""], unit  # empty: no capability at all
        assert int(one[("Service", "LimitNOFILE")]) >= 65536, unit
        rw = " ".join(s[("Service", "ReadWritePaths")]).split()
        assert "/var/lib/yuncang" in rw, unit
        assert one[("Install", "WantedBy")] == "multi-user.target", unit
        exec_start = one[("Service", "ExecStart")].split()
        assert os.access(os.path.join(root, exec_start[0].lstrip("/")), os.X_OK), exec_start
        for env_file in s[("Service", "EnvironmentFile")]:
            assert env_file.lstrip("-").startswith("/etc/yuncang/"), env_file
    gw = unit_settings(os.path.join(root, "lib/systemd/system/yc-gateway.service"))
    assert gw[("Service", "ExecStart")] == ["/usr/bin/yc-gateway --config /etc/yuncang/yuncang.yaml"]
    rw = " ".join(gw[("Service", "ReadWritePaths")]).split()
    # the folders the shipped configuration writes are writable under ProtectSystem=strict
    assert yaml_setting(cfg_text, "data") in rw
    assert os.path.dirname(yaml_setting(cfg_text, "access_log")) in rw
    store = unit_settings(os.path.join(root, "lib/systemd/system/yc-store@.service"))
    assert "/etc/yuncang/store-%i.env" in store[("Service", "EnvironmentFile")]
    assert store[("Service", "ExecStart")] == ["/usr/bin/yc-store $YC_STORE_OPTIONS"]


def test_nothing_loaded_needs_an_executable_stack(root):
    """MemoryDenyWriteExecute=yes refuses an executable stack: no binary and no library they
    load may ask for one (GNU_STACK without E), or the loader fails under the unit."""
    for b in BINARIES:
        path = os.path.join(root, "usr/bin", b)
        libs = re.findall(r"=> (/\S+)", run(["ldd", path]).stdout)
        for f in [path] + libs:
            stack = re.search(r"GNU_STACK\s.*\s(R?W?E?)\s+0x\w+$", run(["readelf", "-lW", f]).stdout, re.M)
            assert stack and "E" not in stack.group(1), "%s wants an executable stack" % f


def env_file_value(path, name):
    """A variable of a systemd EnvironmentFile (double quotes removed, as systemd does)."""
    with open(path) as f:
        for line in f:
            m = re.match(r"^%s=(.*)$" % name, line.strip())
            if m:
                v = m.group(1)
                return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v
    return None


def test_store_instance_file_starts_yc_store_under_its_unit(root, workdir):
    """The options of the shipped store-main.env, split into words as ExecStart's unbraced
    $YC_STORE_OPTIONS is (address and /srv moved to the test's), start the extracted yc-store
    under the store unit's restrictions, /srv its only writable folder."""
    settings, prefix, preexec = unit_sandbox(root, "yc-store@.service")
    rw = [p.lstrip("-") for p in " ".join(settings[("Service", "ReadWritePaths")]).split()]
    opts = env_file_value(os.path.join(root, "etc/yuncang/store-main.env"), "YC_STORE_OPTIONS")
    assert opts and "--listen" in opts and "--drive" in opts, opts
    drives = re.findall(r"--drive\s+\w+=(\S+)", opts)
    assert drives and all(any(d.startswith(p + "/") for p in rw) for d in drives), (drives, rw)
    port = free_port()
    disks = os.path.join(workdir, "srv")
    os.makedirs(disks)
    os.chmod(disks, 0o755)
    for d in drives:  # mounted file systems (a root-only lost+found), chowned as the doc says
        os.makedirs(os.path.join(d.replace("/srv/", disks + "/"), "lost+found"), mode=0o700)
        os.chown(d.replace("/srv/", disks + "/"), NOBODY, NOBODY)
    words = re.sub(r"\b127\.0\.0\.1:9200\b", "127.0.0.1:%d" % port, opts).replace("/srv/", disks + "/").split()
    proc = start_listening(prefix + [os.path.join(root, "usr/bin/yc-store")] + words,
                           {"YC_CLUSTER_SECRET": "s" * 32, "RW_PATHS": disks}, "127.0.0.1", port,
                           os.path.join(workdir, "store.log"), preexec=preexec)
    try:
        for d in drives:
            identity = os.path.join(d.replace("/srv/", disks + "/"), "identity")
            assert os.path.isfile(identity) and os.stat(identity).st_uid == NOBODY, identity
    finally:
        assert stop(proc) == 0, open(os.path.join(workdir, "store.log")).read()


# ---------------------------------------------------------------- --help and man pages

def test_help_and_man_pages_list_every_option(root):
    cfg_text = open(os.path.join(root, "etc/yuncang/yuncang.yaml")).read()
    settings = set(re.findall(r"^#?\s?([a-z_0-9]+):\s", cfg_text, re.M)) - {"http", "https"}
    for b in BINARIES:
        res = run([os.path.join(root, "usr/bin", b), "--help"], env={"PATH": "/usr/bin:/bin"})
        usage = res.stdout.splitlines()[0] if res.stdout else ""
        assert res.returncode == 0 and re.match(r"usage: (\S+=\S+ )?%s " % b, usage), (b, res.returncode, usage)
        assert "--help" in res.stdout and "exit status" in res.stdout, b
        with gzip.open(os.path.join(root, "usr/share/man/man8/%s.8.gz" % b), "rt") as f:
            page = f.read()
        assert page.startswith(".TH %s 8 " % b.upper()), page[:80]
        if shutil.which("groff"):
            out = run(["groff", "-man", "-Tutf8", "-ww"], input=page)
            assert out.returncode == 0 and not out.stderr.strip(), out.stderr
            text = re.sub(r".\x08", "", out.stdout)
            for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "FILES"):
                assert re.search(r"^%s$" % heading, text, re.M), (b, heading)
            # every option line of --help is in the page as it prints
            for opt in re.findall(r"^\s+(--[a-z][a-z0-9-]*)", res.stdout, re.M):
                assert opt in text, (b, opt)
        if b == "yc-gateway":
            for name in settings:
                assert "--" + name.replace("_", "-") in res.stdout, "yuncang.yaml's %s is not in yc-gateway --help" % name
        if b == "yc-store":
            opts = env_file_value(os.path.join(root, "etc/yuncang/store-main.env"), "YC_STORE_OPTIONS")
            for opt in re.findall(r"--[a-z-]+", opts):
                assert opt in res.stdout, opt


# ---------------------------------------------------------------- the documented three-node install

OPERATIONS = os.path.join(REPO_ROOT, "docs", "operations.md")


def install_section():
    """The text of docs/operations.md's "Installing from the package", subsections included."""
    with open(OPERATIONS) as f:
        text = f.read()
    m = re.search(r"^## Installing from the package\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, "docs/operations.md has no section 'Installing from the package'"
    return m.group(1)


def start_listening(argv, env, host, port, log_path, preexec=_die_with_parent):
    """Starts a server and waits until it accepts connections on host:port."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env=dict(env, PATH="/usr/sbin:/usr/bin:/sbin:/bin"), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, preexec_fn=preexec)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise AssertionError("%s exited %s:\n%s" % (argv[0], proc.returncode, open(log_path).read()[-3000:]))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return proc
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("%s not listening:\n%s" % (argv[0], open(log_path).read()[-3000:]))
            time.sleep(0.05)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def free_port_on(addresses):
    for _ in range(100):
        port = free_port()
        ok = True
        for a in addresses:
            with socket.socket() as s:
                try:
                    s.bind((a, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise AssertionError("no port free on %s" % addresses)


def test_three_node_install_as_documented(root, workdir):
    """The files the section has the admin write (each node's store-main.env, the gateway's
    settings over the shipped yuncang.yaml), taken from the doc and run with the extracted
    binaries: three "nodes" on loopback addresses 127.0.0.11..13 (each its own address, the
    daemons keep one port as on real hosts), /srv/ a folder per node, ports free ones. Then the
    documented yc-admin status, a PUT and GET, and a whole node down while reads and writes go on."""
    sect = install_section()
    opts = re.findall(r"YC_STORE_OPTIONS=\"([^\"]*)\"[^\n]*> /etc/yuncang/store-main\.env", sect)
    assert len(opts) == 1, "no command writing store-main.env in the section"
    yaml_blocks = re.findall(r"^```yaml\n(.*?)^```", sect, re.S | re.M)
    assert len(yaml_blocks) == 1, "the section should show the gateway's settings in one yaml block"
    status_cmd = [l for l in re.findall(r"^(yc-admin .*)$", sect, re.M) if l.split()[-1] == "status"]
    assert status_cmd, "no yc-admin ... status in the section"

    nodes = {"node%d" % i: "127.0.0.%d" % (10 + i) for i in (1, 2, 3)}
    store_port = free_port_on(list(nodes.values()))
    gw_port, status_port = free_port(), free_port()

    def rules(text, node=None):
        text = re.sub(r"\b(node\d):9200\b", lambda m: "%s:%d" % (nodes[m.group(1)], store_port), text)
        if node is not None:
            text = text.replace("0.0.0.0:9200", "%s:%d" % (nodes[node], store_port))
            text = text.replace("/srv/", os.path.join(workdir, "srv-" + node) + "/")
        text = re.sub(r"\b(0\.0\.0\.0|127\.0\.0\.1):9000\b", "127.0.0.1:%d" % gw_port, text)
        return re.sub(r"\b127\.0\.0\.1:9100\b", "127.0.0.1:%d" % status_port, text)

    secret = "c" * 48
    procs = {}
    try:
        for node in nodes:
            for disk in ("disk1", "disk2"):  # mounted file systems: empty but for lost+found
                os.makedirs(os.path.join(workdir, "srv-" + node, disk, "lost+found"))
            words = rules(opts[0], node).split()  # ExecStart's unbraced $YC_STORE_OPTIONS
            procs[node] = start_listening([os.path.join(root, "usr/bin/yc-store")] + words,
                                          {"YC_CLUSTER_SECRET": secret}, nodes[node], store_port,
                                          os.path.join(workdir, node + ".log"))
        # the gateway: the shipped file with the documented lines set (replaced, or added)
        with open(os.path.join(root, "etc/yuncang/yuncang.yaml")) as f:
            conf = f.read()
        for line in yaml_blocks[0].strip().splitlines():
            key = line.split(":", 1)[0]
            line = rules(line)
            if re.search(r"^%s:" % key, conf, re.M):
                conf = re.sub(r"^%s:.*$" % key, lambda m: line, conf, flags=re.M)
            else:
                conf += line + "\n"
        gwdir = os.path.join(workdir, "gw3")
        os.makedirs(os.path.join(gwdir, "log"))
        conf = conf.replace("/var/lib/yuncang", os.path.join(gwdir, "lib")).replace("/var/log/yuncang",
                                                                                     os.path.join(gwdir, "log"))
        conf_path = os.path.join(gwdir, "yuncang.yaml")
        with open(conf_path, "w") as f:
            f.write(conf)
        access, password = "admin", "p" * 40  # as root.env: admin and a random password
        env = {"YC_CLUSTER_SECRET": secret, "YC_ROOT_USER": access, "YC_ROOT_PASSWORD": password}
        procs["gateway"] = start_listening([os.path.join(root, "usr/bin/yc-gateway"), "--config", conf_path], env,
                                           "127.0.0.1", gw_port, os.path.join(gwdir, "stderr.log"))

        admin = rules(status_cmd[0]).split()
        admin[0] = os.path.join(root, "usr/bin/yc-admin")
        deadline = time.monotonic() + 15
        while True:
            res = run(admin, env=dict(env, PATH="/usr/bin:/bin"), timeout=30)
            if res.returncode == 0 and "6 drives, 6 ok" in res.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert res.returncode == 0 and "6 drives, 6 ok" in res.stdout, res.stdout + res.stderr
        for node, address in nodes.items():
            assert "%s:%d" % (address, store_port) in res.stdout, res.stdout

        s3 = make_client("http://127.0.0.1:%d" % gw_port, access, password)
        s3.create_bucket(Bucket="three")
        body = os.urandom(3 * 1024 * 1024 + 17)
        s3.put_object(Bucket="three", Key="big", Body=body)
        procs["node2"].kill()  # a whole node down
        procs["node2"].wait()
        assert s3.get_object(Bucket="three", Key="big")["Body"].read() == body
        s3.put_object(Bucket="three", Key="during", Body=body[:1000])
        assert s3.get_object(Bucket="three", Key="during")["Body"].read() == body[:1000]
        # the documented status_listen serves the health check
        with urllib.request.urlopen("http://127.0.0.1:%d/health/live" % status_port, timeout=10) as r:
            assert r.status == 200
    finally:
        for p in procs.values():
            stop(p)
