//! Session load and save with a 50-step history.

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

criterion_group!(benches, bench);
criterion_main!(benches);
