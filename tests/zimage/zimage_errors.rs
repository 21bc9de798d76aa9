//! Bad models and bad inputs give the zimage engine's clear errors, naming what is wrong.
#![cfg(feature = "zimage")]

use crate::common;

use candle_core::{Device, Tensor};
use image::{GrayImage, RgbImage};
use std::path::{Path, PathBuf};
use zedit::core::{EditParams, Op};
use zedit::engine::{self, EditRequest, EngineError, EngineOptions, Flow};

fn root() -> PathBuf {
    common::zimage_fixtures()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

fn tiny_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    copy_dir(&root().join("tiny-zimage"), &dir);
    (tmp, dir)
}

fn open_at(dir: &Path) -> Result<Box<dyn engine::Engine>, EngineError> {
    engine::open(&EngineOptions {
        name: "zimage".into(),
        model: Some(dir.into()),
        ..Default::default()
    })
}

fn err_of(r: Result<Box<dyn engine::Engine>, EngineError>) -> EngineError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn missing_weight_file_is_named() {
    let (_tmp, dir) = tiny_copy();
    std::fs::remove_file(dir.join("vae/diffusion_pytorch_model.safetensors")).unwrap();
    let e = err_of(open_at(&dir));
    assert!(matches!(e, EngineError::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("vae/*.safetensors"), "{e}");
}

#[test]
fn wrong_shape_names_the_tensor() {
    let (_tmp, dir) = tiny_copy();
    // The pad token is [1, dim] for the set's config; one short of it must be named.
    let config = std::fs::read_to_string(dir.join("transformer/config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let dim = config["dim"].as_u64().unwrap() as usize;
    let path = dir.join("transformer/diffusion_pytorch_model.safetensors");
    let mut t = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    t.insert(
        "x_pad_token".into(),
        Tensor::zeros((1, dim - 1), candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    candle_core::safetensors::save(&t, &path).unwrap();
    let e = err_of(open_at(&dir));
    assert!(matches!(e, EngineError::Model(_)), "{e:?}");
    let msg = e.to_string();
    let (short, want) = (format!("[1, {}]", dim - 1), format!("[1, {dim}]"));
    assert!(
        msg.contains("'x_pad_token'") && msg.contains(&short) && msg.contains(&want),
        "{msg}"
    );
}

#[test]
fn truncated_file_is_reported() {
    let (_tmp, dir) = tiny_copy();
    let path = dir.join("text_encoder/model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = err_of(open_at(&dir));
    assert!(matches!(e, EngineError::Model(_)), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("model.safetensors") && msg.contains("not a complete"),
        "{msg}"
    );
}

#[test]
fn text_encoder_with_model_prefix_loads() {
    let (_tmp, dir) = tiny_copy();
    let path = dir.join("text_encoder/model.safetensors");
    let t = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    let prefixed: std::collections::HashMap<String, Tensor> = t
        .into_iter()
        .map(|(k, v)| (format!("model.{k}"), v))
        .collect();
    candle_core::safetensors::save(&prefixed, &path).unwrap();
    assert!(open_at(&dir).is_ok());
}

#[test]
fn unknown_model_and_device_are_explained() {
    let e = err_of(open_at(Path::new("/no/such/model")));
    assert!(e.to_string().contains("/no/such/model"), "{e}");
    let opts = EngineOptions {
        name: "zimage".into(),
        model: Some(root().join("tiny-zimage")),
        device: Some("quantum".into()),
        ..Default::default()
    };
    let e = err_of(engine::open(&opts));
    assert!(e.to_string().contains("quantum"), "{e}");
    if !cfg!(feature = "cuda") {
        let opts = EngineOptions {
            device: Some("cuda:0".into()),
            ..opts
        };
        let e = err_of(engine::open(&opts));
        assert!(
            matches!(e, EngineError::Unavailable(_)) && e.to_string().contains("--features cuda"),
            "{e}"
        );
    }
}

fn request(image: RgbImage, mask: Option<GrayImage>) -> EditRequest {
    EditRequest {
        op: Op::Edit,
        instruction: "a red boat".into(),
        image,
        mask,
        overlay: None,
        params: EditParams {
            steps: 2,
            strength: 1.0,
            ..Default::default()
        },
        recipe: None,
    }
}

#[test]
fn bad_images_and_masks_are_refused() {
    let mut e = open_at(&root().join("tiny-zimage")).unwrap();
    let small = RgbImage::new(12, 40);
    let err = e
        .run(&request(small, None), &mut |_| Flow::Continue)
        .unwrap_err();
    assert!(
        matches!(err, EngineError::BadInput(_)) && err.to_string().contains("12x40"),
        "{err}"
    );

    let img = RgbImage::new(64, 64);
    let mask = GrayImage::from_pixel(32, 32, image::Luma([255]));
    let err = e
        .run(&request(img.clone(), Some(mask)), &mut |_| Flow::Continue)
        .unwrap_err();
    assert!(
        matches!(err, EngineError::BadInput(_)) && err.to_string().contains("32x32"),
        "{err}"
    );

    let empty = GrayImage::new(64, 64);
    let err = e
        .run(&request(img.clone(), Some(empty)), &mut |_| Flow::Continue)
        .unwrap_err();
    assert!(matches!(err, EngineError::BadInput(_)), "{err}");

    let mut weak = request(img, None);
    weak.params.strength = 0.0;
    let Err(err) = e.run(&weak, &mut |_| Flow::Continue) else {
        panic!("strength 0 runs no step and must be refused");
    };
    assert!(err.to_string().contains("strength 0 "), "{err}");
}

#[test]
fn sharded_weights_with_an_index_load_and_a_missing_shard_is_named() {
    let (_tmp, dir) = tiny_copy();
    let tdir = dir.join("transformer");
    let single = tdir.join("diffusion_pytorch_model.safetensors");
    let all = candle_core::safetensors::load(&single, &Device::Cpu).unwrap();
    std::fs::remove_file(&single).unwrap();
    let mut names: Vec<&String> = all.keys().collect();
    names.sort();
    let (a, b) = names.split_at(names.len() / 2);
    let mut map = serde_json::Map::new();
    for (part, file) in [
        (a, "model-00001-of-00002.safetensors"),
        (b, "model-00002-of-00002.safetensors"),
    ] {
        let shard: std::collections::HashMap<String, Tensor> = part
            .iter()
            .map(|n| ((*n).clone(), all[*n].clone()))
            .collect();
        candle_core::safetensors::save(&shard, tdir.join(file)).unwrap();
        for n in part {
            map.insert((*n).clone(), serde_json::Value::String(file.into()));
        }
    }
    let index = serde_json::json!({ "metadata": {}, "weight_map": map });
    std::fs::write(
        tdir.join("diffusion_pytorch_model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    assert!(open_at(&dir).is_ok());
    std::fs::remove_file(tdir.join("model-00002-of-00002.safetensors")).unwrap();
    let e = err_of(open_at(&dir));
    assert!(
        e.to_string().contains("model-00002-of-00002.safetensors"),
        "{e}"
    );
}
