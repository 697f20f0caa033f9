//! The sandbox around everything of a submission's (issue 27): its build (cargo, build
//! scripts, proc macros) and every process that runs its code. It is bubblewrap (`bwrap`,
//! Debian's package `bubblewrap`) under `prlimit` (util-linux):
//!
//! - **no network** (a network namespace of its own: only a loopback nobody else is on);
//! - **a file system of its own**: `/usr` (and the `/bin`, `/lib` links), the toolchain
//!   (`CARGO_HOME`, `RUSTUP_HOME`) and the paths given ([`Bind`]) are all it sees, read-only
//!   unless a bind says writable; `/tmp` is a private tmpfs of [`Limits::tmp_bytes`];
//!   `/proc` shows only its own processes, `/dev` only the harmless devices;
//! - **its own PID namespace**, `--die-with-parent`: when the sandbox's first process ends
//!   (a normal exit as much as a kill), the kernel kills every process left in it, so nothing
//!   of the submission outlives the call, and no pipe of it stays open;
//! - **limits** per process (`prlimit`): CPU seconds, address space, file size, and processes
//!   of its user;
//! - **not root**: as root, the sandbox's processes run as an unprivileged user of their own
//!   ([`Sandbox::uid`]; `setpriv` after bwrap set up the mounts), with no capabilities and
//!   `no_new_privs`, since the kernel does not count a root user's processes against
//!   `RLIMIT_NPROC`; as another user, bubblewrap makes a user namespace.
//!
//! [`Sandbox::new`] fails with a clear [`SandboxError`] when the sandbox cannot be made (no
//! bwrap, no user namespaces), and [`Sandbox::probe`] tries it once: a grade never runs a
//! submission unprotected without saying so (`--no-sandbox` is the explicit way).

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the sandbox cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A program the sandbox needs is not on the PATH.
    #[error(
        "`{program}` is not installed (Debian package `{package}`: apt-get install {package}); \
         the sandbox cannot be made, and a submission is not graded unprotected \
         (--no-sandbox grades without it, on a machine you trust)"
    )]
    Missing {
        /// The program.
        program: &'static str,
        /// The Debian package that has it.
        package: &'static str,
    },
    /// bwrap is there but cannot make the sandbox (no user namespaces, a seccomp policy of a
    /// container...).
    #[error(
        "the sandbox cannot be made on this machine: `bwrap` failed ({detail}); it needs root \
         or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, \
         user.max_user_namespaces > 0); a submission is not graded unprotected (--no-sandbox \
         grades without it, on a machine you trust)"
    )]
    Unusable {
        /// What bwrap said.
        detail: String,
    },
}

/// Limits on each process of the sandbox (`prlimit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds per process (`RLIMIT_CPU`).
    pub cpu_secs: u64,
    /// Address space per process, bytes (`RLIMIT_AS`).
    pub address_space: u64,
    /// Processes and threads of the sandbox's user (`RLIMIT_NPROC`).
    pub processes: u64,
    /// Largest file a process may write, bytes (`RLIMIT_FSIZE`).
    pub file_size: u64,
    /// Size of the private `/tmp`, bytes.
    pub tmp_bytes: u64,
}

const GIB: u64 = 1 << 30;

impl Default for Limits {
    /// Enough for cargo and rustc on the workspace (a peer needs much less): 30 CPU minutes
    /// per process, 6 GiB of address space, 512 processes and threads, files of 1 GiB, a
    /// 512 MiB `/tmp`.
    fn default() -> Self {
        Limits {
            cpu_secs: 1800,
            address_space: 6 * GIB,
            processes: 512,
            file_size: GIB,
            tmp_bytes: GIB / 2,
        }
    }
}

impl Limits {
    /// The limits of one peer process of a submission (a Raft peer needs far less than a
    /// build): 30 CPU minutes, 2 GiB of address space, 512 processes and threads of the
    /// sandbox's user (all the submission's peers together), files of 64 MiB, a 64 MiB
    /// `/tmp`.
    pub fn peer() -> Self {
        Limits {
            address_space: 2 * GIB,
            file_size: 64 << 20,
            tmp_bytes: 64 << 20,
            ..Limits::default()
        }
    }
}

/// A path of the host seen inside the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    /// The host's path.
    pub source: PathBuf,
    /// Where the sandbox sees it.
    pub dest: PathBuf,
    /// Whether the sandbox may write there (read-only otherwise).
    pub writable: bool,
}

impl Bind {
    /// `source` read-only at `dest`.
    pub fn ro(source: impl Into<PathBuf>, dest: impl Into<PathBuf>) -> Self {
        Bind {
            source: source.into(),
            dest: dest.into(),
            writable: false,
        }
    }

    /// `source` writable at `dest`.
    pub fn rw(source: impl Into<PathBuf>, dest: impl Into<PathBuf>) -> Self {
        Bind {
            source: source.into(),
            dest: dest.into(),
            writable: true,
        }
    }
}

/// The sandbox (see the module doc): what it runs with, made once per grade.
#[derive(Clone, Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    prlimit: PathBuf,
    /// `setpriv`, when the grader runs as root.
    setpriv: Option<PathBuf>,
    /// The toolchain's directories (bound read-only at their own paths for a build).
    toolchain: Vec<PathBuf>,
    /// `$CARGO` (the toolchain's cargo), when set.
    cargo: Option<PathBuf>,
    limits: Limits,
    uid: u32,
}

/// Finds `program` on the PATH.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn need(program: &'static str, package: &'static str) -> Result<PathBuf, SandboxError> {
    which(program).ok_or(SandboxError::Missing { program, package })
}

/// This process's effective user id (the owner of `/proc/self`), without unsafe code.
pub fn euid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

impl Sandbox {
    /// The sandbox with `limits`, whose processes run as user `uid` when the grader is root
    /// (pick one no other process uses: its processes count against `limits.processes`).
    pub fn new(limits: Limits, uid: u32) -> Result<Self, SandboxError> {
        let bwrap = need("bwrap", "bubblewrap")?;
        let prlimit = need("prlimit", "util-linux")?;
        let root = euid() == Some(0);
        let setpriv = if root {
            Some(need("setpriv", "util-linux")?)
        } else {
            None
        };
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let dir = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(default)))
                .filter(|p| p.is_dir())
                .and_then(|p| std::path::absolute(p).ok())
        };
        let toolchain = [dir("CARGO_HOME", ".cargo"), dir("RUSTUP_HOME", ".rustup")]
            .into_iter()
            .flatten()
            .collect();
        Ok(Sandbox {
            bwrap,
            prlimit,
            setpriv,
            toolchain,
            cargo: std::env::var_os("CARGO").map(PathBuf::from),
            limits,
            uid: if root { uid } else { euid().unwrap_or(uid) },
        })
    }

    /// The user the sandbox's processes run as (the grader's own when it is not root). A
    /// directory they write must belong to it ([`Sandbox::own`]).
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// Whether the sandbox's processes run as a user of their own ([`Sandbox::uid`], when the
    /// grader is root): then [`processes_of`] that user lists exactly them.
    pub fn own_user(&self) -> bool {
        self.setpriv.is_some()
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The same sandbox (the same user) with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Makes `path` (a directory the sandbox writes, made if missing) belong to the sandbox's
    /// user.
    pub fn own(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(path)?;
        if self.setpriv.is_some() {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.uid))?;
        }
        Ok(())
    }

    /// Makes everything under `path` belong to the sandbox's user (a copied target
    /// directory).
    pub fn own_tree(&self, path: &Path) -> std::io::Result<()> {
        if self.setpriv.is_none() {
            return Ok(());
        }
        let status = Command::new("chown")
            .args(["-R", &format!("{0}:{0}", self.uid)])
            .arg(path)
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "chown -R {}: {status}",
                path.display()
            )))
        }
    }

    /// Makes the file at `path` writable by the sandbox's user.
    pub fn own_file(&self, path: &Path) -> std::io::Result<()> {
        if self.setpriv.is_some() {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.uid))?;
        }
        Ok(())
    }

    /// Runs `true` in the sandbox: whether it can be made here.
    pub fn probe(&self) -> Result<(), SandboxError> {
        let mut cmd = self.command(&Spec::new("true"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let out = cmd.output().map_err(|e| SandboxError::Unusable {
            detail: e.to_string(),
        })?;
        if out.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(SandboxError::Unusable {
            detail: if said.is_empty() {
                out.status.to_string()
            } else {
                said
            },
        })
    }

    /// The environment of a build: the toolchain's variables, its PATH, offline.
    pub fn build_env(&self) -> Vec<(OsString, OsString)> {
        let named = |name: &str| self.toolchain.iter().find(|p| p.ends_with(name));
        let mut path: Vec<PathBuf> = Vec::new();
        if let Some(bin) = self.cargo.as_ref().and_then(|c| c.parent()) {
            path.push(bin.to_path_buf());
        }
        if let Some(cargo_home) = named(".cargo") {
            path.push(cargo_home.join("bin"));
        }
        path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
        let mut env: Vec<(OsString, OsString)> = vec![(
            "PATH".into(),
            std::env::join_paths(path).unwrap_or_else(|_| "/usr/bin:/bin".into()),
        )];
        for (var, default) in [
            ("CARGO_HOME", named(".cargo")),
            ("RUSTUP_HOME", named(".rustup")),
            ("RUSTUP_TOOLCHAIN", None),
        ] {
            let value = std::env::var_os(var).or_else(|| default.map(|d| d.clone().into()));
            if let Some(v) = value {
                env.push((var.into(), v));
            }
        }
        env.push(("CARGO_NET_OFFLINE".into(), "true".into()));
        env.push(("CARGO_TERM_COLOR".into(), "never".into()));
        env
    }

    /// The cargo to run in the sandbox (`$CARGO`, else `cargo` on its PATH).
    pub fn cargo(&self) -> OsString {
        self.cargo
            .clone()
            .map_or_else(|| "cargo".into(), PathBuf::into_os_string)
    }

    /// The command that runs `spec` in the sandbox.
    pub fn command(&self, spec: &Spec) -> Command {
        let l = &self.limits;
        let mut cmd = Command::new(&self.prlimit);
        cmd.arg(format!("--cpu={}", l.cpu_secs))
            .arg(format!("--as={}", l.address_space))
            .arg(format!("--nproc={}", l.processes))
            .arg(format!("--fsize={}", l.file_size))
            .arg("--core=0")
            .arg("--")
            .arg(&self.bwrap);
        cmd.args([
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
        ]);
        if self.setpriv.is_none() {
            cmd.arg("--unshare-user");
        }
        cmd.args(["--ro-bind", "/usr", "/usr"]);
        for (link, to) in [
            ("/bin", "usr/bin"),
            ("/sbin", "usr/sbin"),
            ("/lib", "usr/lib"),
            ("/lib64", "usr/lib64"),
        ] {
            if Path::new(link).is_symlink() {
                cmd.args(["--symlink", to, link]);
            } else if Path::new(link).is_dir() {
                cmd.args(["--ro-bind", link, link]);
            }
        }
        // The dynamic loader's cache and Debian's `cc -> gcc` link. (A directory bwrap makes
        // for a mount point is its user's alone unless `--perms` says otherwise.)
        cmd.args(["--perms", "0755", "--dir", "/etc"]);
        for etc in ["/etc/ld.so.cache", "/etc/alternatives"] {
            cmd.args(["--ro-bind-try", etc, etc]);
        }
        cmd.args(["--proc", "/proc", "--dev", "/dev"])
            .args(["--size", &l.tmp_bytes.to_string(), "--tmpfs", "/tmp"])
            .args(["--chmod", "1777", "/tmp"]);
        if spec.toolchain {
            for dir in &self.toolchain {
                if let Some(parent) = dir.parent() {
                    cmd.args(["--perms", "0755", "--dir"]).arg(parent);
                }
                cmd.arg("--ro-bind").arg(dir).arg(dir);
            }
        }
        let mut made: Vec<PathBuf> = Vec::new();
        for (k, b) in spec.binds.iter().enumerate() {
            for dir in mount_parents(&b.dest) {
                let inside_a_bind = spec.binds[..k].iter().any(|e| dir.starts_with(&e.dest));
                if !made.contains(&dir) && !inside_a_bind {
                    cmd.args(["--perms", "0755", "--dir"]).arg(&dir);
                    made.push(dir);
                }
            }
            cmd.arg(if b.writable { "--bind" } else { "--ro-bind" })
                .arg(&b.source)
                .arg(&b.dest);
        }
        cmd.args([
            "--clearenv",
            "--setenv",
            "HOME",
            "/tmp",
            "--setenv",
            "TMPDIR",
            "/tmp",
        ]);
        for (k, v) in &spec.env {
            cmd.arg("--setenv").arg(k).arg(v);
        }
        if let Some(dir) = &spec.chdir {
            cmd.arg("--chdir").arg(dir);
        }
        if let Some(setpriv) = &self.setpriv {
            cmd.args(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"])
                .arg("--")
                .arg(setpriv)
                .arg(format!("--reuid={}", self.uid))
                .arg(format!("--regid={}", self.uid))
                .args([
                    "--clear-groups",
                    "--inh-caps=-all",
                    "--bounding-set=-all",
                    "--no-new-privs",
                ]);
        }
        cmd.arg("--").arg(&spec.program).args(&spec.args);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// `cmd` run in the sandbox, seeing `binds` and its program (bound read-only at its own
    /// path): its arguments, the environment it sets explicitly, its directory; standard
    /// input closed. The peer launcher's wrapper in process mode.
    pub fn wrap(&self, cmd: &Command, binds: &[Bind]) -> Command {
        let program = Path::new(cmd.get_program());
        let mut spec = Spec::new(program);
        spec.args = cmd.get_args().map(OsStr::to_os_string).collect();
        spec.env = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_os_string(), v?.to_os_string())))
            .collect();
        spec.chdir = cmd.get_current_dir().map(Path::to_path_buf);
        spec.binds = binds.to_vec();
        if program.is_absolute() {
            spec.binds.push(Bind::ro(program, program));
        }
        self.command(&spec)
    }
}

/// A wrapper for process mode's peer commands (`PROGRAM ARGS... SOCKET`): each peer
/// process in a sandbox of its own, which sees its program and the directory of its socket
/// (read-only: connecting to a socket needs no write access to its file system), and works
/// in its private `/tmp`.
pub fn peer_wrapper(sandbox: Sandbox) -> impl Fn(Command) -> Command + Send + Sync + 'static {
    move |mut cmd| {
        let socket_dir = cmd
            .get_args()
            .last()
            .map(Path::new)
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let binds: Vec<Bind> = socket_dir.iter().map(|d| Bind::ro(d, d)).collect();
        if cmd.get_current_dir().is_none() {
            cmd.current_dir("/tmp");
        }
        sandbox.wrap(&cmd, &binds)
    }
}

/// The processes of user `uid` on this machine (their ids), from `/proc`: with the sandbox
/// run as a user of its own (the grader is root), every process of the submission.
pub fn processes_of(uid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<u32> = dir
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            (e.metadata().ok()?.uid() == uid).then_some(pid)
        })
        .collect();
    found.sort_unstable();
    found
}

/// The directories above `dest` that bwrap makes for it (outermost first): all but `/` and
/// the sandbox's own mounts (`/tmp` is world-writable already, `/usr` read-only).
fn mount_parents(dest: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = dest
        .ancestors()
        .skip(1)
        .filter(|d| {
            d.parent().is_some()
                && *d != Path::new("/tmp")
                && !["/usr", "/proc", "/dev"].iter().any(|m| d.starts_with(m))
        })
        .map(Path::to_path_buf)
        .collect();
    dirs.reverse();
    dirs
}

/// What to run in the sandbox.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// The program (a path inside the sandbox, or a name on its PATH).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its environment (the rest is cleared but for HOME=/tmp and TMPDIR=/tmp).
    pub env: Vec<(OsString, OsString)>,
    /// What it sees of the host besides `/usr`.
    pub binds: Vec<Bind>,
    /// Its working directory.
    pub chdir: Option<PathBuf>,
    /// Whether it sees the toolchain (cargo's and rustup's homes, read-only).
    pub toolchain: bool,
}

impl Spec {
    /// `program` with nothing else.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Spec {
            program: program.as_ref().to_os_string(),
            ..Spec::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The sandbox, or `None` (and a note) on a machine that cannot make it: these tests
    /// check the sandbox where there is one; `grade --submission` refuses to run without it.
    /// In CI (`CI=true`, as `.ci/run` runs, which installs bubblewrap) a missing sandbox fails
    /// the test instead.
    fn sandbox(limits: Limits) -> Option<Sandbox> {
        match Sandbox::new(limits, 200_999).and_then(|s| s.probe().map(|()| s)) {
            Ok(s) => Some(s),
            Err(e) => {
                assert!(
                    !in_ci(),
                    "CI must be able to make the sandbox (.ci/run installs bubblewrap): {e}"
                );
                eprintln!("no sandbox on this machine, test skipped: {e}");
                None
            }
        }
    }

    /// Whether this runs in CI (`CI` set to anything but empty, `0` or `false`).
    fn in_ci() -> bool {
        std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
    }

    #[test]
    fn killing_the_sandbox_kills_everything_in_it() {
        let Some(sb) = sandbox(Limits::default()) else {
            return;
        };
        // A detached process inside, and the first one waiting: killed from outside (a peer
        // at a crash, every peer at a grade's deadline).
        let mut spec = Spec::new("sh");
        spec.args = vec![
            "-c".into(),
            "(setsid sleep 61.2719 &) ; sleep 61.2720".into(),
        ];
        let mut child = sb.command(&spec).stdout(Stdio::null()).spawn().unwrap();
        // The sleep processes themselves (the sandbox's own command lines name them too).
        let seen = |marker: &str| {
            let sleep = format!("sleep\0{marker}\0");
            std::fs::read_dir("/proc")
                .unwrap()
                .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
                .any(|c| c == sleep.as_bytes())
        };
        // Counted sleeps (up to 20 s on a busy machine), not a clock.
        for _ in 0..2000 {
            if seen("61.2719") && seen("61.2720") {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(seen("61.2719"), "the detached process started");
        child.kill().unwrap();
        child.wait().unwrap();
        let mut gone = false;
        for _ in 0..2000 {
            gone = !seen("61.2719") && !seen("61.2720");
            if gone {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone, "a process of the killed sandbox is still there");
    }

    fn sh(sandbox: &Sandbox, script: &str, binds: Vec<Bind>) -> std::process::Output {
        let mut spec = Spec::new("sh");
        spec.args = vec!["-c".into(), script.into()];
        spec.binds = binds;
        let mut cmd = sandbox.command(&spec);
        cmd.output().unwrap()
    }

    #[test]
    fn the_sandbox_has_no_network_and_writes_only_where_allowed() {
        let Some(sb) = sandbox(Limits::default()) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (ro, rw) = (dir.path().join("ro"), dir.path().join("rw"));
        std::fs::create_dir_all(&ro).unwrap();
        sb.own(&rw).unwrap();
        let out = sh(
            &sb,
            "cat /proc/net/dev; touch /ro/x && echo wrote-ro; touch /rw/x && echo wrote-rw; \
             touch /tmp/x && echo wrote-tmp; touch /usr/x && echo wrote-usr; ls /work /root/.cargo 2>&1",
            vec![Bind::ro(&ro, "/ro"), Bind::rw(&rw, "/rw")],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let interfaces: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once(':').map(|(i, _)| i.trim()))
            .filter(|i| !i.starts_with("Inter") && !i.contains('|') && !i.starts_with("ls"))
            .collect();
        assert_eq!(interfaces, ["lo"], "{text}");
        assert!(
            !text.contains("wrote-ro") && !text.contains("wrote-usr"),
            "{text}"
        );
        assert!(
            text.contains("wrote-rw") && text.contains("wrote-tmp"),
            "{text}"
        );
        assert!(rw.join("x").exists() && !ro.join("x").exists());
        assert!(
            text.contains("No such file"),
            "the host's files are not there: {text}"
        );
    }

    #[test]
    fn nothing_of_the_sandbox_outlives_its_first_process() {
        let Some(sb) = sandbox(Limits::default()) else {
            return;
        };
        // A detached process that would still be sleeping after the sandbox's exit.
        let out = sh(&sb, "(sleep 61.2718 &) ; echo started", Vec::new());
        assert!(out.status.success());
        std::thread::sleep(Duration::from_millis(300));
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.contains("61.2718"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn the_sandbox_caps_processes() {
        let Some(sb) = sandbox(Limits {
            processes: 40,
            ..Limits::default()
        }) else {
            return;
        };
        let out = sh(
            &sb,
            "i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; echo done",
            Vec::new(),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("fork") || err.contains("Resource"), "{err}");
    }

    #[test]
    fn a_missing_program_is_named_with_its_package() {
        let e = SandboxError::Missing {
            program: "bwrap",
            package: "bubblewrap",
        };
        let text = e.to_string();
        assert!(text.contains("apt-get install bubblewrap") && text.contains("--no-sandbox"));
    }
}
