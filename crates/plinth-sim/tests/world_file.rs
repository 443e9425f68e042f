//! The world file of a simulator started with `world_file`: handlers save it after every
//! write, concurrently; the file must end with the last world, never an older snapshot that
//! was renamed into place after a newer one (a flaky "deleted outside plinth" in the
//! end-to-end tests came from exactly that).

use std::sync::Arc;

#[test]
fn concurrent_saves_leave_the_latest_world_on_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("world.json");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let handle = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        plinth_sim::start(
            listener,
            plinth_sim::SimConfig {
                world_file: Some(file.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("start")
    });
    let shared = Arc::clone(&handle.shared);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    shared.world().clock += 1;
                    shared.save().expect("save");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("world file")).expect("json");
    assert_eq!(saved["clock"], 400, "the file holds an older world");
    rt.block_on(handle.shutdown()).expect("shutdown");
}
