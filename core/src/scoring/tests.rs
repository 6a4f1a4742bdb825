//! Specification tests for the debrief scorer.

use super::*;

fn scorer() -> Scorer {
    match Scorer::embedded() {
        Ok(s) => s,
        Err(e) => panic!("the embedded scoring data must load: {e}"),
    }
}

#[test]
fn the_embedded_scoring_data_loads() {
    scorer();
}
