//! Tells the integration tests which engine they run on, at compile time: a test that applies to
//! one engine only is then `#[ignore]`d on the other — shown as ignored in cargo's summary —
//! instead of returning early and counting as a pass.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(test_engine_pg)");
    println!("cargo::rerun-if-env-changed=DANGJIAN_TEST_DB");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("DANGJIAN_TEST_DB").as_deref() == Ok("postgres") {
        println!("cargo::rustc-cfg=test_engine_pg");
    }
}
