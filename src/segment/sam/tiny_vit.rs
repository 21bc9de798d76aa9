//! MobileSAM's TinyViT image encoder, as the reference (`mobile_sam/modeling/tiny_vit_sam.py`)
//! computes it. candle-transformers has a TinyViT too, but it uses the tanh approximation of
//! GELU where the reference uses the exact (erf) one, which moves the image embedding by about
//! 2e-3, and it fixes the input size; this one follows the reference and takes its sizes from
//! [`SamConfig`]. Weight names are the reference's (and candle's).

use super::config::SamConfig;
use super::kernels::{bias_act, conv3x3, depthwise3x3, pointwise};
use super::tiny_vit_block::Block;
use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2dConfig, VarBuilder};
use candle_transformers::models::segment_anything::LayerNorm2d;

const MBCONV_EXPAND_RATIO: usize = 4;
const MLP_RATIO: usize = 4;

/// A bias-free convolution followed by batch norm (inference statistics), the norm folded
/// into the convolution's weights and a bias at load, as the reference's `Conv2d_BN.fuse`.
#[derive(Debug)]
pub(super) struct ConvBn {
    conv: candle_nn::Conv2d,
    bias: Tensor,
    /// The stride of a 3x3 depthwise convolution, run by our own kernel.
    depthwise: Option<usize>,
    /// A 1x1 convolution, run as a matrix product.
    pointwise: bool,
    /// The stride of a dense 3x3 convolution (padding 1), run as one matrix product.
    dense3x3: Option<usize>,
}

impl ConvBn {
    pub(super) fn new(
        cin: usize,
        cout: usize,
        k: usize,
        cfg: Conv2dConfig,
        vb: VarBuilder,
    ) -> Result<Self> {
        let conv = candle_nn::conv2d_no_bias(cin, cout, k, cfg, vb.pp("c"))?;
        let vn = vb.pp("bn");
        let (mean, var) = (vn.get(cout, "running_mean")?, vn.get(cout, "running_var")?);
        let (gamma, beta) = (vn.get(cout, "weight")?, vn.get(cout, "bias")?);
        let scale = (gamma / (var + 1e-5)?.sqrt()?)?;
        let weight = conv
            .weight()
            .broadcast_mul(&scale.reshape((cout, 1, 1, 1))?)?;
        let bias = (beta - (mean * &scale)?)?;
        let conv = candle_nn::Conv2d::new(weight, None, cfg);
        let depthwise =
            (k == 3 && cfg.groups == cin && cin == cout && cfg.padding == 1).then_some(cfg.stride);
        let pointwise = k == 1 && cfg.groups == 1 && cfg.stride == 1 && cfg.padding == 0;
        let dense3x3 = (k == 3 && cfg.groups == 1 && cfg.padding == 1 && cfg.dilation == 1)
            .then_some(cfg.stride);
        Ok(ConvBn {
            conv,
            bias,
            depthwise,
            pointwise,
            dense3x3,
        })
    }
}

impl ConvBn {
    /// The convolution's weight with the norm folded in.
    pub(super) fn weight(&self) -> &Tensor {
        self.conv.weight()
    }

    /// The bias the norm leaves.
    pub(super) fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The convolution and its bias, then the GELU when `act`: one pass over the output.
    fn run(&self, xs: &Tensor, act: bool) -> Result<Tensor> {
        let w = self.conv.weight();
        match self.depthwise {
            Some(stride) => depthwise3x3(xs, w, &self.bias, stride, act),
            None if self.pointwise => bias_act(&pointwise(xs, w)?, &self.bias, act),
            None if self.dense3x3.is_some() => {
                let stride = self.dense3x3.unwrap_or(1);
                bias_act(&conv3x3(xs, w, stride)?, &self.bias, act)
            }
            None => bias_act(&xs.apply(&self.conv)?, &self.bias, act),
        }
    }

    /// The convolution, then the GELU.
    pub(super) fn act(&self, xs: &Tensor) -> Result<Tensor> {
        self.run(xs, true)
    }
}

impl Module for ConvBn {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.run(xs, false)
    }
}

fn conv_cfg(stride: usize, padding: usize, groups: usize) -> Conv2dConfig {
    Conv2dConfig {
        stride,
        padding,
        groups,
        ..Default::default()
    }
}

/// Two stride-2 3x3 convolutions: the image at a quarter of its size.
#[derive(Debug)]
struct PatchEmbed {
    conv1: ConvBn,
    conv2: ConvBn,
}

impl PatchEmbed {
    fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(PatchEmbed {
            conv1: ConvBn::new(3, dim / 2, 3, conv_cfg(2, 1, 1), vb.pp("seq.0"))?,
            conv2: ConvBn::new(dim / 2, dim, 3, conv_cfg(2, 1, 1), vb.pp("seq.2"))?,
        })
    }
}

impl Module for PatchEmbed {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.conv1.act(xs)?.apply(&self.conv2)
    }
}

/// Inverted residual block of the first (convolutional) stage.
#[derive(Debug)]
struct MbConv {
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
}

impl MbConv {
    fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        let hidden = dim * MBCONV_EXPAND_RATIO;
        Ok(MbConv {
            conv1: ConvBn::new(dim, hidden, 1, conv_cfg(1, 0, 1), vb.pp("conv1"))?,
            conv2: ConvBn::new(hidden, hidden, 3, conv_cfg(1, 1, hidden), vb.pp("conv2"))?,
            conv3: ConvBn::new(hidden, dim, 1, conv_cfg(1, 0, 1), vb.pp("conv3"))?,
        })
    }
}

impl Module for MbConv {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = self.conv1.act(xs)?;
        let ys = self.conv2.act(&ys)?.apply(&self.conv3)?;
        gelu(&(ys + xs)?)
    }
}

/// Between stages: wider, and half the resolution (the reference keeps the resolution when the
/// new width is 320, 448 or 576, as in MobileSAM's last stage).
#[derive(Debug)]
struct PatchMerging {
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
    resolution: usize,
}

impl PatchMerging {
    fn stride(out: usize) -> usize {
        if [320, 448, 576].contains(&out) {
            1
        } else {
            2
        }
    }

    fn new(resolution: usize, dim: usize, out: usize, vb: VarBuilder) -> Result<Self> {
        let s = PatchMerging::stride(out);
        Ok(PatchMerging {
            conv1: ConvBn::new(dim, out, 1, conv_cfg(1, 0, 1), vb.pp("conv1"))?,
            conv2: ConvBn::new(out, out, 3, conv_cfg(s, 1, out), vb.pp("conv2"))?,
            conv3: ConvBn::new(out, out, 1, conv_cfg(1, 0, 1), vb.pp("conv3"))?,
            resolution,
        })
    }
}

impl Module for PatchMerging {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let xs = if xs.rank() == 3 {
            let b = xs.dim(0)?;
            xs.reshape((b, self.resolution, self.resolution, ()))?
                .permute((0, 3, 1, 2))?
        } else {
            xs.clone()
        };
        let xs = self.conv1.act(&xs)?;
        self.conv2
            .act(&xs)?
            .apply(&self.conv3)?
            .flatten_from(2)?
            .transpose(1, 2)
    }
}

/// A block of the first (convolutional) stage or of the attention stages.
#[derive(Debug)]
enum StageBlock {
    Conv(MbConv),
    Attention(Block),
}

/// One stage: its blocks, then (but for the last) a patch merging.
#[derive(Debug)]
struct Stage {
    blocks: Vec<StageBlock>,
    downsample: Option<PatchMerging>,
}

impl Module for Stage {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mut xs = xs.clone();
        // Attention blocks on the CPU run on rows of tokens, with no tensor in between.
        let rows: Option<Vec<_>> = self
            .blocks
            .iter()
            .map(|b| match b {
                StageBlock::Attention(m) => m.cpu.as_ref(),
                StageBlock::Conv(_) => None,
            })
            .collect();
        if let Some(rows) = rows.filter(|r| !r.is_empty()) {
            let (b, l, c) = xs.dims3()?;
            let flat = xs.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
            let mut out = Vec::with_capacity(flat.len());
            for item in flat.chunks_exact(l * c) {
                let x = rows.iter().fold(item.to_vec(), |x, blk| blk.forward(x));
                out.extend(x);
            }
            xs = Tensor::from_vec(out, (b, l, c), xs.device())?;
            return match &self.downsample {
                Some(d) => d.forward(&xs),
                None => Ok(xs),
            };
        }
        for b in &self.blocks {
            xs = match b {
                StageBlock::Conv(m) => m.forward(&xs)?,
                StageBlock::Attention(m) => m.forward(&xs)?,
            };
        }
        match &self.downsample {
            Some(d) => d.forward(&xs),
            None => Ok(xs),
        }
    }
}

/// The TinyViT encoder with SAM's neck: (1, 3, S, S) normalised pixels to (1, 256, S/16, S/16).
#[derive(Debug)]
pub struct TinyViT {
    patch_embed: PatchEmbed,
    stages: Vec<Stage>,
    neck_conv1: candle_nn::Conv2d,
    neck_ln1: LayerNorm2d,
    neck_conv2: candle_nn::Conv2d,
    neck_ln2: LayerNorm2d,
    grid: usize,
}

impl TinyViT {
    pub fn new(
        cfg: &SamConfig,
        embed_dims: &[usize],
        depths: &[usize],
        num_heads: &[usize],
        window_sizes: &[usize],
        vb: VarBuilder,
    ) -> Result<Self> {
        let patch_embed = PatchEmbed::new(embed_dims[0], vb.pp("patch_embed"))?;
        let patches = cfg.image_size / 4;
        let n = embed_dims.len();
        let vb_l = vb.pp("layers");
        let mut stages = Vec::with_capacity(n);
        for i in 0..n {
            // The reference's input resolution per stage: the last keeps the one before it.
            let shift = if i == 3 { 2 } else { i };
            let resolution = patches >> shift;
            let dim = embed_dims[i];
            let out = embed_dims[(i + 1).min(n - 1)];
            let vb_i = vb_l.pp(i);
            let vb_b = vb_i.pp("blocks");
            let mut blocks = Vec::with_capacity(depths[i]);
            for j in 0..depths[i] {
                blocks.push(if i == 0 {
                    StageBlock::Conv(MbConv::new(dim, vb_b.pp(j))?)
                } else {
                    StageBlock::Attention(Block::new(
                        dim,
                        resolution,
                        num_heads[i],
                        window_sizes[i],
                        MLP_RATIO,
                        vb_b.pp(j),
                    )?)
                });
            }
            let downsample = if i + 1 < n {
                Some(PatchMerging::new(
                    resolution,
                    dim,
                    out,
                    vb_i.pp("downsample"),
                )?)
            } else {
                None
            };
            stages.push(Stage { blocks, downsample });
        }
        let last = embed_dims[n - 1];
        let neck_conv1 =
            candle_nn::conv2d_no_bias(last, 256, 1, Default::default(), vb.pp("neck.0"))?;
        let neck_ln1 = LayerNorm2d::new(256, 1e-6, vb.pp("neck.1"))?;
        let neck_conv2 =
            candle_nn::conv2d_no_bias(256, 256, 3, conv_cfg(1, 1, 1), vb.pp("neck.2"))?;
        let neck_ln2 = LayerNorm2d::new(256, 1e-6, vb.pp("neck.3"))?;
        Ok(TinyViT {
            patch_embed,
            stages,
            neck_conv1,
            neck_ln1,
            neck_conv2,
            neck_ln2,
            grid: cfg.grid(),
        })
    }
}

/// The neck's 3x3 convolution (stride 1, no bias) through [`conv3x3`].
struct Dense3x3<'a>(&'a candle_nn::Conv2d);

impl Module for Dense3x3<'_> {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        conv3x3(xs, self.0.weight(), 1)
    }
}

/// The reference's GELU: exact, through the error function.
pub(super) fn gelu(xs: &Tensor) -> Result<Tensor> {
    super::kernels::gelu(xs)
}

impl Module for TinyViT {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mut xs = self.patch_embed.forward(xs)?;
        for s in &self.stages {
            xs = s.forward(&xs)?;
        }
        let (b, l, c) = xs.dims3()?;
        if l != self.grid * self.grid {
            candle_core::bail!(
                "TinyViT ends with {l} tokens, not the {0}x{0} grid the decoder expects",
                self.grid
            );
        }
        xs.reshape((b, self.grid, self.grid, c))?
            .permute((0, 3, 1, 2))?
            .apply(&self.neck_conv1)?
            .apply(&self.neck_ln1)?
            .apply(&Dense3x3(&self.neck_conv2))?
            .apply(&self.neck_ln2)
    }
}
