//! Planning speed: three-clause instructions in Chinese and in English, and a one-clause
//! request with a polite wrapper and a typo (budget: well under 1 ms).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::Duration;
use zedit::plan::plan;

const ZH: &str = "把坐在沙发上的男人换成穿旗袍的女人,面带微笑,窗外阳光洒入";
const EN: &str =
    "Delete the trash can, then add a bench in its place, and darken the whole scene a little";
const LINES: &str =
    "change the cat to a white dog\nadd a collar on the white dog\ndelete the keyboard";
const POLITE: &str = "Could you please reaplce the backdrop with a snowy forest, as if at dusk?";

fn bench_plan(c: &mut Criterion) {
    c.bench_function("plan_zh_3_clauses", |b| b.iter(|| plan(black_box(ZH))));
    c.bench_function("plan_en_3_clauses", |b| b.iter(|| plan(black_box(EN))));
    c.bench_function("plan_en_3_lines", |b| b.iter(|| plan(black_box(LINES))));
    c.bench_function("plan_en_polite_typo", |b| {
        b.iter(|| plan(black_box(POLITE)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench_plan
}
criterion_main!(benches);
