//! Crash recovery across real processes: a child upserts batches and prints
//! each acknowledged batch; we SIGKILL it at random moments, reopen, and check
//! that every acknowledged batch is fully present (vectors and payloads) and
//! that no batch is half-applied — nor missing from, or stale in, the BM25
//! text index.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cairn_engine::{Engine, PointId, ScrollRequest, TextSearchRequest};
use cairn_tests::{vector_for, BATCH, DIM, FIRST_BATCH};
use rand::{Rng, SeedableRng};

/// Rounds and seed can be raised from the environment to hunt a rare
/// crash window (`CAIRN_CRASH_ROUNDS=500 CAIRN_CRASH_SEED=7`).
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn acknowledged_batches_survive_sigkill_and_none_is_half_applied() {
    cairn_tests::init_tracing();
    let dir = tempfile::tempdir().expect("tempdir");
    let rounds: usize = env_or("CAIRN_CRASH_ROUNDS", 24);
    let mut rng = rand::rngs::StdRng::seed_from_u64(env_or("CAIRN_CRASH_SEED", 2026));
    let mut last_acked = 0u64;
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn writer");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line
                    .strip_prefix("ack ")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    let _ = tx.send(n);
                }
            }
        });
        // Wait for the first ack of this round, then kill after a random delay.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("writer made progress");
        last_acked = last_acked.max(first);
        std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        reader.join().expect("reader thread");
        last_acked = rx.try_iter().fold(last_acked, u64::max);

        let engine = Engine::open(dir.path()).expect("reopen after SIGKILL");
        let c = engine.collection("crash").expect("collection");
        let applied = c.info().last_seq;
        assert!(
            applied >= last_acked,
            "round {round}: acked {last_acked}, recovered only {applied}"
        );
        // Batches FIRST_BATCH..=applied are in; each id must carry the
        // newest of them that wrote it — an older one would mean a lost or
        // torn batch.
        let page = c.scroll(&ScrollRequest {
            limit: usize::MAX,
            with_payload: true,
            with_vector: true,
            ..Default::default()
        });
        assert_eq!(
            page.points.len() as u64,
            (applied - FIRST_BATCH) * BATCH / 2 + BATCH,
            "round {round}: point count"
        );
        for rec in &page.points {
            let PointId::Num(id) = rec.id else {
                panic!("numeric ids")
            };
            // Batch b writes ids [25b, 25b + 50): the newest batch covering id.
            let owner = (id / (BATCH / 2)).min(applied);
            let payload = &rec.payload.as_ref().expect("payload").0;
            assert_eq!(
                payload["batch"], owner,
                "round {round}: id {id} holds a stale or torn batch"
            );
            assert_eq!(payload["k"], id - owner * BATCH / 2);
            assert_eq!(
                rec.vector.as_deref(),
                Some(&vector_for(owner, id, DIM)[..]),
                "round {round}: id {id} vector"
            );
        }
        // The text index followed: batch b's token is on the ids it still
        // owns (25 of them, all 50 for the newest batch) and nowhere else.
        for b in [
            applied,
            applied.saturating_sub(1),
            rng.random_range(FIRST_BATCH..=applied),
        ] {
            if b < FIRST_BATCH {
                continue;
            }
            let hits = c
                .search_text(&TextSearchRequest::new(format!("token{b}"), 1_000))
                .expect("bm25");
            let want = if b == applied { BATCH } else { BATCH / 2 };
            assert_eq!(
                hits.len() as u64,
                want,
                "round {round}: text index for batch {b}"
            );
            for h in hits {
                let PointId::Num(id) = h.id else {
                    panic!("numeric ids")
                };
                assert_eq!((id / (BATCH / 2)).min(applied), b, "round {round}: id {id}");
            }
        }
        // And it holds each live point exactly once: one query naming every
        // batch's token finds every document, so a point left with an old
        // document beside its new one shows up twice.
        let every_token: Vec<String> = (FIRST_BATCH..=applied)
            .map(|b| format!("token{b}"))
            .collect();
        let all = c
            .search_text(&TextSearchRequest::new(every_token.join(" "), usize::MAX))
            .expect("bm25 over every batch");
        let mut ids: Vec<PointId> = all.iter().map(|h| h.id).collect();
        ids.sort_unstable();
        let twice: Vec<PointId> = ids
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        ids.dedup();
        if !twice.is_empty() {
            // Which points, and which batches' tokens stayed behind.
            eprintln!("round {round}: ids found more than once: {twice:?}");
            for b in FIRST_BATCH..=applied {
                let n = c
                    .search_text(&TextSearchRequest::new(format!("token{b}"), 1_000))
                    .expect("bm25")
                    .len() as u64;
                let want = if b == applied { BATCH } else { BATCH / 2 };
                if n != want {
                    eprintln!("round {round}: token{b} on {n} points, want {want}");
                }
            }
        }
        assert_eq!(
            (all.len(), ids.len()),
            (page.points.len(), page.points.len()),
            "round {round}: text index documents (all, distinct) against live points"
        );
        drop(engine);
        eprintln!(
            "round {round}: acked {last_acked}, recovered {applied}, {} points",
            page.points.len()
        );
    }
}
