//! Words to a mask at full size on the CPU with random weights (speed does not depend on their
//! values, so no download): MobileSAM's automatic masks over the default grid (8x8) of a
//! 1024-px image, Chinese-CLIP ViT-B/16 scoring the candidates' crops, and all of it end to end.
//! The filters are opened (random weights would pass almost nothing) and NMS is off, so every
//! grid mask is scored for stability and the full count of crops goes through CLIP: the most
//! work words-to-mask ever does.

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::chinese_clip::ChineseClipConfig;
use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use std::time::Duration;
use zedit::segment::grounding::{automatic, clip, GroundParams, Grounder};
use zedit::segment::sam::{Sam, SamConfig};
use zedit::segment::SegmentModel;

fn photo() -> RgbImage {
    RgbImage::from_fn(1024, 768, |x, y| {
        let v = ((x * 7 + y * 3) % 251) as u8;
        image::Rgb([v, (x / 4) as u8, (y / 3) as u8])
    })
}

fn grounder(map: &VarMap, dir: &std::path::Path) -> Grounder {
    let vb = VarBuilder::from_varmap(map, DType::F32, &Device::Cpu);
    let sam = Sam::new(SamConfig::mobile_sam(), vb.pp("sam")).unwrap_or_else(|e| panic!("{e}"));
    let sam = SegmentModel::from_sam("mobile-sam".into(), String::new(), dir.into(), sam);
    // A vocabulary file for the tokenizer; ids stay inside the model's 21128.
    let vocab = dir.join("vocab.txt");
    let words = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "杯", "子", "左", "边", "的", "cup",
    ];
    std::fs::write(&vocab, words.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    let tok = clip::load_tokenizer(&vocab).unwrap_or_else(|e| panic!("{e}"));
    let cfg = ChineseClipConfig::clip_vit_base_patch16();
    let scorer = clip::ClipScorer::from_parts(
        "chinese-clip".into(),
        String::new(),
        -1.0,
        &cfg,
        vb.pp("clip"),
        tok,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Grounder {
        sam: sam.into(),
        clip: scorer.into(),
    }
}

fn params() -> GroundParams {
    let mut p = GroundParams::new(-1.0);
    p.auto.pred_iou_thresh = 0.0;
    p.auto.stability_score_thresh = 0.0;
    p.auto.box_nms_thresh = 1.0;
    p.min_area = 0.0;
    p.auto.points_per_batch = std::env::var("ZEDIT_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(p.auto.points_per_batch);
    p
}

fn bench(c: &mut Criterion) {
    zedit::threads::fix_thread_count();
    let dir = std::env::temp_dir().join(format!("zedit-bench-grounding-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let map = VarMap::new();
    let g = grounder(&map, &dir);
    let image = photo();
    let p = params();
    let emb = g.sam.embed(&image).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("grounding automatic masks 8x8 (1024x768)", |b| {
        b.iter(|| {
            automatic::automatic_masks(g.sam.sam(), &emb, &p.auto).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    let side = g.clip.image_size;
    let crops = vec![vec![0.1f32; 3 * side * side]; p.max_candidates];
    c.bench_function("grounding clip crops (max candidates)", |b| {
        b.iter(|| {
            g.clip
                .embed_images(&crops, p.crop_batch)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    c.bench_function("grounding text to mask end to end (1024x768)", |b| {
        b.iter(|| {
            let found = g
                .ground(&image, "左边的杯子", Some(zedit::core::Region::Left), &p)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(found.candidates.len(), p.max_candidates);
            found
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    targets = bench
}
criterion_main!(benches);
