//! Creates of one store at once (src/create.rs): exactly one succeeds, the others answer
//! `already-exists`, and every `open` returns the winner's config.

use kloset_oci_host::ErrorKind;

use super::Tally;
use crate::suite::Fixture;

const CREATORS: usize = 8;
const ROUNDS: usize = 20;

pub async fn creates_race(fx: &Fixture) {
    let tally = Tally::default();
    for round in 0..ROUNDS {
        let location = fx.location();
        let mut tasks = tokio::task::JoinSet::new();
        for creator in 0..CREATORS {
            let mut store = fx.connect(&location).await;
            tasks.spawn(async move {
                let config = format!("config of creator {creator}").into_bytes();
                let result = store.create(&config).await;
                (config, result, store)
            });
        }
        let mut winners = Vec::new();
        let mut stores = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (config, result, store) = joined.expect("a create panicked");
            match result {
                Ok(()) => winners.push(config),
                Err(e) if e.kind == ErrorKind::AlreadyExists => tally.count("already-exists"),
                Err(e) => tally.fail(format!("round {round}: create: {e}")),
            }
            stores.push(store);
        }
        tally.count("rounds");
        let [winner] = winners.as_slice() else {
            tally.fail(format!(
                "round {round}: {} creates succeeded",
                winners.len()
            ));
            continue;
        };
        tally.count("winners");
        for mut store in stores {
            match store.open().await {
                Ok(config) if config == *winner => tally.count("opens agreeing"),
                Ok(_) => tally.fail(format!("round {round}: open returned a loser's config")),
                Err(e) => tally.fail(format!("round {round}: open: {e}")),
            }
        }
    }
    tally.add("creators a round", CREATORS as u64);
    tally.finish(fx.setup.name, fx.case());
}
