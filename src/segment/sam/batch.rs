//! Many single-point prompts decoded against one embedding in batches, as the reference's
//! automatic mask generator does (`SamAutomaticMaskGenerator._process_batch`): one positive
//! point per prompt, with the prompt encoder's padding point, every mask token returned.

use super::{transform, Embedding, Prediction, Result, Sam};
use candle_core::{DType, Tensor};

impl Sam {
    /// The decoder's outputs for each point (x, y in the original image's pixels), decoded
    /// `batch` prompts at a time; in the points' order.
    pub fn predict_points(
        &self,
        emb: &Embedding,
        points: &[(f64, f64)],
        batch: usize,
    ) -> Result<Vec<Prediction>> {
        let dev = &self.device;
        let mut out = Vec::with_capacity(points.len());
        for chunk in points.chunks(batch.max(1)) {
            let b = chunk.len();
            let xy: Vec<f32> = chunk
                .iter()
                .flat_map(|&p| {
                    let (x, y) = transform::scale_point(p, emb.original, emb.input);
                    [x, y]
                })
                .collect();
            let xy = Tensor::from_vec(xy, (b, 1, 2), dev)?;
            let labels = Tensor::ones((b, 1), DType::F32, dev)?;
            let (sparse, dense) = self.prompt.forward(Some((&xy, &labels)), None, None)?;
            let decoded = self
                .decoder
                .forward_batch(emb, &self.image_pe, &sparse, &dense)?;
            let (_, tokens, low, _) = decoded.masks.dims4()?;
            let masks = decoded
                .masks
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            let iou = decoded
                .iou
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            for (i, per) in masks.chunks(tokens * low * low).enumerate() {
                out.push(Prediction {
                    low_res: per.chunks(low * low).map(<[f32]>::to_vec).collect(),
                    low,
                    iou: iou[i * tokens..(i + 1) * tokens].to_vec(),
                });
            }
        }
        Ok(out)
    }
}
