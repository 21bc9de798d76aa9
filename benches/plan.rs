//! Planning speed: a three-clause instruction in Chinese and in English (budget: well under 1 ms).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use zedit::plan::plan;

const ZH: &str = "把坐在沙发上的男人换成穿旗袍的女人,面带微笑,窗外阳光洒入";
const EN: &str =
    "Delete the trash can, then add a bench in its place, and darken the whole scene a little";

fn bench_plan(c: &mut Criterion) {
    c.bench_function("plan_zh_3_clauses", |b| b.iter(|| plan(black_box(ZH))));
    c.bench_function("plan_en_3_clauses", |b| b.iter(|| plan(black_box(EN))));
}

criterion_group!(benches, bench_plan);
criterion_main!(benches);
