//! Reads one utterance: splits it into sentences and clauses, scans it once with the phrase
//! automaton, and turns phrase hits into per-sentence signals with the rules that make cues
//! generalise: negation within a clause, reported speech, conditions and joint framing, and
//! question form.

use super::lexicon::{Family, Lexicon, Owner, is_word_byte};
use aho_corasick::Anchored;
use aho_corasick::automaton::Automaton;

/// Per-sentence signal bits. A sentence is the unit a flag quotes.
pub(crate) mod sig {
    pub const ESCALATION: u32 = 1 << 0;
    pub const CONDITIONAL_JOINT: u32 = 1 << 1;
    pub const QUESTION: u32 = 1 << 2;
    pub const CITES_NUMBER: u32 = 1 << 3;
    pub const SHARED_GOAL: u32 = 1 << 4;
    pub const ASKS_OTHER: u32 = 1 << 5;
    pub const STATES_OWN: u32 = 1 << 6;
    pub const PROCESS: u32 = 1 << 7;
    pub const ACK: u32 = 1 << 8;
    pub const DEFENSIVE: u32 = 1 << 9;
    pub const DISMISSIVE: u32 = 1 << 10;
    pub const PERSONAL: u32 = 1 << 11;
    pub const CAPITULATES: u32 = 1 << 12;
    pub const HIJACK: u32 = 1 << 13;
    pub const ADDRESSES_SCORER: u32 = 1 << 14;
    /// Moves that count as a genuine attempt to engage before any escalation.
    pub const ATTEMPT: u32 = QUESTION | SHARED_GOAL | ASKS_OTHER | STATES_OWN | PROCESS;
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Sentence {
    pub start: usize,
    pub end: usize,
    pub sig: u32,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    pub sentences: Vec<Sentence>,
    /// Receptiveness feature values, in the lexicon's feature order.
    pub features: Vec<f64>,
}

impl Analysis {
    pub fn any(&self) -> u32 {
        self.sentences.iter().fold(0, |acc, s| acc | s.sig)
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    family: Family,
    start: usize,
    end: usize,
}

/// Splits `text` into trimmed sentence ranges and records clause breaks and the counts the
/// built-in receptiveness features need, in a single pass over the bytes.
struct Layout {
    sentences: Vec<(usize, usize)>,
    clause_breaks: Vec<usize>,
    words: u32,
    question_marks: u32,
    exclamations: u32,
    caps_words: u32,
}

fn layout(bytes: &[u8]) -> Layout {
    let mut out = Layout {
        sentences: Vec::new(),
        clause_breaks: Vec::new(),
        words: 0,
        question_marks: 0,
        exclamations: 0,
        caps_words: 0,
    };
    let mut sentence_start = 0;
    let mut word_len = 0u32;
    let mut word_upper = true;
    let n = bytes.len();
    let close = |start: usize, end: usize, out: &mut Layout| {
        let (s, e) = trim(bytes, start, end);
        if s < e {
            out.sentences.push((s, e));
        }
    };
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        if is_word_byte(b) {
            if word_len == 0 {
                out.words += 1;
                word_upper = true;
            }
            word_len += 1;
            if !b.is_ascii_uppercase() {
                word_upper = false;
            }
        } else {
            if word_len >= 3 && word_upper {
                out.caps_words += 1;
            }
            word_len = 0;
            match b {
                b'.' | b'!' | b'?' => {
                    if b == b'?' {
                        out.question_marks += 1;
                    } else if b == b'!' {
                        out.exclamations += 1;
                    }
                    // "2.5" and "e.g." do not end a sentence; a terminator followed by space does.
                    let next = bytes.get(i + 1).copied();
                    if next.is_none_or(|c| {
                        c.is_ascii_whitespace() || c == b'"' || c == b')' || c == b'\''
                    }) {
                        close(sentence_start, i + 1, &mut out);
                        sentence_start = i + 1;
                    }
                }
                b';' | b'\n' => {
                    close(sentence_start, i, &mut out);
                    sentence_start = i + 1;
                }
                b',' | b':' | b'(' | b')' => out.clause_breaks.push(i),
                0xE2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0x94) => {
                    out.clause_breaks.push(i)
                }
                b'-' if i > 0 && bytes[i - 1] == b' ' && bytes.get(i + 1) == Some(&b' ') => {
                    out.clause_breaks.push(i)
                }
                _ => {}
            }
        }
        i += 1;
    }
    if word_len >= 3 && word_upper {
        out.caps_words += 1;
    }
    close(sentence_start, n, &mut out);
    out
}

fn trim(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && bytes[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}

/// Reads one utterance into sentences with signals and the receptiveness features.
pub(crate) fn analyze(lexicon: &Lexicon, text: &str) -> Analysis {
    let bytes = text.as_bytes();
    let layout = layout(bytes);
    let mut counts = vec![0u32; lexicon.feature_names.len()];
    let mut hits: Vec<Hit> = Vec::new();
    // A hand-rolled overlapping walk of the DFA: one table lookup per byte, and per match only
    // the pattern's length, so the scan costs about the same however many phrases there are.
    let dfa = &lexicon.automaton;
    if let Ok(mut state) = dfa.start_state(Anchored::No) {
        for (i, &b) in bytes.iter().enumerate() {
            state = dfa.next_state(Anchored::No, state, b);
            if !dfa.is_special(state) || !dfa.is_match(state) {
                continue;
            }
            let end = i + 1;
            for k in 0..dfa.match_len(state) {
                let id = dfa.match_pattern(state, k);
                let start = end - dfa.pattern_len(id);
                let pattern = &lexicon.patterns[id.as_usize()];
                if pattern.start_boundary && start > 0 && is_word_byte(bytes[start - 1]) {
                    continue;
                }
                if pattern.end_boundary && end < bytes.len() && is_word_byte(bytes[end]) {
                    continue;
                }
                for owner in &pattern.owners {
                    match *owner {
                        Owner::Family(family) => hits.push(Hit { family, start, end }),
                        Owner::Feature(index) => counts[index] += 1,
                    }
                }
            }
        }
    }
    // The automaton reports matches by where they end; sentences are assigned by where they start.
    hits.sort_by_key(|h| h.start);

    let builtin = [
        layout.words,
        layout.question_marks,
        layout.exclamations,
        layout.caps_words,
    ];
    counts[..builtin.len()].copy_from_slice(&builtin);
    let features = counts.iter().map(|&c| f64::from(c).ln_1p()).collect();

    let mut sentences = Vec::with_capacity(layout.sentences.len());
    let mut next = 0;
    for &(start, end) in &layout.sentences {
        while next < hits.len() && hits[next].start < start {
            next += 1;
        }
        let first = next;
        while next < hits.len() && hits[next].start < end {
            next += 1;
        }
        let sig = sentence_signals(
            lexicon,
            bytes,
            start,
            end,
            &hits[first..next],
            &layout.clause_breaks,
        );
        sentences.push(Sentence { start, end, sig });
    }
    // A change of position that names new evidence is persuasion, and one that comes with a
    // test or a falsifier is a negotiated step; neither is giving in.
    let whole = sentences.iter().fold(0, |acc, s| acc | s.sig);
    let persuaded = hits.iter().any(|h| h.family == Family::ChangedByEvidence);
    if persuaded || whole & (sig::PROCESS | sig::STATES_OWN) != 0 {
        for s in &mut sentences {
            s.sig &= !sig::CAPITULATES;
        }
    }
    Analysis {
        sentences,
        features,
    }
}

/// Whether a negation earlier in the same clause cancels `hit`.
fn negated(hit: &Hit, hits: &[Hit], clause_breaks: &[usize]) -> bool {
    hits.iter()
        .filter(|n| n.family == Family::Negation && n.end <= hit.start)
        .any(|n| {
            let i = clause_breaks.partition_point(|&p| p < n.end);
            clause_breaks.get(i).is_none_or(|&p| p >= hit.start)
        })
}

fn sentence_signals(
    lexicon: &Lexicon,
    bytes: &[u8],
    start: usize,
    end: usize,
    hits: &[Hit],
    clause_breaks: &[usize],
) -> u32 {
    let mut present = 0u32;
    let mut first_escalation = usize::MAX;
    let mut first_reported = usize::MAX;
    // "If you say so" is a capitulation that happens to contain "if"; a condition outside such
    // a phrase turns "I'll stop pushing" into a stated falsifier.
    let conditioned = hits.iter().any(|c| {
        c.family == Family::Conditional
            && !hits
                .iter()
                .any(|k| k.family == Family::Capitulation && k.start <= c.start && c.end <= k.end)
    });
    for hit in hits {
        let bit = hit.family.bit();
        if lexicon.negatable & bit != 0 && negated(hit, hits, clause_breaks) {
            continue;
        }
        present |= bit;
        match hit.family {
            Family::EscalationDirect | Family::EscalationAct => {
                first_escalation = first_escalation.min(hit.start)
            }
            Family::ReportedSpeech => first_reported = first_reported.min(hit.start),
            _ => {}
        }
    }
    let has = |f: Family| present & f.bit() != 0;
    let mut out = 0u32;
    if bytes[start..end].iter().any(u8::is_ascii_digit) {
        out |= sig::CITES_NUMBER;
    }
    // A line spoken to the grader is set aside whole: it earns and costs nothing.
    if has(Family::AddressesScorer) {
        return out | sig::ADDRESSES_SCORER;
    }
    if has(Family::Hijack) {
        return out | sig::HIJACK;
    }

    // "My manager asked me to ..." reports someone else's words; it is not an appeal upwards.
    let reported = first_reported < first_escalation;
    let escalation_cue = !reported
        && (has(Family::EscalationDirect)
            || (has(Family::EscalationAct) && has(Family::EscalationTarget)));
    if escalation_cue {
        if has(Family::Conditional) && has(Family::Joint) {
            out |= sig::CONDITIONAL_JOINT;
        } else {
            out |= sig::ESCALATION;
        }
    }
    if has(Family::Defensive) {
        out |= sig::DEFENSIVE;
    }
    if has(Family::Dismissive) {
        out |= sig::DISMISSIVE;
    }
    if has(Family::Personal) {
        out |= sig::PERSONAL;
    }
    let hostile = out & (sig::DEFENSIVE | sig::DISMISSIVE | sig::PERSONAL) != 0;
    if has(Family::Capitulation) {
        if conditioned {
            out |= sig::STATES_OWN;
        } else {
            out |= sig::CAPITULATES;
        }
    }

    let asks_question = ends_with_question(bytes, start, end) && has(Family::QuestionOpener);
    if (asks_question || has(Family::Curiosity)) && !has(Family::Rhetorical) && !hostile {
        out |= sig::QUESTION;
    }
    if has(Family::AsksOtherEvidence) && !has(Family::Rhetorical) && !hostile {
        out |= sig::ASKS_OTHER | sig::QUESTION;
    }
    if has(Family::SharedGoal) && !hostile {
        out |= sig::SHARED_GOAL;
    }
    let capitulates = out & sig::CAPITULATES != 0;
    if !capitulates
        && (has(Family::OwnEvidence) || (has(Family::Conditional) && has(Family::OwnConcession)))
    {
        out |= sig::STATES_OWN;
    }
    if has(Family::ProcessStep) && has(Family::Proposal) && !capitulates {
        out |= sig::PROCESS;
    }
    if has(Family::Acknowledgement) && out & sig::DEFENSIVE == 0 {
        out |= sig::ACK;
    }
    out
}

fn ends_with_question(bytes: &[u8], start: usize, end: usize) -> bool {
    bytes[start..end]
        .iter()
        .rev()
        .find(|b| !matches!(b, b'"' | b'\'' | b')' | b' '))
        .is_some_and(|&b| b == b'?')
}
