//! Build script: with the `cuda` feature, compiles zedit's own CUDA kernels
//! (src/engine/zimage/transformer/fused.cu) to PTX with nvcc, for the compute capability in
//! CUDA_COMPUTE_CAP (default 80; they need 80 or newer), as candle's kernels are built, then
//! assembles that PTX with ptxas so that a malformed inline `mma`/`ldmatrix` fails the build
//! rather than the first module load on a GPU.

use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "src/engine/zimage/transformer/fused.cu";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("fused.ptx");
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let cap: String = cap.chars().filter(char::is_ascii_digit).collect();
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| match std::env::var("CUDA_HOME") {
        Ok(home) => format!("{home}/bin/nvcc"),
        Err(_) => "nvcc".into(),
    });
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("-arch=compute_{cap}"))
        .arg(SOURCE)
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{nvcc} failed on {SOURCE} ({s})"),
        Err(e) => panic!("cannot run {nvcc} for {SOURCE}: {e}; set NVCC or CUDA_HOME"),
    }
    // ptxas sits next to nvcc; the cubin is discarded (the driver JITs the PTX at load time).
    let ptxas = PathBuf::from(&nvcc).with_file_name("ptxas");
    let ptxas = if ptxas.is_file() {
        ptxas
    } else {
        PathBuf::from("ptxas")
    };
    let status = Command::new(&ptxas)
        .arg(format!("-arch=sm_{cap}"))
        .arg(&out)
        .arg("-o")
        .arg(out.with_extension("cubin"))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{} rejects the PTX of {SOURCE} ({s})", ptxas.display()),
        Err(e) => println!(
            "cargo:warning=PTX of {SOURCE} not assembled ({} not run: {e})",
            ptxas.display()
        ),
    }
}
