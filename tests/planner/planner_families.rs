//! The planner on instructions as people write them, by family of phrasing
//! (`tests/data/families/*.toml`, same format as the shared examples): every case must plan to
//! the expected ops, regions and targets.

use crate::planner_cases;

#[test]
fn every_family_plans_as_expected() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/families");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut total = 0;
    let mut failed = Vec::new();
    let mut summary = Vec::new();
    for path in &paths {
        let (n, failures) = planner_cases::check_file(&path.to_string_lossy());
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        summary.push(format!("{name}: {}/{n}", n - failures.len()));
        total += n;
        failed.extend(failures.into_iter().map(|f| format!("[{name}] {f}")));
    }
    println!("{}", summary.join(", "));
    assert!(
        total >= 400,
        "expected at least 400 family cases, found {total}"
    );
    assert!(
        failed.is_empty(),
        "{} of {total} family cases failed ({}):\n\n{}",
        failed.len(),
        summary.join(", "),
        failed.join("\n")
    );
}
