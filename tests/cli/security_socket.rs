//! No one else's socket: the client and the worker refuse a socket folder that is not private to
//! this user, a socket owned by another user, and a peer running as another user (SO_PEERCRED,
//! both ways). `--socket` never deletes a file that is not a socket. A second user is simulated
//! by chown and by `setuid` in a forked child, so these tests need root; they skip without it.

use crate::common;

use common::*;
use std::ffi::CString;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

const OTHER_UID: u32 = 65534;

fn is_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("skipped {test}: simulating a second user needs root");
    }
    root
}

fn hello_line() -> String {
    format!(
        "{{\"type\":\"Hello\",\"protocol\":{},\"version\":\"{}\",\"pid\":1,\"engines\":[\"classic\"]}}\n",
        zedit::worker::PROTOCOL,
        zedit::core::ZEDIT_VERSION
    )
}

/// A fake worker in this process: answers Hello, then Status to every line.
fn fake_worker(socket: &Path) {
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut w = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream).lines();
            let _ = lines.next();
            let _ = w.write_all(hello_line().as_bytes());
            for _ in lines.map_while(Result::ok) {
                let _ = w.write_all(b"{\"type\":\"Status\",\"jobs\":[]}\n");
            }
        }
    });
}

fn private_dir(root: &Path, name: &str) -> PathBuf {
    let d = root.join(name);
    fs::create_dir_all(&d).unwrap();
    fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
    d
}

fn chown(path: &Path, uid: u32) {
    let c = CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; gid unchanged.
    assert_eq!(unsafe { libc::lchown(c.as_ptr(), uid, u32::MAX) }, 0);
}

fn status(root: &Path, socket: &Path) -> std::process::Output {
    zedit(root)
        .args(["worker", "status", "--socket"])
        .arg(socket)
        .output()
        .unwrap()
}

#[test]
fn a_socket_folder_not_private_to_us_is_refused_and_never_used() {
    if !is_root("a_socket_folder_not_private_to_us_is_refused_and_never_used") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // The default place under a runtime dir whose zedit folder is world-writable.
    let xdg = private_dir(root, "xdg");
    let open = xdg.join("zedit");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let _guard = WorkerGuard(open.join("worker.sock"));
    let out = zedit(root)
        .env_remove("ZEDIT_SOCKET")
        .env("XDG_RUNTIME_DIR", &xdg)
        .args(["worker", "start"])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(
        !out.status.success(),
        "must not start in {}",
        open.display()
    );
    assert!(err.contains(&open.display().to_string()), "names it: {err}");
    assert!(err.contains("chmod 700") || err.contains("remove"), "{err}");
    let mode = fs::metadata(&open).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o777, "left as it is, never silently used");
    assert!(!open.join("worker.sock").exists());

    // A folder owned by another user, even with mode 0700.
    let theirs = private_dir(root, "theirs");
    chown(&theirs, OTHER_UID);
    let socket = theirs.join("worker.sock");
    let _guard2 = WorkerGuard(socket.clone());
    let out = zedit(root)
        .args(["worker", "start", "--socket"])
        .arg(&socket)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "must not start in another user's folder"
    );
    assert!(
        stderr_of(&out).contains("owned by uid 65534"),
        "{}",
        stderr_of(&out)
    );
    let out = status(root, &socket);
    assert!(
        stderr_of(&out).contains("owned by uid 65534"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_socket_owned_by_another_user_is_refused() {
    if !is_root("a_socket_owned_by_another_user_is_refused") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = private_dir(root, "run");
    let socket = dir.join("worker.sock");
    fake_worker(&socket);
    let out = status(root, &socket);
    assert!(
        out.status.success(),
        "the fake answers: {}",
        stderr_of(&out)
    );
    chown(&socket, OTHER_UID);
    let out = status(root, &socket);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("owned by uid 65534"),
        "{}",
        stderr_of(&out)
    );
}

/// Forks a child that binds `socket` as us, becomes `uid`, listens, and answers Hello: the
/// socket file is ours, but the peer on it is another user.
fn listener_as(uid: u32, socket: &Path) -> libc::pid_t {
    let path = CString::new(socket.to_str().unwrap()).unwrap();
    let hello = hello_line();
    // SAFETY: the child only makes async-signal-safe calls and leaves with _exit.
    unsafe {
        let pid = libc::fork();
        if pid != 0 {
            return pid;
        }
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
        let mut addr: libc::sockaddr_un = std::mem::zeroed();
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (i, b) in path.as_bytes().iter().enumerate() {
            addr.sun_path[i] = *b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        if libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len) != 0
            || libc::setuid(uid) != 0
            || libc::listen(fd, 8) != 0
        {
            libc::_exit(2);
        }
        loop {
            let c = libc::accept(fd, std::ptr::null_mut(), std::ptr::null_mut());
            if c >= 0 {
                libc::write(c, hello.as_ptr() as *const libc::c_void, hello.len());
            }
        }
    }
}

#[test]
fn the_client_refuses_a_worker_running_as_another_user() {
    if !is_root("the_client_refuses_a_worker_running_as_another_user") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = private_dir(root, "run");
    let socket = dir.join("worker.sock");
    let child = listener_as(OTHER_UID, &socket);
    eventually("the listener to bind", || socket.exists());
    std::thread::sleep(std::time::Duration::from_millis(100));
    let out = status(root, &socket);
    // SAFETY: the child this test forked.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), 0);
    }
    assert!(!out.status.success(), "{}", stdout_of(&out));
    assert!(stderr_of(&out).contains("uid 65534"), "{}", stderr_of(&out));
}

#[test]
fn the_worker_drops_a_client_running_as_another_user() {
    if !is_root("the_worker_drops_a_client_running_as_another_user") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let _guard = start_worker(root, 0);
    let socket = socket_of(root);
    // Open the way on purpose, as a careless chmod would: the peer check must still hold.
    fs::set_permissions(socket.parent().unwrap(), fs::Permissions::from_mode(0o711)).unwrap();
    fs::set_permissions(root, fs::Permissions::from_mode(0o711)).unwrap();
    fs::set_permissions(&socket, fs::Permissions::from_mode(0o666)).unwrap();
    let path = CString::new(socket.to_str().unwrap()).unwrap();
    let hello = "{\"type\":\"Hello\",\"protocol\":1,\"version\":\"0\"}\n";
    // SAFETY: the child only makes async-signal-safe calls and leaves with _exit; the parent
    // waits for it.
    let code = unsafe {
        let pid = libc::fork();
        if pid == 0 {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
            let mut addr: libc::sockaddr_un = std::mem::zeroed();
            addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
            for (i, b) in path.as_bytes().iter().enumerate() {
                addr.sun_path[i] = *b as libc::c_char;
            }
            let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            if libc::setuid(OTHER_UID) != 0
                || libc::connect(fd, &addr as *const _ as *const libc::sockaddr, len) != 0
            {
                libc::_exit(2);
            }
            libc::write(fd, hello.as_ptr() as *const libc::c_void, hello.len());
            let mut buf = [0u8; 64];
            let n = libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len());
            libc::_exit(if n > 0 { 1 } else { 0 });
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::WEXITSTATUS(status)
    };
    fs::set_permissions(root, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(socket.parent().unwrap(), fs::Permissions::from_mode(0o700)).unwrap();
    assert_ne!(code, 2, "the child could not connect");
    assert_eq!(
        code, 0,
        "another user's client got an answer from the worker"
    );
}

#[test]
fn socket_never_replaces_a_file_that_is_not_a_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = private_dir(root, "files");
    let notes = dir.join("notes.txt");
    let pid = dir.join("notes.pid");
    fs::write(&notes, "my notes").unwrap();
    fs::write(&pid, "my pid notes").unwrap();
    let _guard = WorkerGuard(notes.clone());
    let out = zedit(root)
        .args(["worker", "start", "--socket"])
        .arg(&notes)
        .output()
        .unwrap();
    assert!(!out.status.success(), "must refuse {}", notes.display());
    assert!(
        stderr_of(&out).contains("not a socket"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(fs::read_to_string(&notes).unwrap(), "my notes");
    assert_eq!(fs::read_to_string(&pid).unwrap(), "my pid notes");

    // The socket path is free, but the pidfile beside it is someone's file.
    let free = dir.join("data.sock");
    let _guard2 = WorkerGuard(free.clone());
    fs::write(dir.join("data.pid"), "keep me").unwrap();
    let out = zedit(root)
        .args(["worker", "start", "--socket"])
        .arg(&free)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(fs::read_to_string(dir.join("data.pid")).unwrap(), "keep me");
}
