//! The LoRA picker from the keyboard: `L` lists the LoRA folder's files, Space switches one on,
//! +/- change its weight by 0.1, and the next edit's recipe carries the LoRAs on with their
//! weights and file digests, as `--lora FILE:WEIGHT` records them.

mod common;
mod tui_support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tui_support::Harness;
use zedit::session::{Session, StepRequest};
use zedit::tui::state::Layer;
use zedit::tui::{BackendError, JobBackend, JobId};

/// Records what is submitted and runs nothing.
struct Recorder(Arc<Mutex<Vec<StepRequest>>>);

impl JobBackend for Recorder {
    fn submit(
        &mut self,
        _dir: PathBuf,
        req: StepRequest,
        _engine: String,
    ) -> Result<JobId, BackendError> {
        let mut v = self.0.lock().unwrap();
        v.push(req);
        Ok(JobId(v.len() as u64))
    }
    fn cancel(&mut self, _job: JobId) {}
    fn state(&self) -> String {
        "local".into()
    }
}

fn digest(p: &std::path::Path) -> String {
    blake3::hash(&std::fs::read(p).unwrap())
        .to_hex()
        .to_string()
}

#[test]
fn chosen_loras_and_weights_go_with_the_next_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sessions");
    let img = common::write_image(tmp.path(), "beach.png", &common::test_image(64, 48, 1));
    Session::create(&root, "beach", &img).unwrap();
    let loras = tmp.path().join("loras");
    std::fs::create_dir_all(&loras).unwrap();
    std::fs::write(loras.join("b-style.safetensors"), b"style bytes").unwrap();
    std::fs::write(loras.join("a-char.safetensors"), b"character bytes").unwrap();
    std::fs::write(loras.join("notes.txt"), b"not a LoRA").unwrap();

    let sent = Arc::new(Mutex::new(Vec::new()));
    let rec = sent.clone();
    let mut h = Harness::with_backend(&root, move |_| Box::new(Recorder(rec)));
    h.keys("<Enter>");

    // The classic engine takes no LoRAs: said, and nothing opens.
    h.keys("L");
    assert!(h.state().layer.is_none());
    let said = h.state().message.clone().unwrap();
    assert!(said.error && said.text.contains("zimage"), "{}", said.text);

    h.app.state.engine = "zimage".into();
    h.app.state.lora_dir = loras.clone();
    h.keys("L");
    let Some(Layer::Loras(picker)) = &h.state().layer else {
        panic!("the picker is open: {:?}", h.state().layer);
    };
    let names: Vec<PathBuf> = picker.items.iter().map(|l| l.path.clone()).collect();
    assert_eq!(
        names,
        vec![
            loras.join("a-char.safetensors"),
            loras.join("b-style.safetensors")
        ]
    );
    assert!(picker.items.iter().all(|l| !l.on && l.weight == 1.0));

    // b on at 1.2; a at 0.7, switched on, then off and on again.
    h.keys("j<Space>++k---<Space><Space><Space>");
    let got: Vec<(String, f32)> = h
        .state()
        .loras
        .iter()
        .map(|l| {
            (
                l.path.file_name().unwrap().to_string_lossy().into(),
                l.weight,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("a-char.safetensors".into(), 0.7),
            ("b-style.safetensors".into(), 1.2)
        ]
    );
    h.keys("<Enter>");
    assert!(h.state().layer.is_none());

    // Reopened, the picker shows the choices.
    h.keys("L");
    let Some(Layer::Loras(picker)) = &h.state().layer else {
        panic!("reopened");
    };
    assert!(picker.items.iter().all(|l| l.on));
    h.keys("<Esc>iwarm afternoon light<Enter><Enter>");
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 1, "one step submitted");
    let recipe = sent[0].recipe.as_ref().expect("a zimage step has a recipe");
    let got: Vec<(PathBuf, f32, String)> = recipe
        .loras
        .iter()
        .map(|l| (l.path.clone(), l.weight, l.digest.clone()))
        .collect();
    let (a, b) = (
        loras.join("a-char.safetensors"),
        loras.join("b-style.safetensors"),
    );
    assert_eq!(
        got,
        vec![(a.clone(), 0.7, digest(&a)), (b.clone(), 1.2, digest(&b))]
    );
}

#[test]
fn the_lora_folder_is_the_environment_s_else_the_config_s_else_the_default() {
    use zedit::tui::update::loras::folder;
    let home = std::path::Path::new("/cfg");
    std::env::remove_var("ZEDIT_LORA_DIR");
    assert_eq!(folder(None, home), PathBuf::from("/cfg/loras"));
    assert_eq!(folder(Some("/l".as_ref()), home), PathBuf::from("/l"));
    std::env::set_var("ZEDIT_LORA_DIR", "/env/loras");
    assert_eq!(
        folder(Some("/l".as_ref()), home),
        PathBuf::from("/env/loras")
    );
    std::env::remove_var("ZEDIT_LORA_DIR");
}
