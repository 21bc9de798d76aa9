//! The Z-Image schedule against a table written by the reference (diffusers'
//! FlowMatchEulerDiscreteScheduler with the img2img pipeline's default sigmas and
//! `get_timesteps`; generator: scripts/make_schedule_table.py): sigmas, timesteps, transformer t
//! and start index, bit for bit, for every step count 1..50 and strength 0.05..1.0.
#![cfg(feature = "zimage")]

use candle_core::{DType, Device};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use zedit::engine::zimage::config::SchedulerConfig;
use zedit::engine::zimage::scheduler::{decimal, Schedule};
use zedit::engine::zimage::Pipeline;

#[derive(Deserialize)]
struct Table {
    schedules: Vec<Entry>,
    strengths: Vec<f64>,
    /// steps → per strength [t_start, steps run].
    t_start: BTreeMap<String, Vec<[usize; 2]>>,
}

#[derive(Deserialize)]
struct Entry {
    shift: f64,
    steps: usize,
    sigmas: Vec<f32>,
    timesteps: Vec<f32>,
    model_t: Vec<f32>,
}

fn table() -> Table {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage_schedules.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config(shift: f64) -> SchedulerConfig {
    SchedulerConfig::parse(&format!(
        r#"{{"num_train_timesteps": 1000, "shift": {shift}}}"#
    ))
    .unwrap()
}

#[test]
fn sigmas_timesteps_and_t_equal_the_reference_for_every_step_count() {
    let t = table();
    assert!(t.schedules.len() >= 50);
    for e in &t.schedules {
        let s = Schedule::new(&config(e.shift), e.steps);
        let what = format!("shift {} with {} steps", e.shift, e.steps);
        assert_eq!(s.sigmas, e.sigmas, "{what}: sigmas");
        assert_eq!(s.timesteps, e.timesteps, "{what}: timesteps");
        let t: Vec<f32> = s.timesteps.iter().map(|&x| Schedule::model_t(x)).collect();
        assert_eq!(t, e.model_t, "{what}: transformer t");
    }
}

#[test]
fn t_start_equals_the_reference_for_every_strength() {
    let t = table();
    let cfg = SchedulerConfig::default();
    assert_eq!(t.t_start.len(), 50);
    for (steps, row) in &t.t_start {
        let n: usize = steps.parse().unwrap();
        assert_eq!(row.len(), t.strengths.len());
        for (k, (&want, [start, run])) in t.strengths.iter().zip(row).enumerate() {
            // The strength as the session stores it: an f32 of the decimal the user typed.
            let typed = (k + 1) as f32 / 20.0;
            assert_eq!(decimal(typed), want, "strength {typed}");
            let s = Schedule::with_strength(&cfg, n, decimal(typed));
            assert_eq!(
                (s.t_start, s.run_len()),
                (*start, *run),
                "{n} steps, strength {want}"
            );
        }
    }
}

#[test]
fn the_known_off_by_one_cases() {
    let cfg = SchedulerConfig::default();
    let at = |n, s: f32| Schedule::with_strength(&cfg, n, decimal(s)).t_start;
    assert_eq!(at(10, 0.8), 2);
    assert_eq!(at(10, 0.6), 4);
    assert_eq!(at(20, 0.55), 9);
    assert_eq!(at(20, 0.6), 8);
    assert_eq!(at(20, 0.8), 4);
}

#[test]
fn a_model_whose_scheduler_sets_an_unsupported_flag_is_refused_by_name() {
    let src = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zimage-tiny-b/tiny-zimage"
    ));
    let dir = tempfile::tempdir().unwrap();
    for comp in [
        "transformer",
        "vae",
        "text_encoder",
        "tokenizer",
        "scheduler",
    ] {
        std::fs::create_dir_all(dir.path().join(comp)).unwrap();
        for f in std::fs::read_dir(src.join(comp)).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.path().join(comp).join(f.file_name().unwrap())).unwrap();
        }
    }
    let cfg = dir.path().join("scheduler/scheduler_config.json");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(Pipeline::load(dir.path(), &Device::Cpu, DType::F32).is_ok());
    for (key, value) in [("use_dynamic_shifting", "true"), ("shift_terminal", "0.02")] {
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json[key] = serde_json::from_str(value).unwrap();
        std::fs::write(&cfg, json.to_string()).unwrap();
        let e = Pipeline::load(dir.path(), &Device::Cpu, DType::F32)
            .err()
            .unwrap_or_else(|| panic!("{key}: accepted"));
        let msg = e.to_string();
        assert!(
            msg.contains(key) && msg.contains("scheduler_config.json"),
            "{msg}"
        );
    }
}
