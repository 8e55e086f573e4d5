//! Benchmark (not a test): compile time of a profile, and the per-syscall
//! cost of getpid under remora's program and under libseccomp's program
//! for the same profile (made by seccomp/tests/libseccomp_ref.py).
//!
//!     cargo run --release -p remora-seccomp --example bench -- PROFILE.json [LIBSECCOMP.bpf]
//!
//! PROFILE.json is an OCI `linux.seccomp` object. Needs root.

use std::time::Instant;

fn getpid_ns(prog: Option<Vec<libc::sock_filter>>, iters: u64) -> f64 {
    let mut pipe = [0i32; 2];
    // SAFETY: pipe fills two ints.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
    // SAFETY: the child makes syscalls, writes a number and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        if let Some(p) = prog {
            let f = remora_seccomp::Filter {
                program: p,
                flags: 0,
                wants_listener: false,
            };
            if f.load().is_err() {
                // SAFETY: leaving the child.
                unsafe { libc::_exit(1) };
            }
        }
        let t = Instant::now();
        for _ in 0..iters {
            // SAFETY: a plain syscall.
            unsafe { libc::syscall(libc::SYS_getpid) };
        }
        let ns = t.elapsed().as_nanos() as f64 / iters as f64;
        let b = ns.to_ne_bytes();
        // SAFETY: writing 8 bytes from a local; leaving the child.
        unsafe {
            libc::write(pipe[1], b.as_ptr() as *const libc::c_void, 8);
            libc::_exit(0);
        }
    }
    let mut b = [0u8; 8];
    // SAFETY: reading 8 bytes into a local; waiting for our child.
    unsafe {
        libc::close(pipe[1]);
        assert_eq!(
            libc::read(pipe[0], b.as_mut_ptr() as *mut libc::c_void, 8),
            8,
            "child failed"
        );
        libc::close(pipe[0]);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
    }
    f64::from_ne_bytes(b)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("read the profile");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let profile = remora_seccomp::parse_profile(&value).unwrap();
    let n = 2000;
    let t = Instant::now();
    let mut filter = None;
    for _ in 0..n {
        filter = Some(remora_seccomp::compile(&profile).unwrap());
    }
    let compile_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let filter = filter.unwrap();
    println!(
        "remora compile: {compile_us:.1} us per profile, {} instructions",
        filter.program.len()
    );
    let theirs: Option<Vec<libc::sock_filter>> = args.get(2).map(|p| {
        std::fs::read(p)
            .unwrap()
            .chunks(8)
            .map(|c| libc::sock_filter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect()
    });
    if let Some(t) = &theirs {
        println!("libseccomp+runc program: {} instructions", t.len());
    }
    let iters = 2_000_000;
    let (mut none, mut ours, mut lib) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        none.push(getpid_ns(None, iters));
        ours.push(getpid_ns(Some(filter.program.clone()), iters));
        if let Some(t) = &theirs {
            lib.push(getpid_ns(Some(t.clone()), iters));
        }
    }
    let base = median(none);
    println!("getpid: {base:.1} ns without a filter");
    let o = median(ours);
    println!(
        "getpid: {o:.1} ns under remora's filter (+{:.1} ns)",
        o - base
    );
    if !lib.is_empty() {
        let l = median(lib);
        println!(
            "getpid: {l:.1} ns under libseccomp's filter (+{:.1} ns)",
            l - base
        );
    }
}
