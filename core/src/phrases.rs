//! Finds phrases in text by words rather than bytes. The scorer's lexicon, the scripted
//! antagonist's cues and the character-break check all match phrases this one way: the
//! scorer feeds its own tokens to the index, everything else uses a [`PhraseSet`].
//!
//! A text is cut into tokens once; each word is folded to lowercase and looked up in a table
//! built from the phrases' vocabulary, and phrases are then walked in a trie over the
//! resulting word ids. The tables are a few tens of kilobytes and stay in cache, where a byte
//! automaton over every phrase did not, and words no phrase uses cost one failed lookup.
//!
//! Tokens are runs of word bytes (ASCII letters, digits, `_`) and single other non-space
//! characters, so matching on tokens keeps the word-boundary meaning the data was written
//! for: an apostrophe is a token of its own, so "i'll" reads as `i ' ll` and the phrase "i"
//! matches in it, as a boundary match on bytes would. Typographic apostrophes read as straight
//! ones, and a hyphen inside a compound as a space. A phrase's leading `*` lets its first word
//! match the end of a longer word and a trailing `*` lets its last word match the start of one.

/// No symbol: a word no phrase uses, or a trie edge that does not exist.
pub(crate) const NONE: u32 = u32::MAX;

pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The index of a word byte in the affix tries' alphabet.
fn letter(b: u8) -> usize {
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => usize::from(c - b'a'),
        c @ b'0'..=b'9' => 26 + usize::from(c - b'0'),
        _ => 36,
    }
}

const LETTERS: usize = 37;

/// Whether the byte at `i` is a hyphen inside a compound ("steering-group", "kill-switch"),
/// which separates its words as a space does: people write compounds both ways, and a phrase
/// written either way finds both.
pub(crate) fn joins_words(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'-'
        && i > 0
        && is_word_byte(bytes[i - 1])
        && bytes.get(i + 1).copied().is_some_and(is_word_byte)
}

/// The token strings of a phrase: lowercase words and single punctuation characters, with
/// typographic apostrophes made straight and a hyphen inside a compound read as a space.
pub(crate) fn phrase_tokens(phrase: &str) -> Vec<String> {
    let lowered = phrase.to_ascii_lowercase().replace('\u{2019}', "'");
    let bytes = lowered.as_bytes();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, c) in lowered.char_indices() {
        if c.is_ascii() && is_word_byte(c as u8) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() && !joins_words(bytes, i) {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A token's key: its first eight lowercase bytes packed into a `u64`, which is the whole word
/// for most words, so a lookup compares one integer; longer tokens fold the rest in with a
/// rolling hash and set the top bit (never set by packed ASCII), and are then compared by text.
/// The key is built a byte at a time while the word is read.
pub(crate) const KEY_START: u64 = 0;

#[inline]
pub(crate) fn key_step(key: u64, at: usize, b: u8) -> u64 {
    let b = u64::from(b.to_ascii_lowercase());
    if at < 8 {
        key | b << (8 * at)
    } else {
        key.rotate_left(7) ^ b
    }
}

#[inline]
pub(crate) fn key_finish(key: u64, len: usize) -> u64 {
    if len > 8 { key | 1 << 63 } else { key }
}

fn key_of(bytes: &[u8]) -> u64 {
    let key = bytes
        .iter()
        .enumerate()
        .fold(KEY_START, |key, (at, &b)| key_step(key, at, b));
    key_finish(key, bytes.len())
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    text: (u32, u32),
    symbols: (u32, u32),
}

/// Open-addressing table from a token's key to the symbols the token stands for, kept at a
/// quarter full so a word no phrase uses usually meets an empty slot at once.
#[derive(Debug, Clone)]
struct WordTable {
    slots: Vec<u32>,
    shift: u32,
    entries: Vec<Entry>,
    text: Vec<u8>,
    symbols: Vec<u32>,
}

impl WordTable {
    fn build(items: &[(String, Vec<u32>)]) -> WordTable {
        let size = (items.len() * 4).next_power_of_two().max(16);
        let mut table = WordTable {
            slots: vec![NONE; size],
            shift: 64 - size.trailing_zeros(),
            entries: Vec::with_capacity(items.len()),
            text: Vec::new(),
            symbols: Vec::new(),
        };
        for (word, symbols) in items {
            let key = key_of(word.as_bytes());
            let mut slot = table.slot(key);
            while table.slots[slot] != NONE {
                slot = (slot + 1) & (size - 1);
            }
            table.slots[slot] = table.entries.len() as u32;
            let t = table.text.len() as u32;
            table.text.extend_from_slice(word.as_bytes());
            let s = table.symbols.len() as u32;
            table.symbols.extend_from_slice(symbols);
            table.entries.push(Entry {
                key,
                text: (t, table.text.len() as u32),
                symbols: (s, table.symbols.len() as u32),
            });
        }
        table
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// The symbols of `word` (any case), given its key; `None` for a word no phrase uses.
    #[inline]
    fn get(&self, word: &[u8], key: u64) -> Option<&[u32]> {
        let mask = self.slots.len() - 1;
        let mut slot = self.slot(key);
        loop {
            let entry = self.slots[slot];
            if entry == NONE {
                return None;
            }
            let e = &self.entries[entry as usize];
            if e.key == key
                && (word.len() <= 8
                    || self.text[e.text.0 as usize..e.text.1 as usize].eq_ignore_ascii_case(word))
            {
                return Some(&self.symbols[e.symbols.0 as usize..e.symbols.1 as usize]);
            }
            slot = (slot + 1) & mask;
        }
    }
}

/// A trie over the letters of wildcard stems: word starts for `stem*`, reversed word ends for
/// `*stem`. Walking a word through it finds every stem the word carries.
#[derive(Debug, Clone)]
struct AffixTrie {
    next: Vec<[u32; LETTERS]>,
    symbol: Vec<u32>,
}

impl AffixTrie {
    fn new() -> AffixTrie {
        AffixTrie {
            next: vec![[NONE; LETTERS]],
            symbol: vec![NONE],
        }
    }

    fn insert(&mut self, letters: impl Iterator<Item = u8>, symbol: u32) {
        let mut node = 0;
        for b in letters {
            let l = letter(b);
            if self.next[node][l] == NONE {
                self.next[node][l] = self.next.len() as u32;
                self.next.push([NONE; LETTERS]);
                self.symbol.push(NONE);
            }
            node = self.next[node][l] as usize;
        }
        self.symbol[node] = symbol;
    }

    #[inline]
    fn walk(&self, letters: impl Iterator<Item = u8>, out: &mut Vec<u32>) {
        if self.next.len() == 1 {
            return;
        }
        let mut node = 0usize;
        for b in letters {
            let next = self.next[node][letter(b)];
            if next == NONE {
                return;
            }
            node = next as usize;
            if self.symbol[node] != NONE {
                out.push(self.symbol[node]);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Node {
    edges: (u32, u32),
    outputs: (u32, u32),
}

/// Every phrase as a token-symbol sequence; a node's outputs are the owners of the phrase that
/// ends there.
#[derive(Debug, Clone)]
pub(crate) struct PhraseIndex<O> {
    words: WordTable,
    prefixes: AffixTrie,
    suffixes: AffixTrie,
    /// The root's children, by symbol: nearly every token that matters starts some phrase.
    root: Vec<u32>,
    nodes: Vec<Node>,
    /// Sorted by symbol within each node.
    edges: Vec<(u32, u32)>,
    outputs: Vec<O>,
    /// The symbol of each ASCII punctuation character, so they skip the hash table.
    ascii: [u32; 128],
}

/// Builds a [`PhraseIndex`] from phrases added one at a time.
pub(crate) struct PhraseIndexBuilder<O> {
    symbols: std::collections::HashMap<(u8, String), u32>,
    children: Vec<std::collections::BTreeMap<u32, u32>>,
    outputs: Vec<Vec<O>>,
}

/// How a phrase's token is matched: the whole token, its start (`stem*`) or its end (`*stem`).
const EXACT: u8 = 0;
const PREFIX: u8 = 1;
const SUFFIX: u8 = 2;

impl<O: Copy + PartialEq> PhraseIndexBuilder<O> {
    pub(crate) fn new() -> Self {
        PhraseIndexBuilder {
            symbols: Default::default(),
            children: vec![Default::default()],
            outputs: vec![Vec::new()],
        }
    }

    fn symbol(&mut self, kind: u8, text: &str) -> u32 {
        let next = self.symbols.len() as u32;
        *self.symbols.entry((kind, text.to_string())).or_insert(next)
    }

    /// Adds a phrase as written in the data; `Err` explains why it cannot be matched.
    pub(crate) fn add(&mut self, raw: &str, owner: O) -> Result<(), String> {
        let trimmed = raw.trim();
        let open_start = trimmed.starts_with('*');
        let open_end = trimmed.ends_with('*') && trimmed.len() > 1;
        let tokens = phrase_tokens(trimmed.trim_matches('*'));
        if tokens.is_empty() {
            return Err(format!("the phrase {raw:?} is empty"));
        }
        let is_word = |t: &str| t.bytes().all(is_word_byte);
        if (open_start && !is_word(&tokens[0])) || (open_end && !is_word(&tokens[tokens.len() - 1]))
        {
            return Err(format!(
                "in {raw:?} a `*` must touch a letter or digit, not punctuation"
            ));
        }
        let last = tokens.len() - 1;
        let mut node = 0usize;
        for (i, token) in tokens.iter().enumerate() {
            let kind = if i == 0 && open_start {
                SUFFIX
            } else if i == last && open_end {
                PREFIX
            } else {
                EXACT
            };
            let symbol = self.symbol(kind, token);
            let next = self.children.len() as u32;
            let child = *self.children[node].entry(symbol).or_insert(next);
            if child == next {
                self.children.push(Default::default());
                self.outputs.push(Vec::new());
            }
            node = child as usize;
        }
        // A phrase listed twice for one owner (or once with each apostrophe) counts once.
        if !self.outputs[node].contains(&owner) {
            self.outputs[node].push(owner);
        }
        Ok(())
    }

    pub(crate) fn build(self) -> PhraseIndex<O> {
        let mut prefixes = AffixTrie::new();
        let mut suffixes = AffixTrie::new();
        let mut exact: Vec<(&str, u32)> = Vec::new();
        for ((kind, text), &symbol) in &self.symbols {
            match *kind {
                PREFIX => prefixes.insert(text.bytes(), symbol),
                SUFFIX => suffixes.insert(text.bytes().rev(), symbol),
                _ => exact.push((text, symbol)),
            }
        }
        // A known word also carries every wildcard stem it matches, worked out here once.
        exact.sort_unstable();
        let mut entries = Vec::with_capacity(exact.len());
        let mut ascii = [NONE; 128];
        for &(text, symbol) in &exact {
            let mut symbols = vec![symbol];
            if text.bytes().all(is_word_byte) {
                prefixes.walk(text.bytes(), &mut symbols);
                suffixes.walk(text.bytes().rev(), &mut symbols);
            } else if text.len() == 1 {
                ascii[usize::from(text.as_bytes()[0])] = symbol;
            }
            entries.push((text.to_string(), symbols));
        }
        let words = WordTable::build(&entries);

        let mut root = vec![NONE; self.symbols.len()];
        let mut nodes = Vec::with_capacity(self.children.len());
        let mut edges = Vec::new();
        let mut outputs = Vec::new();
        for (children, owners) in self.children.iter().zip(&self.outputs) {
            let e = edges.len() as u32;
            edges.extend(children.iter().map(|(&s, &c)| (s, c)));
            let o = outputs.len() as u32;
            outputs.extend_from_slice(owners);
            nodes.push(Node {
                edges: (e, edges.len() as u32),
                outputs: (o, outputs.len() as u32),
            });
        }
        for (&symbol, &child) in &self.children[0] {
            root[symbol as usize] = child;
        }
        PhraseIndex {
            words,
            prefixes,
            suffixes,
            root,
            nodes,
            edges,
            outputs,
            ascii,
        }
    }
}

/// One token of a text, with the range of its symbols in [`Tokens::symbols`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub start: u32,
    pub end: u32,
    symbols: (u32, u32),
}

/// A text's tokens; kept between turns so reading a turn allocates nothing once warm.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokens {
    pub list: Vec<Token>,
    symbols: Vec<u32>,
}

impl Tokens {
    pub(crate) fn clear(&mut self) {
        self.list.clear();
        self.symbols.clear();
    }
}

impl<O: Copy> PhraseIndex<O> {
    /// Records the word `bytes[start..end]`, whose key (from [`key_step`]) is `key`.
    #[inline]
    pub(crate) fn push_word(
        &self,
        tokens: &mut Tokens,
        bytes: &[u8],
        start: usize,
        end: usize,
        key: u64,
    ) {
        let first = tokens.symbols.len() as u32;
        let word = &bytes[start..end];
        match self.words.get(word, key) {
            Some(symbols) => tokens.symbols.extend_from_slice(symbols),
            None => {
                self.prefixes
                    .walk(word.iter().copied(), &mut tokens.symbols);
                self.suffixes
                    .walk(word.iter().rev().copied(), &mut tokens.symbols);
            }
        }
        let last = tokens.symbols.len() as u32;
        // A word no phrase uses still separates the words around it, so it is kept.
        tokens.list.push(Token {
            start: start as u32,
            end: end as u32,
            symbols: (first, last),
        });
    }

    /// Records the punctuation character at `bytes[start..end]`.
    #[inline]
    pub(crate) fn push_mark(&self, tokens: &mut Tokens, bytes: &[u8], start: usize, end: usize) {
        let symbol = if end == start + 1 {
            self.ascii[usize::from(bytes[start] & 0x7f)]
        } else if &bytes[start..end] == "\u{2019}".as_bytes() {
            self.ascii[usize::from(b'\'')]
        } else {
            let mark = &bytes[start..end];
            self.words
                .get(mark, key_of(mark))
                .and_then(|s| s.first().copied())
                .unwrap_or(NONE)
        };
        let first = tokens.symbols.len() as u32;
        if symbol != NONE {
            tokens.symbols.push(symbol);
        }
        tokens.list.push(Token {
            start: start as u32,
            end: end as u32,
            symbols: (first, tokens.symbols.len() as u32),
        });
    }

    /// Calls `found(owner, start, end)` for every occurrence of every phrase, by byte range,
    /// in order of where the occurrence starts.
    pub(crate) fn find(&self, tokens: &Tokens, mut found: impl FnMut(O, usize, usize)) {
        let list = &tokens.list;
        for (i, token) in list.iter().enumerate() {
            let (a, b) = token.symbols;
            for &symbol in &tokens.symbols[a as usize..b as usize] {
                let child = self.root[symbol as usize];
                if child != NONE {
                    self.walk(tokens, child, token.start as usize, i, &mut found);
                }
            }
        }
    }

    fn walk(
        &self,
        tokens: &Tokens,
        node: u32,
        start: usize,
        at: usize,
        found: &mut impl FnMut(O, usize, usize),
    ) {
        let n = self.nodes[node as usize];
        let end = tokens.list[at].end as usize;
        for owner in &self.outputs[n.outputs.0 as usize..n.outputs.1 as usize] {
            found(*owner, start, end);
        }
        if n.edges.0 == n.edges.1 {
            return;
        }
        let Some(next) = tokens.list.get(at + 1) else {
            return;
        };
        let edges = &self.edges[n.edges.0 as usize..n.edges.1 as usize];
        for &symbol in &tokens.symbols[next.symbols.0 as usize..next.symbols.1 as usize] {
            if let Ok(k) = edges.binary_search_by_key(&symbol, |&(s, _)| s) {
                self.walk(tokens, edges[k].1, start, at + 1, found);
            }
        }
    }
}

/// A list of phrases compiled once, to be looked for in many texts. Phrases match as the
/// scorer's do (whole words, any case, `*` at a phrase's ends) in the text as the scorer reads
/// it (see [`crate::normalise`]: markup resolved, shorthand read out, invisible characters
/// gone); whitespace of any kind, line breaks included, only separates words, so wrapping
/// never hides a phrase.
#[derive(Clone)]
pub struct PhraseSet {
    /// The phrases as given, in order; the index's owners are positions in this list.
    phrases: Vec<String>,
    index: PhraseIndex<u32>,
}

/// A phrase that cannot be matched, and where it is in the list given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct PhraseError {
    pub position: usize,
    problem: String,
}

impl PhraseSet {
    pub fn new<S: AsRef<str>>(
        phrases: impl IntoIterator<Item = S>,
    ) -> Result<PhraseSet, PhraseError> {
        let mut builder = PhraseIndexBuilder::new();
        let mut list = Vec::new();
        for (position, phrase) in phrases.into_iter().enumerate() {
            let phrase = phrase.as_ref();
            builder
                .add(phrase, position as u32)
                .map_err(|problem| PhraseError { position, problem })?;
            list.push(phrase.to_string());
        }
        Ok(PhraseSet {
            phrases: list,
            index: builder.build(),
        })
    }

    /// The phrases as given.
    pub fn phrases(&self) -> &[String] {
        &self.phrases
    }

    /// Whether any of the phrases occurs in `text`, read as [`crate::normalise`] reads it.
    pub fn is_match(&self, text: &str) -> bool {
        let mut found = false;
        let read = crate::normalise::shared().normalise(text);
        self.index
            .find(&self.tokens(read.as_str()), |_, _, _| found = true);
        found
    }

    /// The phrases that occur in `text` (read as [`crate::normalise`] reads it), as given and
    /// in the order given, each once.
    pub fn matches(&self, text: &str) -> Vec<&str> {
        let mut positions = Vec::new();
        let read = crate::normalise::shared().normalise(text);
        self.index
            .find(&self.tokens(read.as_str()), |position, _, _| {
                positions.push(position)
            });
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .map(|p| self.phrases[p as usize].as_str())
            .collect()
    }

    fn tokens(&self, text: &str) -> Tokens {
        let bytes = text.as_bytes();
        let mut tokens = Tokens::default();
        let mut i = 0;
        while i < bytes.len() {
            if is_word_byte(bytes[i]) {
                let start = i;
                let mut key = KEY_START;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    key = key_step(key, i - start, bytes[i]);
                    i += 1;
                }
                let key = key_finish(key, i - start);
                self.index.push_word(&mut tokens, bytes, start, i, key);
                continue;
            }
            // Word bytes are ASCII, so `i` is always at a character boundary here.
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            let end = i + c.len_utf8();
            if !c.is_whitespace() && !joins_words(bytes, i) {
                self.index.push_mark(&mut tokens, bytes, i, end);
            }
            i = end;
        }
        tokens
    }
}

impl Default for PhraseSet {
    /// No phrases: matches nothing.
    fn default() -> PhraseSet {
        PhraseSet {
            phrases: Vec::new(),
            index: PhraseIndexBuilder::new().build(),
        }
    }
}

/// The compiled index follows from the phrases, so they are all a set is compared and
/// printed by.
impl PartialEq for PhraseSet {
    fn eq(&self, other: &PhraseSet) -> bool {
        self.phrases == other.phrases
    }
}

impl std::fmt::Debug for PhraseSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PhraseSet").field(&self.phrases).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(phrases: &[&str]) -> PhraseSet {
        PhraseSet::new(phrases).unwrap()
    }

    /// Each case is a phrase, a text, and whether the phrase occurs in the text.
    fn check(cases: &[(&str, &str, bool)]) {
        for (phrase, text, want) in cases {
            assert_eq!(
                set(&[phrase]).is_match(text),
                *want,
                "{phrase:?} in {text:?}"
            );
        }
    }

    #[test]
    fn phrases_match_whole_words_in_any_case() {
        let cases: &[(&str, &str, bool)] = &[
            ("as an ai", "As an AI, I cannot help with that.", true),
            ("as an ai", "I worked as an aide to the director.", false),
            ("as an ai", "Speaking as an AI: no.", true),
            ("great job", "Great jobs are rare.", false),
            ("canary", "A 'canary' first, then the rest.", true),
            ("canary", "The canary's numbers were fine.", true),
            ("1% of traffic", "Ship it to 21% of traffic.", false),
            ("1% of traffic", "Ship it to 1% of traffic.", true),
        ];
        check(cases);
    }

    #[test]
    fn punctuation_in_a_phrase_must_be_there_in_the_text() {
        let cases: &[(&str, &str, bool)] = &[
            ("tip:", "Tip: ask her what she needs.", true),
            ("tip:", "Tip the balance your way.", false),
            ("i apologize, but i", "I apologize, but I can't.", true),
            ("i apologize, but i", "I apologize, but it ships.", false),
        ];
        check(cases);
    }

    #[test]
    fn line_breaks_and_typographic_apostrophes_do_not_hide_a_phrase() {
        let s = set(&["stay in character", "i'm an ai"]);
        assert!(s.is_match("Let me stay in\ncharacter."));
        assert!(s.is_match("Let me stay   in\u{a0}character."));
        assert!(s.is_match("I\u{2019}m an AI."));
    }

    #[test]
    fn a_compound_matches_with_a_hyphen_or_a_space() {
        let s = set(&["steering group", "kill-switch"]);
        assert!(s.is_match("posting it for the steering-group"));
        assert!(s.is_match("with a kill switch"));
        assert!(s.is_match("with a kill-switch"));
        assert!(set(&["role-play"]).is_match("Let's role play."));
        // A dash between spaced words, or an arrow, is not inside a compound.
        assert!(!s.is_match("the steering - group"));
        assert!(set(&["120 ->"]).is_match("120 -> 180"));
    }

    #[test]
    fn a_star_lets_a_phrase_end_inside_a_longer_word() {
        let cases: &[(&str, &str, bool)] = &[
            ("negotiat*", "We are negotiating.", true),
            ("negotiat*", "A negotiator.", true),
            ("negotiat*", "It is negotiable.", false),
            ("negotiat*", "We renegotiate.", false),
            ("*ability", "Think about reliability.", true),
            ("*ability", "The ability to ship.", true),
            ("*ability", "Our abilities.", false),
        ];
        check(cases);
    }

    #[test]
    fn text_is_read_as_people_type_it_before_phrases_are_found() {
        let s = set(&["what would convince you", "go over your head", "don't"]);
        assert!(s.is_match("ok what would convince u"));
        assert!(s.is_match("i'll go over ur\u{200b} head"));
        assert!(s.is_match("i'll go *over* your\nhead"));
        assert!(s.is_match("dont"));
        assert!(!s.is_match("what would convince them"));
    }

    #[test]
    fn matches_are_reported_once_each_in_the_order_given() {
        let s = set(&["ship", "my instructions", "as an ai"]);
        assert_eq!(
            s.matches("As an AI, my instructions say: ship, ship, ship."),
            ["ship", "my instructions", "as an ai"]
        );
        assert!(s.matches("Nothing here.").is_empty());
        assert!(!PhraseSet::default().is_match("anything"));
    }

    #[test]
    fn a_phrase_that_cannot_match_is_named_with_its_position() {
        let e = PhraseSet::new(["fine", "  "]).unwrap_err();
        assert_eq!(e.position, 1);
        assert_eq!(e.to_string(), "the phrase \"  \" is empty");
        let e = PhraseSet::new(["-*"]).unwrap_err();
        assert_eq!(e.position, 0);
        assert!(e.to_string().contains("must touch a letter"), "{e}");
    }
}
