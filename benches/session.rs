//! Session load and save with a 50-step history, and load and serialise with 100,000 steps.

use criterion::{criterion_group, criterion_main, Criterion};
use zedit::core::{EditParams, Op};
use zedit::engine::{classic::ClassicEngine, Flow};
use zedit::session::{Session, StepRequest};

fn fifty_step_session(root: &std::path::Path) -> std::path::PathBuf {
    let src = root.join("src.png");
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 4, 90]))
        .save(&src)
        .unwrap();
    let session = Session::create(&root.join("sessions"), "bench", &src).unwrap();
    let dir = session.dir().to_path_buf();
    let mut engine = ClassicEngine::new();
    let mut parent = None;
    for i in 0..50u64 {
        let text = if i % 2 == 0 { "warm" } else { "cool" };
        let req = StepRequest {
            parent,
            op: Op::Relight,
            instruction: text.into(),
            params: EditParams {
                seed: i,
                ..Default::default()
            },
            mask_spec: None,
            mask: None,
            overlay: None,
            recipe: None,
        };
        let step =
            zedit::worker::execute_step(&dir, &req, &mut engine, &mut |_| Flow::Continue).unwrap();
        parent = Some(step.id);
    }
    dir
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fifty_step_session(tmp.path());
    c.bench_function("session load, 50 steps", |b| {
        b.iter(|| Session::load(&dir).unwrap())
    });
    c.bench_function(
        "session save (lock, load, atomic write + fsync), 50 steps",
        |b| b.iter(|| Session::transact(&dir, |_| Ok(())).unwrap()),
    );
    let session = Session::load(&dir).unwrap();
    c.bench_function("session serialise to TOML, 50 steps", |b| {
        b.iter(|| session.doc.to_toml().unwrap())
    });
}

/// A copy of the session whose history is one chain of `n` steps, written as this build writes.
fn long_session(dir: &std::path::Path, n: u32) -> std::path::PathBuf {
    let mut doc = Session::load(dir).unwrap().doc;
    let one = doc.steps[1].clone();
    doc.steps = (1..=n)
        .map(|i| {
            let mut s = one.clone();
            s.id = zedit::core::StepId(i);
            s.parent = (i > 1).then(|| zedit::core::StepId(i - 1));
            s
        })
        .collect();
    doc.head = Some(zedit::core::StepId(n));
    let long = dir.with_file_name("long");
    std::fs::create_dir_all(&long).unwrap();
    std::fs::write(long.join("session.toml"), doc.to_toml().unwrap()).unwrap();
    let images = long.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for e in std::fs::read_dir(dir.join("images")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), images.join(e.file_name())).unwrap();
    }
    long
}

fn bench_long(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = long_session(&fifty_step_session(tmp.path()), 100_000);
    let mut group = c.benchmark_group("100,000 steps");
    group.sample_size(10);
    group.bench_function("session load", |b| b.iter(|| Session::load(&dir).unwrap()));
    let session = Session::load(&dir).unwrap();
    group.bench_function("session serialise to TOML", |b| {
        b.iter(|| session.doc.to_toml().unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench, bench_long);
criterion_main!(benches);
