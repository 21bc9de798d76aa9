//! Worker benchmarks: submit-to-accepted round trip on a connected client, and throughput of
//! 100 small classic jobs (64x64 relight) queued from 4 clients at once.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zedit::core::{EditParams, Op};
use zedit::session::{Session, StepRequest};
use zedit::worker::{Client, Event, Job, JobId, Server, ServerOptions};

fn job(dir: &Path, engine: &str, seed: u64) -> Job {
    Job {
        session_dir: dir.to_path_buf(),
        request: StepRequest {
            parent: None,
            op: Op::Relight,
            instruction: "warmer".into(),
            params: EditParams {
                seed,
                ..Default::default()
            },
            mask_spec: None,
            mask: None,
            overlay: None,
            recipe: None,
        },
        engine: engine.into(),
        model: None,
        device: None,
        gguf_exec: None,
    }
}

fn wait_final(client: &mut Client, id: JobId) -> Event {
    loop {
        match client.next_event() {
            Ok(e) if e.job_id() == Some(id) && e.is_final() => return e,
            Ok(_) => {}
            Err(e) => panic!("worker gone: {e}"),
        }
    }
}

fn session(root: &Path, name: &str) -> PathBuf {
    let src = root.join("src.png");
    if !src.exists() {
        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 3, y as u8 * 3, 90]))
            .save(&src)
            .expect("write source");
    }
    Session::create(root, name, &src)
        .expect("create session")
        .dir()
        .to_path_buf()
}

fn worker(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    // The worker refuses a socket folder others can enter: keep it private.
    let private = tmp.path().join("run");
    std::fs::create_dir(&private).expect("socket folder");
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("socket folder mode");
    let socket = private.join("worker.sock");
    let server = Server::start(ServerOptions::new(&socket)).expect("worker starts");
    let handle = std::thread::spawn(move || server.serve());
    let dir = session(tmp.path(), "rt");
    let mut client = Client::connect(&socket).expect("connect");

    // The job names an engine the worker lacks, so it fails at once without touching the
    // session: the queue is empty at every submit and the session does not grow. The accept
    // path is the same for every job.
    c.bench_function("worker/submit_to_accepted", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let start = Instant::now();
                let (id, _) = client.submit(job(&dir, "bench-none", i)).expect("accepted");
                total += start.elapsed();
                wait_final(&mut client, id);
            }
            total
        })
    });

    let mut group = c.benchmark_group("worker");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(100));
    let mut round = 0;
    group.bench_function("100_relight_64px_from_4_clients", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                // Fresh sessions each round, so history size stays that of a real session.
                let dirs: Vec<PathBuf> = (0..4)
                    .map(|k| session(tmp.path(), &format!("t{round}-{k}")))
                    .collect();
                let mut clients: Vec<Client> = (0..4)
                    .map(|_| Client::connect(&socket).expect("connect"))
                    .collect();
                let start = Instant::now();
                std::thread::scope(|s| {
                    for (client, dir) in clients.iter_mut().zip(&dirs) {
                        s.spawn(move || {
                            let ids: Vec<JobId> = (0..25)
                                .map(|i| client.submit(job(dir, "classic", i)).expect("ok").0)
                                .collect();
                            for id in ids {
                                let e = wait_final(client, id);
                                assert!(matches!(e, Event::Done { .. }), "{e:?}");
                            }
                        });
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    let _ = client.shutdown();
    let _ = handle.join();
}

criterion_group!(benches, worker);
criterion_main!(benches);
