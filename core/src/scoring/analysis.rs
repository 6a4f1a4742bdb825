//! Reads one move: the text as people type it is first read as a person would
//! ([`crate::normalise`]), then split into sentences and clauses; its phrases are found once
//! with the phrase index, and phrase hits become per-sentence signals through rules about kinds
//! of moves: who is addressed and who acts (a person above the candidate, a third party, the
//! speaker), what is asked of them (to decide, to inform), negation within a clause, reported
//! speech, jokes, conditions and joint framing, and question form with or without a question
//! mark.

use super::lexicon::{Family, FamilySet, Lexicon, Owner};
use super::receptiveness::{ReplyFeatures, tfidf_dot};
use crate::normalise::Normalised;
use crate::phrases::{KEY_START, Tokens, is_word_byte, joins_words, key_finish, key_step};

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
    /// Deferring to the other side ("you know this better than I do"), and backing off one's
    /// own position ("I'll drop the objection"): each is innocent alone, together in one
    /// turn they are giving in.
    pub const YIELDS: u32 = 1 << 15;
    pub const RETREATS: u32 = 1 << 16;
    /// Names an authority, and acts on "her", "him" or "them": together, across the
    /// sentences of one move, they are an appeal upwards ("my manager decided the deck. can we
    /// loop her in").
    pub const NAMES_AUTHORITY: u32 = 1 << 17;
    pub const ACTS_ON_THEM: u32 = 1 << 18;
    /// Says the position stands, or that new evidence changed it: not giving in.
    pub const HOLDS: u32 = 1 << 19;
    /// Owns a fault or gives credit; and defends only by "yes, but": after the first in one
    /// move, the second is a correction, not a rebuttal ("I should have labelled it. Yes, but
    /// the retention figure is per user").
    pub const OWNS: u32 = 1 << 20;
    pub const YES_BUT_ONLY: u32 = 1 << 21;
    /// An appeal made together with the other side ("we put it to her together"): after real
    /// attempts it is a path agreed, however early in the drill.
    pub const JOINT: u32 = 1 << 22;
    /// Moves that count as a genuine attempt to engage before any escalation: asking, saying
    /// what would change one's mind, proposing a test. Naming a shared goal alone is not one.
    pub const ATTEMPT: u32 = QUESTION | ASKS_OTHER | STATES_OWN | PROCESS;
}

/// A sentence of the move, by byte range of the text as read; [`Analysis::source`] gives the
/// range as typed, which is what a flag quotes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sentence {
    pub start: usize,
    pub end: usize,
    pub sig: u32,
}

/// What one utterance does, and the buffers it was read with: a drill reads every candidate
/// turn into the same `Analysis`, so a warm scorer allocates nothing per turn.
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    pub sentences: Vec<Sentence>,
    /// The move as read, with the way back to the text as typed.
    read: Normalised,
    /// Receptiveness feature counts, in the lexicon's feature order; only `touched` are nonzero.
    counts: Vec<u32>,
    touched: Vec<u32>,
    /// The same counts in the opening and the closing sentence.
    opening_counts: Vec<u32>,
    closing_counts: Vec<u32>,
    /// Byte ranges of the opening sentence and, when there are two or more, the closing one.
    opening: (usize, usize),
    closing: Option<(usize, usize)>,
    /// Counts of the fitted terms over the whole reply and in the opening sentence.
    terms: Counter,
    opening_terms: Counter,
    tokens: Tokens,
    hits: Vec<Hit>,
    /// A sentence's hits that no negation or quotation cancelled, kept between sentences.
    live: Vec<Hit>,
    /// Sentence ranges, and whether each holds a digit.
    ranges: Vec<(usize, usize, bool)>,
    clause_breaks: Vec<usize>,
}

impl Analysis {
    pub fn any(&self) -> u32 {
        self.sentences.iter().fold(0, |acc, s| acc | s.sig)
    }

    /// The byte range of the text as typed that a range of the text as read came from.
    pub fn source(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        self.read.source(start..end)
    }

    /// Each sentence of the move as read, with the lexicon families found in it (each with the words that
    /// matched) and its
    /// signals: what a rule saw, for whoever is working on the rules.
    pub fn explain(&self) -> Vec<(String, Vec<String>, u32)> {
        let text = self.read.as_str();
        self.sentences
            .iter()
            .map(|s| {
                let families = self
                    .hits
                    .iter()
                    .filter(|h| s.start <= h.start && h.start < s.end)
                    .map(|h| format!("{}:{}", h.family.name(), &text[h.start..h.end]))
                    .collect();
                (text[s.start..s.end].to_string(), families, s.sig)
            })
            .collect()
    }

    /// What the receptiveness model reads from this reply.
    pub fn features(&self) -> ReplyFeatures {
        let logs = |counts: &[u32]| counts.iter().map(|&c| log_count(c)).collect();
        ReplyFeatures {
            spans: [
                logs(&self.counts),
                logs(&self.opening_counts),
                logs(&self.closing_counts),
            ],
            terms: self.terms.present().collect(),
            opening_terms: self.opening_terms.present().collect(),
            opening: self.source(self.opening.0, self.opening.1),
        }
    }

    /// The receptiveness model's raw score (before the logistic) for this reply.
    pub fn receptiveness_raw(&self, lexicon: &Lexicon) -> f64 {
        let [whole, opening, closing] = &lexicon.span_weights;
        let mut raw = lexicon.intercept;
        for &i in &self.touched {
            let i = i as usize;
            raw += whole[i] * log_count(self.counts[i]);
        }
        for (counts, weights) in [
            (&self.opening_counts, opening),
            (&self.closing_counts, closing),
        ] {
            for (&c, w) in counts.iter().zip(weights) {
                if c != 0 {
                    raw += w * log_count(c);
                }
            }
        }
        raw + tfidf_dot(self.terms.present(), &lexicon.terms)
            + tfidf_dot(self.opening_terms.present(), &lexicon.opening_terms)
    }
}

/// Sparse counts by index that reset in time proportional to what was counted.
#[derive(Debug, Clone, Default)]
struct Counter {
    counts: Vec<u32>,
    touched: Vec<u32>,
}

impl Counter {
    fn reset(&mut self, len: usize) {
        for &i in &self.touched {
            self.counts[i as usize] = 0;
        }
        self.touched.clear();
        self.counts.resize(len, 0);
    }

    fn add(&mut self, i: usize) {
        if self.counts[i] == 0 {
            self.touched.push(i as u32);
        }
        self.counts[i] += 1;
    }

    fn present(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.touched
            .iter()
            .map(|&i| (i as usize, self.counts[i as usize]))
    }
}

/// The built-in feature counts (words, question marks, exclamation marks, all-caps words) of
/// the tokens starting in `range`: the whole reply, its opening or its closing sentence.
fn builtin_counts(bytes: &[u8], tokens: &Tokens, range: (usize, usize)) -> [u32; 4] {
    let mut out = [0u32; 4];
    let first = tokens
        .list
        .partition_point(|t| (t.start as usize) < range.0);
    for t in tokens.list[first..]
        .iter()
        .take_while(|t| (t.start as usize) < range.1)
    {
        let token = &bytes[t.start as usize..t.end as usize];
        match token {
            b"?" => out[1] += 1,
            b"!" => out[2] += 1,
            _ if token.first().is_some_and(|&b| is_word_byte(b)) => {
                out[0] += 1;
                if token.len() >= 3 && token.iter().all(u8::is_ascii_uppercase) {
                    out[3] += 1;
                }
            }
            _ => {}
        }
    }
    out
}

/// ln(1 + n), from a table for the small counts nearly every feature has.
fn log_count(n: u32) -> f64 {
    static TABLE: std::sync::LazyLock<[f64; 64]> =
        std::sync::LazyLock::new(|| std::array::from_fn(|i| (i as f64).ln_1p()));
    match TABLE.get(n as usize) {
        Some(&v) => v,
        None => f64::from(n).ln_1p(),
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    family: Family,
    start: usize,
    end: usize,
}

/// Byte classes for the tokeniser's inner loop: one table load instead of several compares.
const WORD: u8 = 1;
const DIGIT: u8 = 2;
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            table[b] |= WORD;
        }
        if c.is_ascii_digit() {
            table[b] |= DIGIT;
        }
        b += 1;
    }
    table
};

/// Cuts `bytes` into tokens, trimmed sentence ranges and clause breaks in one pass.
fn read(lexicon: &Lexicon, bytes: &[u8], a: &mut Analysis) {
    let index = &lexicon.phrases;
    let mut sentence_start = 0;
    let mut line_start = 0;
    let mut digit = false;
    let close = |start: usize, end: usize, digit: bool, ranges: &mut Vec<(usize, usize, bool)>| {
        let (s, e) = trim(bytes, start, end);
        if s < e {
            ranges.push((s, e, digit));
        }
    };
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        if CLASS[usize::from(b)] & WORD != 0 {
            let start = i;
            let mut key = KEY_START;
            let mut digits = 0;
            while i < n {
                let c = bytes[i];
                let class = CLASS[usize::from(c)];
                if class & WORD == 0 {
                    break;
                }
                digits |= class;
                key = key_step(key, i - start, c);
                i += 1;
            }
            digit |= digits & DIGIT != 0;
            index.push_word(&mut a.tokens, bytes, start, i, key_finish(key, i - start));
            continue;
        }
        match b {
            b'.' | b'!' | b'?' => {
                index.push_mark(&mut a.tokens, bytes, i, i + 1);
                // "2.5" and "e.g." do not end a sentence; a terminator followed by space does, and
                // so does one followed by a closing quote, unless the sentence runs on after it
                // ("you always ask 'compared to what?', and it's the right question").
                let next = bytes.get(i + 1).copied();
                let runs_on = matches!(bytes.get(i + 2), Some(b',' | b';'));
                // "(incl. the flat case)": the full stop of an abbreviation ends nothing.
                if b == b'.' && abbreviation(bytes, i) {
                    i += 1;
                    continue;
                }
                if next.is_none_or(|c| {
                    c.is_ascii_whitespace() || (matches!(c, b'"' | b')' | b'\'') && !runs_on)
                }) {
                    close(sentence_start, i + 1, digit, &mut a.ranges);
                    sentence_start = i + 1;
                    digit = false;
                }
                i += 1;
                continue;
            }
            b';' => {
                close(sentence_start, i, digit, &mut a.ranges);
                sentence_start = i + 1;
                digit = false;
            }
            // A line break separates words as a space does, so a phrase can run across it; it
            // ends a sentence unless it only wraps one (a long line running on in lower case).
            b'\n' => {
                if !wraps(bytes, line_start, i) {
                    close(sentence_start, i, digit, &mut a.ranges);
                    sentence_start = i + 1;
                    digit = false;
                }
                line_start = i + 1;
                i += 1;
                continue;
            }
            b',' | b':' | b'(' | b')' => a.clause_breaks.push(i),
            0xE2 if bytes.get(i + 1) == Some(&0x80) && bytes.get(i + 2) == Some(&0x94) => {
                a.clause_breaks.push(i)
            }
            b'-' if i > 0 && bytes[i - 1] == b' ' && bytes.get(i + 1) == Some(&b' ') => {
                a.clause_breaks.push(i)
            }
            _ => {}
        }
        // "steering-group" reads as "steering group": a hyphen inside a compound joins words
        // as a space does, here and in the phrases (see `phrases::joins_words`).
        if b.is_ascii_whitespace() || joins_words(bytes, i) {
            i += 1;
            continue;
        }
        let len = match b {
            0..0x80 => 1,
            0xF0.. => 4,
            0xE0.. => 3,
            _ => 2,
        };
        let end = (i + len).min(n);
        index.push_mark(&mut a.tokens, bytes, i, end);
        i = end;
    }
    close(sentence_start, n, digit, &mut a.ranges);
}

/// Words whose full stop marks an abbreviation, not the end of a sentence.
const ABBREVIATIONS: [&[u8]; 14] = [
    b"incl", b"e.g", b"i.e", b"eg", b"ie", b"etc", b"vs", b"approx", b"esp", b"est", b"avg", b"cf",
    b"resp", b"min",
];

/// Whether the full stop at `at` ends one of [`ABBREVIATIONS`] (any case) followed by more of
/// the sentence in lower case or a digit.
fn abbreviation(bytes: &[u8], at: usize) -> bool {
    let start = bytes[..at]
        .iter()
        .rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'.'))
        .map_or(0, |p| p + 1);
    let word = &bytes[start..at];
    let continues = bytes[at + 1..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    continues && ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// Whether the line break at `at` only wraps the line that started at `line_start`: a long line
/// that stops mid-sentence, continued in lower case. Chat lines are short and each one a
/// thought; a blank line always ends a sentence.
fn wraps(bytes: &[u8], line_start: usize, at: usize) -> bool {
    const WRAPPED_LINE: usize = 60;
    let last = bytes[line_start..at]
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace());
    at - line_start >= WRAPPED_LINE
        && last.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b',')
        && bytes.get(at + 1).is_some_and(u8::is_ascii_lowercase)
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

/// Reads one move into sentences with signals and the receptiveness features. `scenario` is
/// the drill's scenario, by position in the scorer's list, so its people are recognised.
pub(crate) fn analyze(lexicon: &Lexicon, text: &str, scenario: Option<u32>) -> Analysis {
    let mut analysis = Analysis::default();
    analyze_into(lexicon, text, scenario, &mut analysis);
    analysis
}

/// [`analyze`] into buffers kept from an earlier move.
pub(crate) fn analyze_into(lexicon: &Lexicon, text: &str, scenario: Option<u32>, a: &mut Analysis) {
    let mut read_buf = std::mem::take(&mut a.read);
    crate::normalise::shared().normalise_into(text, &mut read_buf);
    analyze_read(lexicon, read_buf.as_str(), scenario, a);
    a.read = read_buf;
}

fn analyze_read(lexicon: &Lexicon, text: &str, scenario: Option<u32>, a: &mut Analysis) {
    let bytes = text.as_bytes();
    a.sentences.clear();
    a.tokens.clear();
    a.hits.clear();
    a.ranges.clear();
    a.clause_breaks.clear();
    for &i in &a.touched {
        a.counts[i as usize] = 0;
    }
    a.touched.clear();
    let features = lexicon.feature_names.len();
    a.counts.resize(features, 0);
    for counts in [&mut a.opening_counts, &mut a.closing_counts] {
        counts.clear();
        counts.resize(features, 0);
    }
    a.terms.reset(lexicon.terms.len());
    a.opening_terms.reset(lexicon.opening_terms.len());

    read(lexicon, bytes, a);
    let builtin = builtin_counts(bytes, &a.tokens, (0, bytes.len()));
    for (i, count) in builtin.into_iter().enumerate() {
        a.counts[i] = count;
        a.touched.push(i as u32);
    }
    a.opening = a.ranges.first().map_or((0, 0), |&(s, e, _)| (s, e));
    a.closing = match a.ranges.as_slice() {
        [_, .., last] => Some((last.0, last.1)),
        _ => None,
    };
    for (counts, range) in [
        (&mut a.opening_counts, Some(a.opening)),
        (&mut a.closing_counts, a.closing),
    ] {
        if let Some(range) = range {
            counts[..4].copy_from_slice(&builtin_counts(bytes, &a.tokens, range));
        }
    }
    let (opening, closing) = (a.opening, a.closing.unwrap_or((usize::MAX, usize::MAX)));
    let within = |(s, e): (usize, usize), start: usize| s <= start && start < e;
    let (hits, counts, touched) = (&mut a.hits, &mut a.counts, &mut a.touched);
    let (opening_counts, closing_counts) = (&mut a.opening_counts, &mut a.closing_counts);
    let (terms, opening_terms) = (&mut a.terms, &mut a.opening_terms);
    lexicon
        .phrases
        .find(&a.tokens, |owner, start, end| match owner {
            Owner::Family(family) => hits.push(Hit { family, start, end }),
            Owner::Feature(index) => {
                if counts[index] == 0 {
                    touched.push(index as u32);
                }
                counts[index] += 1;
                if within(opening, start) {
                    opening_counts[index] += 1;
                }
                if within(closing, start) {
                    closing_counts[index] += 1;
                }
            }
            Owner::Term(index) => terms.add(index),
            Owner::OpeningTerm(index) => {
                if within(opening, start) && end <= opening.1 {
                    opening_terms.add(index)
                }
            }
            // Someone this drill's scenario names as above the candidate is an authority.
            Owner::Person(index) => {
                if lexicon.people.get(index as usize).copied() == scenario.map(|s| (s, true)) {
                    hits.push(Hit {
                        family: Family::EscalationTarget,
                        start,
                        end,
                    })
                }
            }
        });

    // Hits come in order of where they start, which is how sentences claim them.
    let mut next = 0;
    for &(start, end, digit) in &a.ranges {
        while next < a.hits.len() && a.hits[next].start < start {
            next += 1;
        }
        let first = next;
        while next < a.hits.len() && a.hits[next].start < end {
            next += 1;
        }
        let mut sig = sentence_signals(
            lexicon,
            &Span {
                bytes,
                start,
                end,
                tokens: &a.tokens,
                digit,
            },
            &a.hits[first..next],
            &a.clause_breaks,
            &mut a.live,
        );
        if digit {
            sig |= sig::CITES_NUMBER;
        }
        a.sentences.push(Sentence { start, end, sig });
    }
    // "I'm taking this to the VP. Kidding." A short sentence that only marks a joke takes the
    // appeal before it back.
    for i in 1..a.sentences.len() {
        let (start, end) = (a.sentences[i].start, a.sentences[i].end);
        let words = word_count(bytes, &a.tokens, start, end);
        let joke = a
            .hits
            .iter()
            .any(|h| h.family == Family::Joke && start <= h.start && h.end <= end);
        if joke && words <= 6 {
            a.sentences[i - 1].sig &= !(sig::ESCALATION | sig::CONDITIONAL_JOINT);
        }
    }
    // Owning a fault, then "yes, but" about the part that holds, is a correction.
    let mut owned = false;
    for s in &mut a.sentences {
        if owned && s.sig & sig::YES_BUT_ONLY != 0 {
            s.sig &= !sig::DEFENSIVE;
        }
        owned |= s.sig & sig::OWNS != 0;
    }
    // "My manager decided what went in the deck. Can we loop her in": an authority named in the
    // move, then acted on by pronoun.
    let mut named = false;
    for s in &mut a.sentences {
        named |= s.sig & sig::NAMES_AUTHORITY != 0;
        if named && s.sig & sig::ACTS_ON_THEM != 0 {
            // Handing it upstairs is then the point of the sentence, not a step taken together.
            s.sig |= sig::ESCALATION;
            s.sig &= !(sig::PROCESS | sig::QUESTION);
        }
    }
    // Deferring in one sentence and backing off in another is one capitulation, quoted where
    // the position is given up.
    let whole = a.any();
    if whole & sig::YIELDS != 0 && whole & sig::RETREATS != 0 {
        if let Some(s) = a.sentences.iter_mut().find(|s| s.sig & sig::RETREATS != 0) {
            s.sig |= sig::CAPITULATES;
        }
    }
    // A change of position that names new evidence is persuasion, and one that comes with a
    // test or a falsifier is a negotiated step; neither is giving in.
    // So is saying outright that one's position stands ("I'm not dropping the test").
    let persuaded = a
        .hits
        .iter()
        .any(|h| matches!(h.family, Family::ChangedByEvidence | Family::Holds));
    // Going along with their plan ("i'll file the capacity request and we ship on the 14th")
    // is no step of one's own.
    let own_step = a
        .sentences
        .iter()
        .any(|s| s.sig & sig::PROCESS != 0 && s.sig & sig::RETREATS == 0);
    if persuaded || own_step || whole & sig::STATES_OWN != 0 {
        for s in &mut a.sentences {
            s.sig &= !sig::CAPITULATES;
        }
    }
}

/// The number of word tokens starting in `bytes[start..end]`.
fn word_count(bytes: &[u8], tokens: &Tokens, start: usize, end: usize) -> usize {
    let first = tokens.list.partition_point(|t| (t.start as usize) < start);
    tokens.list[first..]
        .iter()
        .take_while(|t| (t.start as usize) < end)
        .filter(|t| is_word_byte(bytes[t.start as usize]))
        .count()
}

/// One sentence of the move as read.
struct Span<'a> {
    bytes: &'a [u8],
    start: usize,
    end: usize,
    tokens: &'a Tokens,
    digit: bool,
}

impl Span<'_> {
    /// "The keynote is the keynote", "a deadline is a deadline": the same words on both sides
    /// of "is", which closes a point instead of answering it.
    fn tautology(&self) -> bool {
        let list = &self.tokens.list;
        let first = list.partition_point(|t| (t.start as usize) < self.start);
        let last = list.partition_point(|t| (t.start as usize) < self.end);
        let words = &list[first..last];
        let text = |t: &crate::phrases::Token| &self.bytes[t.start as usize..t.end as usize];
        (1..words.len()).any(|k| {
            text(&words[k]).eq_ignore_ascii_case(b"is")
                && (1..=3).any(|m| {
                    k >= m
                        && k + m < words.len()
                        && (text(&words[k - 1]).len() >= 3
                            || text(&words[k - m]).first().is_some_and(u8::is_ascii_digit))
                        && (0..m).all(|i| {
                            text(&words[k - m + i]).eq_ignore_ascii_case(text(&words[k + 1 + i]))
                        })
                })
        })
    }

    /// Whether a number follows byte `at`, past spaces and the marks typed before one
    /// ("~150", "$2.1M", "≈ 12k").
    fn number_after(&self, at: usize) -> bool {
        let rest = &self.bytes[at..self.end];
        let skip = rest
            .iter()
            .position(|b| !(b.is_ascii_whitespace() || matches!(b, b'~' | b'$' | b'=')))
            .unwrap_or(rest.len());
        rest.get(skip).is_some_and(u8::is_ascii_digit)
    }

    /// How many word tokens come before byte `at` in the sentence, not counting a list
    /// number ("3)", "2.") that opens it.
    fn words_before(&self, at: usize) -> usize {
        let list = &self.tokens.list;
        let first = list.partition_point(|t| (t.start as usize) < self.start);
        let tokens = &list[first..];
        let numbered = match tokens {
            [n, mark, ..] => {
                self.bytes[n.start as usize..n.end as usize]
                    .iter()
                    .all(u8::is_ascii_digit)
                    && matches!(self.bytes[mark.start as usize], b')' | b'.' | b':')
            }
            _ => false,
        };
        let words = tokens
            .iter()
            .take_while(|t| (t.start as usize) < at)
            .filter(|t| is_word_byte(self.bytes[t.start as usize]))
            .count();
        words.saturating_sub(usize::from(numbered && words > 0))
    }

    /// How many word tokens come between the last colon before byte `at` and `at`: a plan
    /// typed after its label ("study that would settle it: randomize by team").
    fn words_after_colon(&self, at: usize) -> usize {
        match self.bytes[self.start..at].iter().rposition(|&b| b == b':') {
            Some(p) => word_count(self.bytes, self.tokens, self.start + p, at),
            None => self.words_before(at),
        }
    }

    /// How many word tokens come before byte `at` in its clause: since the last comma, colon,
    /// dash or bracket before it in the sentence, or the sentence's start.
    fn clause_words_before(&self, at: usize, clause_breaks: &[usize]) -> usize {
        let i = clause_breaks.partition_point(|&p| p < at);
        let from = match i.checked_sub(1).map(|k| clause_breaks[k]) {
            Some(p) if p >= self.start => p,
            _ => return self.words_before(at),
        };
        word_count(self.bytes, self.tokens, from, at)
    }

    fn ends_with(&self, marks: &[u8]) -> bool {
        self.bytes[self.start..self.end]
            .iter()
            .rev()
            .find(|b| !matches!(b, b'"' | b'\'' | b')' | b' '))
            .is_some_and(|b| marks.contains(b))
    }
}

/// Whether a negation earlier in the same clause cancels `hit`. The "won't" of "if you won't
/// budge" belongs to its ultimatum and the "don't" of "why don't we" to its proposal, not to
/// what follows them. Unpunctuated, a negation ends where a new subject starts ("i dont agree
/// ill raise it"), unless its verb takes a clause ("i dont think ill raise it").
fn negated(bytes: &[u8], hit: &Hit, hits: &[Hit], clause_breaks: &[usize]) -> bool {
    let masked = |n: &Hit| {
        hits.iter().any(|u| {
            matches!(
                u.family,
                Family::Ultimatum | Family::Proposal | Family::NegationIdiom
            ) && u.start <= n.start
                && n.end <= u.end
        })
    };
    // "It's not something I'd hand to my manager": the negation heads a relative clause and
    // carries into it.
    let heads_clause = |n: &Hit| {
        hits.iter()
            .any(|h| h.family == Family::NegatedHead && h.start <= n.start && n.end <= h.end)
    };
    // "i dont think ill raise it": the attitude verb takes the clause that follows it at once;
    // "if u dont want it i can raise it": an object comes between, and the clause is new.
    let takes_clause = |v: &Hit, p: &Hit| {
        let between = bytes[v.end..p.start].trim_ascii();
        between.is_empty() || between.eq_ignore_ascii_case(b"that")
    };
    // "Nor do I think you're ...": the new subject's own verb takes the clause, and the
    // negation before it reaches in.
    let thinks = |p: &Hit| {
        hits.iter().any(|v| {
            v.family == Family::Attitude
                && v.start >= p.end
                && v.start - p.end <= 2
                && v.end <= hit.start
        })
    };
    let new_subject = |n: &Hit| {
        !heads_clause(n)
            && hits.iter().any(|p| {
                p.family == Family::FirstPerson
                    && n.end < p.start
                    && p.start <= hit.start
                    && !thinks(p)
                    && !hits.iter().any(|v| {
                        v.family == Family::Attitude
                            && n.end <= v.start
                            && v.end <= p.start
                            && takes_clause(v, p)
                    })
            })
    };
    hits.iter()
        .filter(|n| n.family == Family::Negation && n.end <= hit.start && !masked(n))
        .any(|n| same_clause(n.end, hit.start, clause_breaks, hits) && !new_subject(n))
}

/// Whether no clause break lies between byte `from` and byte `to`: no comma, colon, dash or
/// bracket, and no word that starts a new clause ("but", "though").
fn same_clause(from: usize, to: usize, clause_breaks: &[usize], hits: &[Hit]) -> bool {
    let i = clause_breaks.partition_point(|&p| p < from);
    clause_breaks.get(i).is_none_or(|&p| p >= to)
        && !hits
            .iter()
            .any(|h| h.family == Family::ClauseBreak && from <= h.start && h.start < to)
}

/// Byte ranges of quoted words in `bytes[start..end]`: from an opening quote mark after a space
/// (or at the start) to the next closing one not followed by a letter. An apostrophe inside a
/// word ("don't") opens nothing.
fn quoted_spans(bytes: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
    const OPENERS: [&[u8]; 4] = [b"\"", b"'", "\u{201c}".as_bytes(), "\u{2018}".as_bytes()];
    const CLOSERS: [&[u8]; 4] = [b"\"", b"'", "\u{201d}".as_bytes(), "\u{2019}".as_bytes()];
    let opener_at = |i: usize| {
        let before_ok = i == start || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'(';
        let quote = OPENERS.iter().find(|q| bytes[i..end].starts_with(q));
        quote.filter(|_| before_ok).map(|q| q.len())
    };
    let closer_at = |i: usize| {
        CLOSERS
            .iter()
            .find(|q| bytes[i..end].starts_with(q))
            .filter(|q| {
                bytes
                    .get(i + q.len())
                    .is_none_or(|b| !b.is_ascii_alphanumeric())
            })
            .map(|q| q.len())
    };
    let mut spans = Vec::new();
    if !bytes[start..end]
        .iter()
        .any(|&b| b == b'"' || b == b'\'' || b == 0xE2)
    {
        return spans;
    }
    let mut i = start;
    while i < end {
        match opener_at(i) {
            Some(len) => {
                let inner = i + len;
                match (inner..end).find(|&j| closer_at(j).is_some()) {
                    Some(close) => {
                        spans.push((i, close));
                        i = close + 1;
                    }
                    None => break,
                }
            }
            None => i += 1,
        }
    }
    spans
}

/// Whether `hit` (a harsh word) is said of one's own work: a mention of it earlier in the same
/// clause, with no "you" or "your" in between ("my p50 chart is meaningless", but not "my view
/// is that your benchmark is meaningless").
fn about_own_work(hit: &Hit, hits: &[Hit], clause_breaks: &[usize]) -> bool {
    hits.iter()
        .filter(|o| o.family == Family::OwnWork && o.end <= hit.start)
        .any(|o| {
            let addressed = hits.iter().any(|y| {
                y.family == Family::SecondPerson && y.start >= o.end && y.end <= hit.start
            });
            same_clause(o.end, hit.start, clause_breaks, hits) && !addressed
        })
}

/// Whether a condition earlier in `hit`'s clause makes it a hypothetical.
fn hypothetical(hit: &Hit, hits: &[Hit], clause_breaks: &[usize]) -> bool {
    hits.iter()
        .filter(|c| c.family == Family::Conditional)
        .filter(|c| c.start <= hit.start)
        .any(|c| c.start == hit.start || same_clause(c.end, hit.start, clause_breaks, hits))
}

/// Whether some hit of `first` is followed, within `gap` bytes and the same clause, by a hit of
/// `then`: the shape of "we both (really) want", "i'm (totally) fine with", "classic phd".
fn followed(hits: &[Hit], first: Family, then: Family, gap: usize, breaks: &[usize]) -> bool {
    hits.iter().filter(|f| f.family == first).any(|f| {
        hits.iter().any(|t| {
            t.family == then
                && f.end <= t.start
                && t.start - f.end <= gap
                && same_clause(f.end, t.start, breaks, hits)
        })
    })
}

/// Escalation as a structure: the speaker hands the decision to someone above or outside the
/// conversation. Any one of these shapes, once negation, quotation, reported speech, jokes,
/// requests for information and talk about what others might do are ruled out:
/// - an act that needs no target ("escalate", "go over your head", "above my pay grade");
/// - an act of involving someone (take it to, loop in, cc, ping, file with, put on the agenda
///   of) with an authority: a role above (manager, VP, council, HR, the leads), or someone the
///   scenario names as above the candidate; asking one ("I'll ask Leila to ...");
/// - an act of involving someone that leaves them the decision ("loop in finance, they own the
///   budget decisions", "ask him to overrule it");
/// - an authority, or a third party addressed by mention, asked or left to decide ("let the
///   director make the call", "@dana can you settle this", "it's up to the VP").
fn escalation(
    bytes: &[u8],
    present: &dyn Fn(Family) -> bool,
    all: &[Hit],
    breaks: &[usize],
) -> bool {
    let act_families = [
        Family::EscalationDirect,
        Family::EscalationAct,
        Family::AskAct,
        Family::Decides,
    ];
    if !act_families.iter().any(|&f| present(f)) && !present(Family::EscalationTarget) {
        return false;
    }
    // "... rather than take it to product leadership" says what the speaker is not doing.
    let declined = |a: &Hit| {
        act_families.contains(&a.family)
            && all.iter().any(|r| {
                r.family == Family::RatherThan
                    && r.start <= a.start
                    && same_clause(r.end.min(a.start), a.start, breaks, all)
            })
    };
    let kept: Vec<Hit>;
    let hits = if all.iter().any(|r| r.family == Family::RatherThan) {
        kept = all.iter().filter(|h| !declined(h)).copied().collect();
        kept.as_slice()
    } else {
        all
    };
    let has = |f: Family| present(f) && hits.iter().any(|h| h.family == f);
    let of = |f: Family| hits.iter().filter(move |h| h.family == f);
    // "I'll have to let your VP know myself": telling the authority, to have them act.
    // "I'll let Marcus know it's off, and we wait" reports what the two of them settled.
    let tells = !has(Family::Retreat)
        && !has(Family::Joint)
        && !has(Family::Deference)
        && of(Family::EscalationTarget).any(|t| {
            let before = &bytes[t.start.saturating_sub(14)..t.start];
            let after = bytes[t.end..].trim_ascii_start();
            before
                .split(|b| !b.is_ascii_alphabetic())
                .any(|w| w.eq_ignore_ascii_case(b"let"))
                && after.len() >= 4
                && after[..4].eq_ignore_ascii_case(b"know")
        });
    let Some(act) = hits
        .iter()
        .filter(|h| act_families.contains(&h.family))
        .min_by_key(|h| h.start)
    else {
        return tells
            && !has(Family::Joke)
            && !has(Family::ReportedSpeech)
            && !has(Family::Retreat);
    };
    // "My manager asked me to ..." reports someone else's words.
    let reported = of(Family::ReportedSpeech)
        .any(|r| r.start <= act.start && same_clause(r.end, act.start, breaks, hits));
    if reported || has(Family::Joke) {
        return false;
    }
    // "In most orgs someone would escalate to a director": others, not the speaker.
    let about_others = of(Family::OthersSubject).any(|o| {
        o.start <= act.start
            && !of(Family::FirstPerson).any(|p| o.end <= p.start && p.start <= act.start)
    });
    if about_others {
        return false;
    }
    // "My lead asked me to walk you through it, so I'm pinging you": the authority is who
    // asked, not whom the speaker goes to.
    let reporter = |t: &Hit| {
        of(Family::ReportedSpeech).any(|r| {
            r.start >= t.end && r.start - t.end <= 12 && same_clause(t.end, r.start, breaks, hits)
        })
    };
    let authority = of(Family::EscalationTarget).any(|t| !reporter(t));
    // "Let's ask the engineer who wrote it how it was configured" asks for facts, not a ruling.
    let informs = has(Family::InfoRequest) && !has(Family::Decides);
    // "I'll ask Leila to ..." asks the authority; "the committee ought to ask" is theirs.
    let asks_authority =
        of(Family::AskAct).any(|a| of(Family::EscalationTarget).any(|t| t.start >= a.end));
    // The one who decides comes first ("let the VP decide", "@dana can you settle it") or
    // right after ("up to the VP"); "pick whatever looks good at the VP review" hands nothing.
    // A team outside the conversation counts when the decision is said to sit with it ("that
    // sits with the product team").
    // "Leila asked me to sync with you, so let's work it out": the authority only asked, and
    // "we" decide.
    let ours = |d: &Hit| {
        of(Family::FirstPerson)
            .chain(of(Family::Proposal))
            .any(|p| {
                p.end <= d.start
                    && d.start - p.end <= 12
                    && same_clause(p.end, d.start, breaks, hits)
            })
    };
    // "If the VP hears two versions, he'll pick one": what an authority would do, supposed.
    let supposed =
        |t: &Hit| of(Family::Conditional).any(|c| c.end <= t.start && t.start - c.end <= 6);
    // "What is the VP going to judge this launch on?" asks about them.
    let asked_about = |t: &Hit| {
        of(Family::QuestionOpener).any(|q| {
            q.end <= t.start
                && same_clause(q.end, t.start, breaks, hits)
                && [&b"what"[..], b"which", b"how", b"when", b"why", b"where"]
                    .iter()
                    .any(|w| bytes[q.start..q.end].eq_ignore_ascii_case(w))
        })
    };
    let decider_decides = of(Family::Decides).filter(|d| !ours(d)).any(|d| {
        of(Family::EscalationTarget)
            .filter(|t| !reporter(t) && !supposed(t) && !asked_about(t))
            .chain(of(Family::Mention))
            .any(|t| {
                // "having assured your VP, you may find it harder to weigh": "you" weigh.
                (t.start < d.start
                    && (t.family == Family::Mention
                        || !of(Family::SecondPerson).any(|y| y.start >= t.end && y.end <= d.start)))
                    || (t.start >= d.end && t.start - d.end <= 2)
            })
            || of(Family::ThirdParty).any(|t| t.start >= d.end && t.start - d.end <= 2)
    });
    // "I'd defer to your judgement" leaves it with the person in the conversation.
    let involves_to_decide = of(Family::EscalationAct)
        .chain(of(Family::AskAct))
        .any(|a| {
            of(Family::Decides).any(|d| {
                d.start >= a.end
                    && !of(Family::SecondPerson).any(|y| y.start >= a.end && y.end <= d.start)
            })
        });
    // "Escalate to Pro only for long meetings" routes between models; nobody is appealed to.
    // "Let finance pick the model tier" still hands someone the decision.
    let routed = has(Family::Routing);
    // "My manager flagged it during the review": the authority is the one who acted; "the VP
    // needs to see this" is still the speaker showing it.
    let done = |a: &Hit| {
        has(Family::PastReport)
            || bytes[a.start..a.end]
                .split(u8::is_ascii_whitespace)
                .next()
                .is_some_and(|w| w.ends_with(b"ed"))
    };
    let own_act = of(Family::EscalationAct).any(|a| {
        !done(a)
            || !of(Family::EscalationTarget).any(|t| {
                t.end <= a.start
                    && same_clause(t.end, a.start, breaks, hits)
                    && !of(Family::FirstPerson).any(|p| t.end <= p.start && p.start < a.start)
            })
    });
    // "cc @dana @lee fyi", "looping in @priya-vp", "adding @marcus to this thread": someone
    // addressed by mention brought into the disagreement.
    let brings_mentioned = !informs
        && of(Family::EscalationAct).any(|a| {
            of(Family::Mention).any(|m| {
                let (from, to) = if m.start >= a.end {
                    (a.end, m.start)
                } else {
                    (m.end, a.start)
                };
                to >= from && to - from <= 24 && same_clause(from, to, breaks, hits)
            })
        });
    (has(Family::EscalationDirect) && !routed)
        || (own_act && authority && !routed)
        || brings_mentioned
        || tells
        || (asks_authority && !informs)
        || involves_to_decide
        || decider_decides
}

/// What a result does, said in a condition ("if both held or improved", "if it clears
/// that", "if multilingual comes out ahead"): the condition names evidence.
const RESULT_WORDS: [&[u8]; 41] = [
    b"fewer",
    b"hold",
    b"holds",
    b"held",
    b"move",
    b"moves",
    b"moved",
    b"improve",
    b"improves",
    b"improved",
    b"drop",
    b"drops",
    b"dropped",
    b"clear",
    b"clears",
    b"cleared",
    b"win",
    b"wins",
    b"beat",
    b"beats",
    b"show",
    b"shows",
    b"showed",
    b"pass",
    b"passes",
    b"passed",
    b"fail",
    b"fails",
    b"failed",
    b"regress",
    b"regresses",
    b"land",
    b"lands",
    b"stay",
    b"stays",
    b"ahead",
    b"behind",
    b"parity",
    b"better",
    b"worse",
    b"flat",
];

fn sentence_signals(
    lexicon: &Lexicon,
    span: &Span,
    hits: &[Hit],
    clause_breaks: &[usize],
    scratch: &mut Vec<Hit>,
) -> u32 {
    let (bytes, start, end) = (span.bytes, span.start, span.end);
    let mut present = FamilySet::default();
    let mut denied = FamilySet::default();
    // Words in quotation marks are someone else's ("I could say 'fine, ship it'"), not moves.
    let quoted = quoted_spans(bytes, start, end);
    let own_hits: Vec<Hit>;
    let hits = if quoted.is_empty() {
        hits
    } else {
        own_hits = hits
            .iter()
            .filter(|h| !quoted.iter().any(|&(s, e)| s <= h.start && h.end <= e))
            .copied()
            .collect();
        own_hits.as_slice()
    };
    // "If you say so" is a capitulation that happens to contain "if"; a condition outside such
    // a phrase turns "I'll stop pushing" into a stated falsifier.
    // "If your VP is already expecting it, I'll take the regression" conditions on the
    // pressure from above, not on anything that would change one's mind.
    // "Should mt-deep24 hold p95 under 800 ms, I will withdraw my objection": a condition
    // by inversion, the sentence opening on "should" and not asking.
    // "Were fewer than a fifth ever opened, I'd abandon it" and "and were the tag alone to
    // leave it behind, I would fine-tune" invert the same way.
    let first_word_end = {
        let mut at = start;
        let mut found = None;
        for _ in 0..2 {
            let text = &bytes[at..end];
            let skip = text
                .iter()
                .position(u8::is_ascii_alphabetic)
                .unwrap_or(text.len());
            let len = text[skip..]
                .iter()
                .position(|b| !b.is_ascii_alphabetic())
                .unwrap_or(text.len() - skip);
            let word = &text[skip..skip + len];
            if [&b"should"[..], b"were"]
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w))
            {
                found = Some(at + skip + len);
                break;
            }
            if !(word.eq_ignore_ascii_case(b"and") || word.eq_ignore_ascii_case(b"but")) {
                break;
            }
            at += skip + len;
        }
        found
    };
    let inverted = first_word_end.filter(|_| !span.ends_with(b"?"));
    let conditioned = inverted.is_some()
        || hits.iter().any(|c| {
            c.family == Family::Conditional
                && !hits.iter().any(|k| {
                    matches!(k.family, Family::Capitulation | Family::IdleCondition)
                        && k.start <= c.start
                        && c.end <= k.end
                })
                && !hits.iter().any(|t| {
                    t.family == Family::EscalationTarget
                        && t.start >= c.end
                        && t.start - c.end <= 12
                })
        });
    let live = &mut *scratch;
    live.clear();
    for hit in hits {
        if lexicon.negatable.contains(hit.family) && negated(bytes, hit, hits, clause_breaks) {
            denied.insert(hit.family);
            continue;
        }
        // "My p50 number is meaningless" and "my first pick was lazy" judge one's own work,
        // not theirs; "if nobody reads them" judges a hypothetical.
        let harsh = matches!(hit.family, Family::Dismissive | Family::Personal);
        // "... but that's a joke" marks one's own words, it belittles nothing.
        let in_joke = || {
            hits.iter()
                .any(|j| j.family == Family::Joke && j.start <= hit.start && hit.end <= j.end)
        };
        // "If acceptance lands under 13%, I'd call the gain not meaningful" judges the
        // speaker's own claim, should the result come in; "it's not like I cherry-picked
        // them" denies a fault of one's own (defence, not a brush-off).
        let judges_own = || {
            hit.family == Family::Dismissive
                && hits
                    .iter()
                    .any(|c| c.family == Family::Conditional && c.end <= hit.start)
                && hits.iter().any(|i| {
                    i.family == Family::Commit
                        && matches!(bytes[i.start], b'i' | b'I')
                        && i.end <= hit.start
                })
        };
        let own_fault = || {
            hit.family == Family::Dismissive
                && hits.iter().any(|f| {
                    f.family == Family::SelfFault && f.start <= hit.start && hit.end <= f.end
                })
        };
        // "If send rate is flat, 8.1 ships in July, full stop" stresses the speaker's own
        // rule or promise; it closes nobody's point.
        let stresses_own = || {
            hit.family == Family::Dismissive
                && [&b"full stop"[..], b"end of story", b"period"]
                    .iter()
                    .any(|w| bytes[hit.start..hit.end].eq_ignore_ascii_case(w))
                && (conditioned
                    || hits
                        .iter()
                        .any(|h| matches!(h.family, Family::OwnConcession | Family::Comparator)))
        };
        if harsh
            && (in_joke()
                || about_own_work(hit, hits, clause_breaks)
                || stresses_own()
                || judges_own()
                || own_fault()
                || (hit.family == Family::Dismissive && hypothetical(hit, hits, clause_breaks)))
        {
            continue;
        }
        present.insert(hit.family);
        live.push(*hit);
    }
    let has = |f: Family| present.contains(f);
    // Whether a hit's words are exactly one of `words`.
    let said = |h: &Hit, words: &[&str]| {
        let text = &bytes[h.start..h.end];
        words
            .iter()
            .any(|w| text.eq_ignore_ascii_case(w.as_bytes()))
    };
    let mut out = 0u32;
    // A line spoken to the grader is set aside whole: it earns and costs nothing.
    if has(Family::AddressesScorer) {
        return out | sig::ADDRESSES_SCORER;
    }
    if has(Family::Hijack) {
        return out | sig::HIJACK;
    }

    // "Product can sort out the pricing once it launches": a team outside the conversation,
    // as the subject of its clause, left to settle it.
    let left_to_others = !has(Family::Joke)
        && !has(Family::OthersSubject)
        && !conditioned
        && live.iter().any(|t| {
            t.family == Family::ThirdParty
                && span.clause_words_before(t.start, clause_breaks) == 0
                && live.iter().any(|d| {
                    d.family == Family::Decides
                        && d.start >= t.end
                        && d.start - t.end <= 12
                        && same_clause(t.end, d.start, clause_breaks, live)
                })
        });
    if left_to_others || escalation(bytes, &has, live, clause_breaks) {
        if has(Family::Conditional) && has(Family::Joint) && !has(Family::Ultimatum) {
            out |= sig::CONDITIONAL_JOINT;
        } else {
            out |= sig::ESCALATION;
            // Going together, not only carrying both positions up oneself.
            let together = live.iter().any(|j| {
                j.family == Family::Joint && {
                    let words = &bytes[j.start..j.end];
                    [&b"together"[..], b"joint", b"both of us", b"two of us"]
                        .iter()
                        .any(|w| words.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w)))
                }
            });
            if together && !has(Family::Ultimatum) {
                out |= sig::JOINT;
            }
        }
    }
    // Defending oneself: the phrases of excuse, blame and "yes, but"; complaints of being
    // attacked; appeals to process and tenure; denying a fault is one's own ("that wasn't on
    // me"); and turning the criticism back on their work ("not like yours are bulletproof
    // either").
    // "Yes, but before I answer, can I check I've understood?" is not a rebuttal: owning a
    // fault or giving credit takes the phrases of excuse back, not a complaint of being
    // attacked ("I'm being attacked" is not "I'm being difficult").
    let excuses = (has(Family::Defensive) || has(Family::YesBut)) && !has(Family::Generous);
    let defends = excuses
        || has(Family::Attacked)
        || has(Family::ProcessAppeal)
        || (has(Family::Tenure)
            && ((has(Family::Duration) && span.digit) || has(Family::LongDuration)))
        || has(Family::Credential)
        || (has(Family::Tenure) && has(Family::KnowClaim))
        // "I was asked to design the pipeline, not the budget": the remit as the answer.
        || (has(Family::ScopeAppeal) && hits.iter().any(|h| h.family == Family::Negation))
        || denied.contains(Family::OwnFault)
        // "i dont cut corners on cost numbers": the speaker's own rigour, denied a fault
        // nobody named.
        || live.iter().any(|f| {
            f.family == Family::SelfFault
                && hits.iter().any(|n| {
                    n.family == Family::Negation
                        && n.end <= f.start
                        && same_clause(n.end, f.start, clause_breaks, hits)
                        && live.iter().any(|p| {
                            p.family == Family::FirstPerson
                                && matches!(bytes[p.start], b'i' | b'I')
                                && p.end <= n.start
                                && n.start - p.end <= 8
                        })
                })
        })
        || (has(Family::TuQuoque)
            && has(Family::SecondPerson)
            && hits.iter().any(|h| h.family == Family::Negation));
    if defends {
        out |= sig::DEFENSIVE;
        let only_yes_but = has(Family::YesBut)
            && !has(Family::Defensive)
            && !has(Family::Attacked)
            && !has(Family::ProcessAppeal)
            && !has(Family::Credential)
            && !has(Family::Tenure)
            && !denied.contains(Family::OwnFault)
            && !has(Family::TuQuoque)
            && !has(Family::ScopeAppeal);
        if only_yes_but {
            out |= sig::YES_BUT_ONLY;
        }
    }
    if has(Family::Generous) {
        out |= sig::OWNS;
    }
    // A sentence that is nothing but a brush-off ("next.") waves the point away, and so does
    // denying that anyone would notice ("users don't feel your eval").
    let brushes_off = has(Family::BrushOff)
        && word_count(bytes, span.tokens, start, end) <= 2
        && !has(Family::Acknowledgement);
    // The negation is the perceiving's own ("don't feel", "won't notice"), or the audience is
    // nobody ("no one watching will notice"); "I can't tell you whether users feel it" is not.
    // "prod users never feel a sluggish assistant" said as the goal is the point, not a denial.
    let unnoticed = !conditioned
        && !has(Family::SharedGoal)
        && has(Family::Audience)
        && hits
            .iter()
            .filter(|p| p.family == Family::Perceive)
            .any(|p| {
                hits.iter().any(|n| {
                    n.family == Family::Negation
                        && n.end <= p.start
                        && (p.start - n.end <= 8
                            || hits
                                .iter()
                                .any(|a| a.family == Family::Audience && a.start == n.start))
                        && same_clause(n.end, p.start, clause_breaks, hits)
                })
            });
    // "ok fair, it's probably worthless then" gives up one's own claim; it belittles nobody.
    // The "you" of "you're right" is part of the giving in.
    let own_claim = (has(Family::Retreat)
        || (has(Family::Deference) && has(Family::Acknowledgement)))
        && !live.iter().any(|y| {
            y.family == Family::SecondPerson
                && !live
                    .iter()
                    .any(|d| d.family == Family::Deference && d.start <= y.start && y.end <= d.end)
        });
    let closes_point = span.tautology() && !has(Family::Acknowledgement);
    // "I'm not sure it has much bearing on this", "batch size 1 has nothing to do with how
    // production runs": their point denied any weight, without engaging it.
    let denied_weight = !conditioned
        && !has(Family::Acknowledgement)
        && live.iter().any(|r| {
            r.family == Family::Relevance
                && hits.iter().any(|n| {
                    n.family == Family::Negation
                        && n.end <= r.start
                        && r.start - n.end <= 40
                        && same_clause(n.end, r.start, clause_breaks, hits)
                })
        });
    let closes_point = closes_point || denied_weight;
    if (has(Family::Dismissive) || brushes_off || unnoticed || closes_point) && !own_claim {
        out |= sig::DISMISSIVE;
    }
    // About the person: character, motives ("you just want your name on the slide"), and
    // their team or discipline as a type ("classic phd move", "researchers never ship").
    let personal = has(Family::Personal)
        || (has(Family::Motive) && has(Family::AccuseFrame))
        || live.iter().any(|m| {
            // "Classic phd move", "typical research team": a type named as the sentence opens;
            // "a typical engineer" further in is a statistic.
            m.family == Family::StereotypeMarker
                && span.words_before(m.start) <= 1
                && live.iter().any(|d| {
                    d.family == Family::Discipline && m.end <= d.start && d.start - m.end <= 2
                })
        })
        || (has(Family::DisciplinePeople) && has(Family::Generalisation))
        // "feels like the classic EM move", "typical staff-eng interview thing": a person's
        // conduct filed as a type's, wherever in the sentence it comes.
        || live.iter().any(|m| {
            m.family == Family::StereotypeMarker
                && matches!(bytes[m.start].to_ascii_lowercase(), b'c' | b't')
                && live.iter().any(|a| {
                    a.family == Family::TypeAct
                        && a.start > m.end
                        && word_count(bytes, span.tokens, m.end, a.start) <= 3
                        && same_clause(m.end, a.start, clause_breaks, live)
                })
        })
        // A discipline as the subject of a generalisation ("research never thinks about prod").
        || live.iter().any(|d| {
            d.family == Family::Discipline
                && span.clause_words_before(d.start, clause_breaks) <= 1
                && live.iter().any(|g| {
                    g.family == Family::Generalisation
                        && g.start >= d.end
                        && g.start - d.end <= 2
                })
        })
        // "People who've never owned a launch metric always say ...": a type defined by a
        // lack, then what they always do.
        || live.iter().any(|t| {
            t.family == Family::TypeOfPeople
                && live
                    .iter()
                    .filter(|g| g.family == Family::Generalisation && g.start >= t.end)
                    .count()
                    >= 2
        })
        // What "you" are really doing or after, with a motive or a comparison of priorities
        // ("you're more concerned about your headcount review than about the users").
        || (followed(live, Family::SecondPerson, Family::MotiveVerb, 16, clause_breaks)
            && (has(Family::Motive) || has(Family::PreferOver))
            && !span.ends_with(b"?"));
    // "the date is about ur team's review more than the users": their stake ranked above the
    // people the work is for.
    // "this is about ur VP demo more than the users": the framing alone says it.
    let stake_over_users = (has(Family::Motive) || has(Family::AccuseFrame))
        && has(Family::SecondPerson)
        && has(Family::PreferOver)
        && has(Family::Audience)
        && !span.ends_with(b"?");
    let asked = span.ends_with(b"?");
    // "u only like it bc u pitched it", "it matters to you because you've told your VP",
    // "since ur team's name is on it, it's hard to see with fresh eyes": their stance put down
    // to their own stake or past act. "I ask because you mentioned it" explains the speaker;
    // "since u told him, he should decide" hands it up, which is escalation's to judge.
    let explained_by_stake = !asked
        && !has(Family::ActOnThem)
        && !has(Family::Proposal)
        && hits.iter().any(|c| {
            c.family == Family::ClauseBreak
                && said(c, &["because", "since"])
                && !hits
                    .iter()
                    .any(|n| n.family == Family::Negation && n.end <= c.start && c.start - n.end <= 1)
                && live.iter().any(|y| {
                    y.family == Family::SecondPerson
                        && y.start >= c.end
                        && word_count(bytes, span.tokens, c.end, y.start) == 0
                })
                // What follows is a stake: their standing, their face, a promise upward, or
                // a record ("bc ur team has never owned a metric"); "since you know the
                // harness best" credits them.
                && live.iter().any(|m| {
                    m.start > c.end
                        && (matches!(m.family, Family::Motive | Family::Face)
                            || (m.family == Family::EscalationTarget
                                && live.iter().any(|y| y.family == Family::SecondPerson && y.end <= c.start))
                            || (m.family == Family::Generalisation && said(m, &["always", "never"]))
                            // "u only like it bc u pitched it": their stance reduced to an
                            // act of theirs.
                            || ((m.family == Family::PastReport
                                || (m.family == Family::SecondPerson && {
                                    // "bc u pitched it": a verb in the past after "you".
                                    let rest = bytes[m.end..end].trim_ascii_start();
                                    let word = rest
                                        .split(|b| !b.is_ascii_alphabetic())
                                        .next()
                                        .unwrap_or_default();
                                    word.len() > 3 && word.to_ascii_lowercase().ends_with(b"ed")
                                }))
                                && live.iter().any(|y| {
                                    y.family == Family::SecondPerson
                                        && y.end <= c.start
                                        && bytes[y.end..c.start]
                                            .split(|b| !b.is_ascii_alphabetic())
                                            .any(|w| w.eq_ignore_ascii_case(b"only") || w.eq_ignore_ascii_case(b"just"))
                                })))
                })
                && (live
                    .iter()
                    .any(|y| y.family == Family::SecondPerson && y.end <= c.start)
                    || live.iter().any(|m| {
                        matches!(m.family, Family::Motive | Family::Face) && m.start > c.end
                    }))
        });
    // "walking it back with your VP would look bad for you": what changing course would cost
    // them in others' eyes, offered as the reason for their stance.
    // "I'm not here to make you look bad" disclaims it; "now you can't walk it back" says it.
    let face = has(Family::SecondPerson)
        && !asked
        && live.iter().any(|f| {
            f.family == Family::Face
                && !hits.iter().any(|n| {
                    n.family == Family::Negation
                        && n.end <= f.start
                        && same_clause(n.end, f.start, clause_breaks, hits)
                        && live.iter().any(|p| {
                            p.family == Family::FirstPerson
                                && p.end <= n.start
                                && word_count(bytes, span.tokens, p.end, n.start) <= 1
                        })
                })
        });
    // "you may find it harder to weigh the latency dispassionately", "hard to look at it with
    // fresh eyes": their judgement said to be clouded.
    let clouded = !asked
        && [
            &b"dispassionately"[..],
            b"fresh eyes",
            b"blind spot",
            b"too close to",
        ]
        .iter()
        .any(|w| {
            bytes[start..end]
                .windows(w.len())
                .position(|x| x.eq_ignore_ascii_case(w))
                .is_some_and(|at| {
                    live.iter()
                        .any(|y| y.family == Family::SecondPerson && y.end <= start + at)
                })
        });
    // "the thing with research orgs", "the trouble with product people": a discipline as the
    // problem.
    let trouble_with = live.iter().any(|g| {
        g.family == Family::Generalisation
            && (said(
                g,
                &["the trouble with", "the problem with", "the thing with"],
            ))
            && live.iter().any(|d| {
                matches!(d.family, Family::Discipline | Family::DisciplinePeople)
                    && d.start >= g.end
                    && word_count(bytes, span.tokens, g.end, d.start) <= 1
            })
    });
    // "it is less about noise and more about your group not wishing to be measured": what the
    // matter is really about, and that is them.
    let about_them = !asked
        && live.iter().any(|a| {
            a.family == Family::AccuseFrame
                && bytes[a.start..a.end]
                    .windows(5)
                    .any(|w| w.eq_ignore_ascii_case(b"about"))
                && live.iter().any(|y| {
                    y.family == Family::SecondPerson
                        && y.start >= a.end
                        && word_count(bytes, span.tokens, a.end, y.start) == 0
                        // "about your users as much as mine" is the goal.
                        && !live.iter().any(|u| {
                            u.family == Family::Audience
                                && u.start >= y.end
                                && word_count(bytes, span.tokens, y.end, u.start) <= 1
                        })
                })
        });
    // "as a research scientist, you're inclined to distrust it": the person read as a type.
    // "As a researcher, you'd know the eval better than me" defers to them.
    let as_a_type = !has(Family::Better)
        && !has(Family::Deference)
        && !has(Family::Generous)
        && live.iter().any(|d| {
            matches!(d.family, Family::Discipline | Family::DisciplinePeople)
                && bytes[span.start..d.start]
                    .to_ascii_lowercase()
                    .trim_ascii_end()
                    .rsplit(|b| *b == b' ')
                    .take(2)
                    .any(|w| w == b"as")
                && live.iter().any(|y| {
                    y.family == Family::SecondPerson
                        && y.start > d.end
                        && word_count(bytes, span.tokens, d.end, y.start) <= 2
                })
        });
    // "u kinda always chase the shiny new arch", "you get touchy every time someone asks":
    // a habit of theirs, a few words after "you". Praise and one's own fault are not jabs.
    // A record ("you've always been direct", "you'd never hire me") is not a habit.
    let habit = !has(Family::SelfFault)
        && live.iter().any(|y| {
            y.family == Family::SecondPerson
                && said(y, &["you", "u"])
                && !matches!(
                    bytes.get(y.end..y.end + 3),
                    Some([b'\'', b'v' | b'V' | b'd' | b'D' | b'l' | b'L', ..])
                )
                && live.iter().any(|g| {
                    g.family == Family::Generalisation
                        && said(
                            g,
                            &["always", "never", "every time", "whenever", "constantly"],
                        )
                        && ((g.start > y.end
                            && word_count(bytes, span.tokens, y.end, g.start) <= 3
                            && same_clause(y.end, g.start, clause_breaks, live))
                            // "every time anyone mentions the send rate you close up"
                            || (said(g, &["every time", "whenever"])
                                && g.end <= y.start
                                && word_count(bytes, span.tokens, g.end, y.start) <= 8))
                })
        });
    let personal = personal
        || stake_over_users
        || explained_by_stake
        || face
        || about_them
        || as_a_type
        || habit
        || clouded
        || trouble_with;
    // "You never saw it because I only sent p50, my mistake" blames oneself, and "you always
    // ask the right question" praises; neither is about the other person's failings.
    // "...at a cost you never have to defend to your director" is the goal, not a jab.
    if personal && !has(Family::Generous) && !has(Family::SharedGoal) {
        out |= sig::PERSONAL;
    }
    let hostile = out & (sig::DEFENSIVE | sig::DISMISSIVE | sig::PERSONAL) != 0;
    // "u know the market better", "you understand the field far better than I do".
    if has(Family::Deference) || followed(live, Family::YouKnow, Family::Better, 30, clause_breaks)
    {
        out |= sig::YIELDS;
    }
    if has(Family::EscalationTarget) {
        out |= sig::NAMES_AUTHORITY;
    }
    if has(Family::Holds) || has(Family::ChangedByEvidence) {
        out |= sig::HOLDS;
    }
    // "i can grab 15 min with him and he decides": the one just named, deciding.
    // "If we still disagree, she decides" is a path agreed for later; "he decides if the demo
    // is worth it" names what is handed over.
    let pronoun_decides = !has(Family::Joint)
        && live.iter().any(|p| {
            p.family == Family::ThirdPronoun
                && !live.iter().any(|c| {
                    c.family == Family::Conditional
                        && c.start < p.start
                        && !live.iter().any(|k| {
                            k.family == Family::IdleCondition
                                && k.start <= c.start
                                && c.end <= k.end
                        })
                })
                && live.iter().any(|d| {
                    d.family == Family::Decides
                        && d.start >= p.end
                        && d.start - p.end <= 16
                        && same_clause(p.end, d.start, clause_breaks, live)
                })
        });
    if (has(Family::ActOnThem) || pronoun_decides) && !has(Family::Joke) {
        out |= sig::ACTS_ON_THEM;
    }
    // Backing a test ("ok, I'll back the canary") is not backing off; backing their plan is.
    if has(Family::Retreat) || (has(Family::Support) && !has(Family::Trial)) {
        // "If the replay holds, I'll drop the objection" names what would change one's mind.
        out |= if conditioned {
            sig::STATES_OWN
        } else {
            sig::RETREATS
        };
    }
    if has(Family::Capitulation) {
        if conditioned {
            out |= sig::STATES_OWN;
        } else {
            out |= sig::CAPITULATES;
        }
    }

    // A question: a question mark after a question word, or a question's opening ("what's
    // pulling you to FT", "can u jump in here") among its first words, with or without the
    // mark; a statement's full stop says otherwise.
    let opens_question = live.iter().any(|h| {
        (h.family == Family::QuestionStart && span.words_before(h.start) <= 2)
            || (h.family == Family::WhRelative && span.words_before(h.start) == 0)
    });
    let asks_question = (span.ends_with(b"?") && has(Family::QuestionOpener))
        || (opens_question && !span.ends_with(b".!"));
    // "Seriously?" as a sentence opens accuses; "take it seriously?" further in asks.
    let rhetorical = has(Family::Rhetorical)
        || live.iter().any(|h| {
            h.family == Family::Incredulous
                && span.words_before(h.start) == 0
                && word_count(bytes, span.tokens, start, end) <= 6
        });
    if (asks_question || has(Family::Curiosity)) && !rhetorical && !hostile {
        out |= sig::QUESTION;
    }
    // What would change their mind, asked in any words: a question about what would move
    // them ("what would tell u eval can't spare her", "where would you get uncomfortable").
    // A question word that opens the sentence asks, mark or not ("anything u'd want from me
    // to trust this").
    let opens_with_question_word = live
        .iter()
        .any(|h| h.family == Family::QuestionWord && span.words_before(h.start) == 0);
    let asks_other = has(Family::AsksOtherEvidence)
        || ((asks_question || opens_with_question_word || has(Family::Curiosity))
            && has(Family::QuestionWord)
            && has(Family::WouldModal)
            && has(Family::SecondPerson));
    if asks_other && !rhetorical && !hostile {
        out |= sig::ASKS_OTHER | sig::QUESTION;
    }
    // "ur goal and mine are basically the same", "our aims overlap": both sides' goals, said
    // to meet; one side's alone ("your interests are the same as ever") are not shared.
    let ours = |g: &Hit| {
        let before = bytes[start..g.start].trim_ascii_end();
        let word = before
            .rsplit(|b| !is_word_byte(*b))
            .next()
            .unwrap_or_default();
        word.eq_ignore_ascii_case(b"our")
    };
    let goals_meet = (((has(Family::FirstPerson) || has(Family::OwnWork))
        && has(Family::SecondPerson))
        || live.iter().any(|g| g.family == Family::GoalNoun && ours(g)))
        && followed(live, Family::GoalNoun, Family::Agreement, 40, clause_breaks);
    // A goal named as shared: the phrases, "we both (just) want", or "I want that too".
    let shared = has(Family::SharedGoal)
        || goals_meet
        || followed(live, Family::WeBoth, Family::GoalVerb, 12, clause_breaks)
        || (has(Family::IWant) && has(Family::Too))
        // "what I'd hope we can both hold onto is that people get the better answers", "our
        // ends are the same, a launch that brings in people who stay": both named, and an
        // outcome. "you and I don't agree" names no goal.
        || (has(Family::WeBoth)
            && (has(Family::GoalVerb) || has(Family::GoalNoun) || has(Family::Audience))
            && !span.ends_with(b"?")
            && !has(Family::Ultimatum)
            && !has(Family::EscalationTarget)
            && out & sig::ESCALATION == 0
            // "i don't think you and i are going to get there"
            && !live.iter().any(|w| {
                w.family == Family::WeBoth
                    && hits.iter().any(|n| {
                        n.family == Family::Negation
                            && n.end <= w.start
                            && same_clause(n.end, w.start, clause_breaks, hits)
                    })
            })
            && !live.iter().any(|g| {
                g.family == Family::GoalVerb
                    && hits.iter().any(|n| {
                        n.family == Family::Negation && n.end <= g.start && g.start - n.end <= 8
                    })
            }))
        // "I'd love the gain to reach users": their win wanted for the people it serves.
        || (has(Family::Audience)
            && live
                .iter()
                .any(|w| w.family == Family::IWant && matches!(bytes[w.start], b'i' | b'I')));
    // "We'll find a way to live with it" gives the position up; it names no goal.
    if shared && !hostile && out & sig::RETREATS == 0 {
        out |= sig::SHARED_GOAL;
    }
    let capitulates = out & sig::CAPITULATES != 0;
    // What would change one's own mind: the phrases, a concession under a condition, or a
    // condition on "I'm (totally) fine with it" ("if the int8 build holds, im good w/ it").
    let accepts_if = conditioned
        && !has(Family::Ultimatum)
        && followed(live, Family::FirstPerson, Family::Accept, 16, clause_breaks);
    // The speaker's own "I" accepting, not the team's "we expand": a falsifier, not a rule.
    let i_accept_if = accepts_if && {
        let mine: Vec<Hit> = live
            .iter()
            .filter(|h| h.family != Family::FirstPerson || matches!(bytes[h.start], b'i' | b'I'))
            .copied()
            .collect();
        followed(
            &mine,
            Family::FirstPerson,
            Family::Accept,
            16,
            clause_breaks,
        )
    };
    // "if kernel gets p99 to 150 i change my opinion", "should the check say it
    // de-anonymises, I'll pull the demo myself", "if the filter alone holds within 2 pts i
    // wouldn't retrain": a result, then what the speaker would do or say once it is in.
    let acts_on_result = conditioned
        && !has(Family::Ultimatum)
        && !has(Family::Joke)
        && out & sig::ESCALATION == 0
        && !span.ends_with(b"?")
        && live
            .iter()
            .filter(|c| {
                c.family == Family::Conditional
                    && !live.iter().any(|k| {
                        k.family == Family::IdleCondition && k.start <= c.start && c.end <= k.end
                    })
            })
            .map(|c| c.end)
            .chain(inverted)
            .any(|condition_end| {
                let c = Hit {
                    family: Family::Conditional,
                    start: condition_end,
                    end: condition_end,
                };
                live.iter().any(|i| {
                    i.family == Family::FirstPerson
                        && i.start > c.end
                        && matches!(bytes[i.start], b'i' | b'I')
                        // The speaker as the subject of what follows: "i'll", "i'd", "im", or
                        // "i" and a verb of stance ("i change my opinion"); not "i own it".
                        && (live.iter().any(|m| m.family == Family::Commit && m.start == i.start)
                            || said(i, &["i'm", "im", "i am"])
                            || {
                                let rest = bytes[i.end..end].trim_ascii_start();
                                let word = rest
                                    .split(|b| !b.is_ascii_alphabetic())
                                    .next()
                                    .unwrap_or_default()
                                    .to_ascii_lowercase();
                                [
                                    &b"change"[..], b"say", b"drop", b"switch", b"stop", b"back",
                                    b"support", b"concede", b"withdraw", b"agree", b"accept",
                                    b"skip", b"pull", b"wouldn", b"won",
                                ]
                                .contains(&word.as_slice())
                            })
                        // The result comes between the condition and the speaker: a figure,
                        // a comparison, a test, or what a result does ("the kernel gets it").
                        && (bytes[c.end..i.start].iter().any(u8::is_ascii_digit)
                            || bytes[c.end..i.start]
                                .split(|b| !b.is_ascii_alphabetic())
                                .any(|w| {
                                    RESULT_WORDS.iter().any(|r| w.eq_ignore_ascii_case(r))
                                })
                            || live.iter().any(|e| {
                                e.start > c.end
                                    && e.end <= i.start
                                    && matches!(
                                        e.family,
                                        Family::Comparator
                                            | Family::Trial
                                            | Family::ProcessStep
                                            | Family::Statement
                                    )
                            }))
                        && !live.iter().any(|y| {
                            y.family == Family::SecondPerson && y.start > c.end && y.end <= i.start
                                && live.iter().any(|w| {
                                    w.family == Family::GoalVerb && w.start >= y.end && w.start - y.end <= 2
                                })
                        })
                })
        });
    if !capitulates
        && (has(Family::OwnEvidence)
            || (conditioned && has(Family::OwnConcession))
            || accepts_if
            || acts_on_result)
    {
        out |= sig::STATES_OWN;
    }
    // "If the committee wants to ding me, that's their call" hands the judgement away; it
    // names nothing that would move the speaker.
    let their_condition = live.iter().any(|c| {
        c.family == Family::Conditional
            && live.iter().any(|t| {
                t.family == Family::EscalationTarget && t.start >= c.end && t.start - c.end <= 6
            })
    });
    if out & sig::ESCALATION != 0 && their_condition {
        out &= !sig::STATES_OWN;
    }
    // A decision rule names a threshold, a date or a second step ("if it regresses, we roll
    // back the canary"); "I'd feel terrible if my replay numbers delayed it" is none of those.
    let steps = live
        .iter()
        .filter(|h| h.family == Family::ProcessStep)
        .count();
    // A concrete step proposed, made the outcome of a condition (a decision rule: "if p99
    // stays above 150 for ten minutes, the flag switches it off"), or given a date ("canary
    // on 5% monday, review wed").
    // A plan typed as a fragment that opens with its step ("A/B on 10% of ja+ko for 2 weeks",
    // "staged rollout with a kill switch") proposes it as surely as "let's".
    // "~1.3 cents/meeting", "$1.9M budget": a figure and its unit report a number; a fragment
    // that opens with one proposes only with a second step ("10% canary for 2 weeks").
    let opens_with_figure = std::str::from_utf8(&bytes[start..end])
        .unwrap_or_default()
        .chars()
        .find(|c| !(c.is_whitespace() || matches!(c, '~' | '$' | '(' | '≈' | '±' | '+')))
        .is_some_and(|c| c.is_ascii_digit());
    // "9k in × $1.25/M = 1.125¢", "≈1.3¢/meeting": arithmetic works a figure out; it proposes
    // nothing. ("primary = send rate" labels a plan's parts.)
    let sentence = std::str::from_utf8(&bytes[start..end]).unwrap_or_default();
    let arithmetic = sentence.contains(['×', '≈']);
    // "Randomise by team." A step typed as a whole short sentence.
    let bare_step = steps == 1
        && word_count(bytes, span.tokens, start, end) <= 5
        && !span.ends_with(b"?")
        && live
            .iter()
            .any(|h| h.family == Family::ProcessStep && span.words_before(h.start) == 0);
    // "thanks for meeting before friday" thanks; it plans nothing.
    let thanks = bytes[start..end]
        .trim_ascii_start()
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"thank"));
    let fragment_plan = !thanks
        && (span.digit || has(Family::Schedule) || steps >= 2 || bare_step)
        && (!opens_with_figure || steps >= 2)
        && !arithmetic
        && !has(Family::PastReport)
        && !has(Family::Statement)
        && live.iter().any(|h| {
            h.family == Family::ProcessStep
                && (span
                    .words_before(h.start)
                    .min(span.words_after_colon(h.start))
                    <= 3
                    // A list of steps, each item opening with its own ("..., canary 5% before
                    // rollout").
                    || (steps >= 2 && span.clause_words_before(h.start, clause_breaks) <= 1))
                && bytes[h.start].is_ascii_alphabetic()
        });
    // The speaker committing to a step ("i'd prove it on a rater eval of long meetings");
    // "i'd say the benchmark is flawed" is an opinion, "i'll drop the A/B" a retreat and "i'd
    // probably just retrain, i guess" a shrug.
    let commits = !has(Family::PastReport)
        && !has(Family::Retreat)
        && !has(Family::Support)
        && !has(Family::Deference)
        && out & sig::ESCALATION == 0
        && live.iter().any(|c| {
            c.family == Family::Commit
                && !live.iter().any(|v| {
                    v.family == Family::Attitude && v.start >= c.end && v.start - c.end <= 2
                })
        });
    // A step measured against a number ("cost per meeting under 0.33 cents on a dashboard")
    // carries the threshold that decides it.
    let threshold = !has(Family::PastReport)
        && live.iter().any(|c| {
            c.family == Family::Comparator
                && !(c.start > 0 && matches!(bytes[c.start - 1], b'-' | b'='))
                && span.number_after(c.end)
        });
    // Said of the speaker's own acceptance ("if raters prefer it, I'd be comfortable shipping")
    // it names what would change their mind rather than how to decide.
    let rule = has(Family::Conditional)
        && (span.digit || has(Family::Schedule) || steps >= 2)
        && !i_accept_if
        && !has(Family::OwnConcession)
        && !hostile;
    // "If the kernel gets p95 under 800, I'd back it for the 14th" is what would change the
    // speaker's mind, however exact its threshold; the rule that decides for both of them
    // is another move ("... and we ship", "we roll back").
    // "I'd switch to spec decoding", "I'd roll back", "we can extend to three weeks" act on
    // the result, and so decide.
    let position = |h: &Hit| {
        let text = bytes[h.start..h.end].to_ascii_lowercase();
        [
            &b"back"[..],
            b"support",
            b"withdraw",
            b"drop",
            b"sign off",
            b"agree",
            b"fine",
            b"happ",
            b"concede",
            b"stand",
            b"approve",
            b"win",
            b"board",
            b"convinced",
            b"accept",
            b"stop",
            b"wrong",
            b"champion",
            b"go with",
            b"your plan",
            b"alongside",
        ]
        .iter()
        .any(|w| text.windows(w.len()).any(|x| x == *w))
    };
    let acts_after = |at: usize| {
        live.iter().any(|h| {
            (h.family == Family::ProcessStep && h.start > at)
                || (h.family == Family::Commit
                    && h.start > at
                    && matches!(bytes[h.start], b'w' | b'W'))
        })
    };
    let falsifier_only = conditioned
        && !has(Family::Proposal)
        && (i_accept_if
            || live
                .iter()
                .any(|c| c.family == Family::OwnConcession && position(c)))
        && !live
            .iter()
            .any(|c| c.family == Family::OwnConcession && !position(c))
        && !live
            .iter()
            .filter(|c| c.family == Family::OwnConcession || c.family == Family::Accept)
            .any(|c| acts_after(c.end));
    // "What would you want to see, a per-version eval?" asks; "what if we canary it?" offers.
    let open_question = span.ends_with(b"?")
        && !has(Family::Proposal)
        && live.iter().any(|q| {
            matches!(q.family, Family::QuestionOpener | Family::QuestionWord)
                && span.words_before(q.start) == 0
        });
    // "I'll look into the kernel branch this week" promises to find out, not a way to decide.
    let looks_into = has(Family::Explore)
        && !has(Family::Comparator)
        && !has(Family::Trial)
        && !has(Family::Proposal);
    // "You know this far better than I do, so I'll withdraw the A/B proposal" names a step
    // only to give it up; "so I'll drop the four-week arm" alone reshapes the plan.
    let withdraws = has(Family::Retreat) && !conditioned && out & sig::YIELDS != 0;
    // Taking it upstairs alone is not a way to settle it together, and "forget it, run it on
    // every meeting" hands over their plan.
    // "Let's say the comparison isn't valid and move on" concedes for argument's sake.
    let proposes = live.iter().any(|p| {
        p.family == Family::Proposal && {
            let rest = bytes[p.end..end].trim_ascii_start();
            !(rest.len() >= 3
                && rest[..3].eq_ignore_ascii_case(b"say")
                && rest.get(3).is_none_or(|b| !b.is_ascii_alphabetic()))
        }
    });
    // "That comparison would be trivial" names a step only to wave it off; "I'd propose a
    // holdout" stands, whatever else the sentence says.
    let own_proposal = live.iter().any(|p| {
        p.family == Family::Proposal
            && (matches!(bytes[p.start].to_ascii_lowercase(), b'i' | b'w' | b'l')
                || bytes[p.start..p.end]
                    .windows(2)
                    .any(|w| w.eq_ignore_ascii_case(b"we")))
    });
    if has(Family::ProcessStep)
        && (!hostile || own_proposal)
        && !withdraws
        && !falsifier_only
        && !open_question
        && !looks_into
        && out & sig::CAPITULATES == 0
        && (out & sig::ESCALATION == 0 || has(Family::Joint))
        && (proposes
            || rule
            || (has(Family::Schedule) && !has(Family::PastReport))
            || fragment_plan
            || commits
            || threshold)
    {
        out |= sig::PROCESS;
    }
    // "if the gap is >3pts id switch to spec decoding": a threshold, and what the speaker
    // will do when it is crossed, is a decision rule.
    if conditioned
        && threshold
        && has(Family::Commit)
        && !falsifier_only
        && !has(Family::Retreat)
        && out & sig::ESCALATION == 0
        && !hostile
    {
        out |= sig::PROCESS;
    }
    // A proposal with a date is a process whatever its step ("what if we commit coding to the
    // next slot w/ a date").
    // "I'd like to understand the concern before Friday" wants to listen first.
    if followed(live, Family::Proposal, Family::Schedule, 120, clause_breaks)
        && !has(Family::Curiosity)
        && !looks_into
        && !has(Family::PastReport)
        && out & sig::ESCALATION == 0
        && !hostile
    {
        out |= sig::PROCESS;
    }
    if has(Family::Acknowledgement) && out & sig::DEFENSIVE == 0 {
        out |= sig::ACK;
    }
    out
}
