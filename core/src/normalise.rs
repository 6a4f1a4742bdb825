//! Text as people type it in Discord and Slack, read as a person would, before any phrase is
//! looked for. The scorer, the scripted antagonist's cues and the character-break check all
//! read text through [`shared`], so a zero-width space, a mention or "dont" means the same to
//! each of them.
//!
//! Characters: Unicode NFKC; format characters (zero-width spaces and joiners, soft hyphens,
//! direction marks) and variation selectors removed; emoji, Discord custom emoji and
//! `:shortcodes:` read as a space, so they never end or split a sentence; typographic quotes
//! made straight. Markup: `<@U123>` and `<@!123>` read as `@user` (or their label), `<#C1|name>`
//! as `#name`, links as their label or `link`, `*bold*`, `_italic_`, `~strike~`, `||spoiler||`
//! and code backticks dropped, a `>` line wrapped in quotation marks (it quotes someone),
//! HTML entities decoded. Words: chat shorthand and apostrophe-less contractions, from the
//! table in `prompts/text/shorthand.toml`.
//!
//! The result keeps a map back to the text as typed, so a debrief still quotes what was
//! written, not what it was read as.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;
use unicode_properties::{GeneralCategory, UnicodeEmoji as _, UnicodeGeneralCategory as _};

/// The shorthand table, as named among the embedded prompts.
pub const SHORTHAND_FILE: &str = "text/shorthand.toml";

/// Longest key the table may hold, in bytes: a key is packed into one `u64`.
const MAX_KEY: usize = 8;

/// Why the shorthand table could not be loaded; each message names the file and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormaliseError {
    #[error("{SHORTHAND_FILE}: the file is not among the embedded prompts")]
    Missing,
    #[error("{SHORTHAND_FILE}: {0}")]
    Toml(String),
    #[error("{SHORTHAND_FILE}: `{field}`: {problem}")]
    Field { field: String, problem: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    words: BTreeMap<String, String>,
    #[serde(default)]
    units: BTreeMap<String, String>,
    #[serde(default)]
    context: Vec<RawContext>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContext {
    word: String,
    reads: String,
    #[serde(default)]
    before: Vec<String>,
    #[serde(default)]
    after: Vec<String>,
    otherwise: Option<String>,
}

/// A reading that applies next to certain words.
#[derive(Debug, Clone)]
struct Rule {
    reads: Box<str>,
    before: Vec<u64>,
    after: Vec<u64>,
}

/// What one typed word may stand for.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// Its reading anywhere, or where no rule applies.
    reads: Option<Box<str>>,
    rules: Vec<Rule>,
    /// Its reading right after a number ("2 hr", "5yrs").
    unit: Option<Box<str>>,
}

/// Keys are already well-mixed packed bytes; one multiply spreads them over the table.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Table = HashMap<u64, Entry, BuildHasherDefault<KeyHasher>>;

/// A word's key: up to eight lowercase bytes packed into a `u64`; longer words fold the rest
/// in and set the top bit, which packed ASCII never sets.
fn key_of(word: &[u8]) -> u64 {
    let mut key = 0u64;
    for (i, &b) in word.iter().enumerate() {
        let b = u64::from(b.to_ascii_lowercase());
        key = if i < MAX_KEY {
            key | b << (8 * i)
        } else {
            key.rotate_left(7) ^ b
        };
    }
    if word.len() > MAX_KEY {
        key | 1 << 63
    } else {
        key
    }
}

/// The normalisation, built once from the shorthand table.
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    table: Table,
    /// One bit per hash of every key in `table`: nearly every word typed is not shorthand,
    /// and a clear bit says so without probing the table.
    maybe: Vec<u64>,
}

/// Bits in [`Normaliser::maybe`], as a power of two.
const MAYBE_BITS: u32 = 16;

fn maybe_bit(key: u64) -> usize {
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - MAYBE_BITS)) as usize
}

/// A text as read, with the way back to the text as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalised {
    text: String,
    /// Where the text read differs from the text typed, in order.
    edits: Vec<Edit>,
}

/// `len` bytes at `at` in the text read stand for `from_len` bytes at `from` in the text typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    at: u32,
    len: u32,
    from: u32,
    from_len: u32,
}

impl Normalised {
    /// The text as read.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the text read is byte for byte the text typed.
    pub fn is_unchanged(&self) -> bool {
        self.edits.is_empty()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.edits.clear();
    }

    /// The byte range of the text typed that `range` of the text read came from: what a
    /// quote of that range shows. Both ends fall on character boundaries of the text typed.
    pub fn source(&self, range: Range<usize>) -> Range<usize> {
        let (s, e) = (range.start as u32, range.end as u32);
        // Markup dropped right at either end ("*congrats*") belongs to what was typed there.
        let first_at = self.edits.partition_point(|d| d.at < s);
        let dropped_before = self
            .edits
            .get(first_at)
            .filter(|d| d.at == s && d.len == 0)
            .map(|d| d.from);
        let last_at = self.edits.partition_point(|d| d.at <= e);
        let dropped_after = last_at
            .checked_sub(1)
            .map(|k| self.edits[k])
            .filter(|d| d.at == e && d.len == 0 && e > s)
            .map(|d| d.from + d.from_len);
        let start = dropped_before.unwrap_or_else(|| {
            let i = self.edits.partition_point(|d| d.at <= s);
            match i.checked_sub(1).map(|k| self.edits[k]) {
                None => s,
                Some(d) if s < d.at + d.len => d.from,
                Some(d) => s - (d.at + d.len) + d.from + d.from_len,
            }
        });
        let end = dropped_after.unwrap_or_else(|| {
            let i = self.edits.partition_point(|d| d.at < e);
            match i.checked_sub(1).map(|k| self.edits[k]) {
                None => e,
                Some(d) if e <= d.at + d.len => d.from + d.from_len,
                Some(d) => e - (d.at + d.len) + d.from + d.from_len,
            }
        });
        start as usize..(end.max(start)) as usize
    }
}

/// Builds the text read and its edits. The text is read left to right and whatever is not
/// edited is copied as typed, in one piece per run between edits.
struct Writer<'a> {
    src: &'a str,
    out: &'a mut Normalised,
    /// The text typed up to here is in the output.
    flushed: usize,
}

impl Writer<'_> {
    /// `src[from..to]` reads as typed.
    fn keep(&mut self, from: usize, to: usize) {
        debug_assert!(from >= self.flushed && to >= from);
    }

    fn flush(&mut self, upto: usize) {
        if upto > self.flushed {
            self.out.text.push_str(&self.src[self.flushed..upto]);
            self.flushed = upto;
        }
    }

    fn put(&mut self, from: usize, to: usize, with: &str) {
        if &self.src[from..to] == with {
            return self.keep(from, to);
        }
        self.flush(from);
        self.out.edits.push(Edit {
            at: self.out.text.len() as u32,
            len: with.len() as u32,
            from: from as u32,
            from_len: (to - from) as u32,
        });
        self.out.text.push_str(with);
        self.flushed = to;
    }

    fn drop(&mut self, from: usize, to: usize) {
        self.put(from, to, "");
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters nobody sees: format characters, variation selectors, emoji tags and joiners.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0000}'..='\u{E007F}' | '\u{180B}'..='\u{180D}')
        || c.general_category() == GeneralCategory::Format
}

/// Pictographs, flags and skin tones; ASCII digits, `#` and `*` are emoji too, and are not
/// meant here.
fn is_emoji(c: char) -> bool {
    !c.is_ascii()
        && (c.is_emoji_char_or_emoji_component() || matches!(c, '\u{1F1E6}'..='\u{1F1FF}'))
        && !matches!(c, '\u{00A9}' | '\u{00AE}' | '\u{2122}')
}

fn typographic_quote(c: char) -> Option<&'static str> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => Some("'"),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => Some("\""),
        _ => None,
    }
}

impl Normaliser {
    /// The normaliser built from the embedded shorthand table.
    pub fn embedded() -> Result<Normaliser, NormaliseError> {
        Normaliser::parse(crate::embedded::prompt(SHORTHAND_FILE).ok_or(NormaliseError::Missing)?)
    }

    /// Builds a normaliser from the text of a shorthand table.
    pub fn parse(text: &str) -> Result<Normaliser, NormaliseError> {
        let raw: RawTable =
            toml::from_str(text).map_err(|e| NormaliseError::Toml(e.message().to_string()))?;
        let field = |field: String, problem: &str| NormaliseError::Field {
            field,
            problem: problem.to_string(),
        };
        let check_key = |name: String, key: &str| -> Result<u64, NormaliseError> {
            let ok = !key.is_empty()
                && key.len() <= MAX_KEY
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'/');
            if ok {
                Ok(key_of(key.as_bytes()))
            } else {
                Err(field(
                    name,
                    "a key is 1 to 8 lowercase ASCII letters, digits or `/`",
                ))
            }
        };
        let check_reading = |name: String, reading: &str| {
            if reading.trim().is_empty() || !reading.is_ascii() {
                Err(field(name, "a reading is non-empty ASCII text"))
            } else {
                Ok(Box::<str>::from(reading))
            }
        };
        let mut table = Table::default();
        for (word, reads) in &raw.words {
            let key = check_key(format!("words.{word}"), word)?;
            table.entry(key).or_default().reads =
                Some(check_reading(format!("words.{word}"), reads)?);
        }
        for (word, reads) in &raw.units {
            let key = check_key(format!("units.{word}"), word)?;
            table.entry(key).or_default().unit =
                Some(check_reading(format!("units.{word}"), reads)?);
        }
        for (i, rule) in raw.context.into_iter().enumerate() {
            let name = format!("context[{i}]");
            let key = check_key(format!("{name}.word"), &rule.word)?;
            if rule.before.is_empty() && rule.after.is_empty() {
                return Err(field(name, "needs `before` or `after` words"));
            }
            let reads = check_reading(format!("{name}.reads"), &rule.reads)?;
            let keys = |list: &[String]| list.iter().map(|w| key_of(w.as_bytes())).collect();
            let entry = table.entry(key).or_default();
            entry.rules.push(Rule {
                reads,
                before: keys(&rule.before),
                after: keys(&rule.after),
            });
            if let Some(otherwise) = &rule.otherwise {
                if entry.reads.is_some() {
                    return Err(field(
                        format!("{name}.otherwise"),
                        "the word already has a reading",
                    ));
                }
                entry.reads = Some(check_reading(format!("{name}.otherwise"), otherwise)?);
            }
        }
        let mut maybe = vec![0u64; (1 << MAYBE_BITS) / 64];
        for &key in table.keys() {
            let bit = maybe_bit(key);
            maybe[bit / 64] |= 1 << (bit % 64);
        }
        Ok(Normaliser { table, maybe })
    }

    /// What the word with this key may stand for, if it is in the table.
    #[inline]
    fn entry(&self, key: u64) -> Option<&Entry> {
        let bit = maybe_bit(key);
        if self
            .maybe
            .get(bit / 64)
            .is_none_or(|w| w & (1 << (bit % 64)) == 0)
        {
            return None;
        }
        self.table.get(&key)
    }

    /// `text` as read.
    pub fn normalise(&self, text: &str) -> Normalised {
        let mut out = Normalised::default();
        self.normalise_into(text, &mut out);
        out
    }

    /// [`Normaliser::normalise`] into a buffer kept from an earlier text.
    pub fn normalise_into(&self, text: &str, out: &mut Normalised) {
        out.clear();
        let mut w = Writer {
            src: text,
            out,
            flushed: 0,
        };
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut i = 0;
        // Only spaces so far on this line: a `>` here quotes someone.
        let mut line_start = true;
        let mut quoting = false;
        let mut quoting_rest = false;
        let mut prev_word = 0u64;
        let mut prev_number = false;
        while i < n {
            let b = bytes[i];
            if is_word_byte(b) {
                i = self.word(&mut w, i, &mut prev_word, &mut prev_number);
                line_start = false;
                continue;
            }
            if b >= 0x80 {
                i = self.other_char(&mut w, i);
                line_start = false;
                continue;
            }
            let was_line_start = line_start;
            line_start = b == b'\n' || (line_start && (b == b' ' || b == b'\t'));
            if b != b' ' && b != b'\t' && b != b'/' {
                prev_word = 0;
                prev_number = false;
            }
            match b {
                b'\n' => {
                    if quoting && !quoting_rest {
                        w.put(i, i, "\"");
                        quoting = false;
                    }
                    w.keep(i, i + 1);
                    i += 1;
                }
                b'>' if was_line_start && !quoting => {
                    let rest = bytes[i..].starts_with(b">>>");
                    let end = if rest { i + 3 } else { i + 1 };
                    if end >= n || bytes[end] == b' ' {
                        let end = (end + 1).min(n);
                        w.put(i, end, "\"");
                        quoting = true;
                        quoting_rest = rest;
                        i = end;
                    } else {
                        w.keep(i, i + 1);
                        i += 1;
                    }
                }
                b'&' if was_line_start && !quoting && bytes[i..].starts_with(b"&gt; ") => {
                    w.put(i, i + 5, "\"");
                    quoting = true;
                    i += 5;
                }
                b'&' => i = entity(&mut w, i),
                b'<' => i = angle(&mut w, i),
                b'*' | b'`' => {
                    let end = run(bytes, i, b);
                    w.drop(i, end);
                    i = end;
                }
                b'~' => {
                    let end = run(bytes, i, b);
                    // "~2k" and "~$40" are about, not struck through.
                    let approx = end - i == 1
                        && bytes
                            .get(end)
                            .is_some_and(|c| c.is_ascii_digit() || *c == b'$');
                    if approx {
                        w.keep(i, end);
                    } else {
                        w.drop(i, end);
                    }
                    i = end;
                }
                b'|' if bytes.get(i + 1) == Some(&b'|') => {
                    w.drop(i, i + 2);
                    i += 2;
                }
                b':' => i = shortcode(&mut w, i),
                _ => {
                    w.keep(i, i + 1);
                    i += 1;
                }
            }
        }
        if quoting {
            w.put(n, n, "\"");
        }
        w.flush(n);
    }

    /// Reads the word at `start` (and a link, a unit glued to a number, or a `w/`-style key),
    /// writes what it stands for, and returns where reading goes on.
    fn word(
        &self,
        w: &mut Writer,
        start: usize,
        prev_word: &mut u64,
        prev_number: &mut bool,
    ) -> usize {
        let bytes = w.src.as_bytes();
        let n = bytes.len();
        let mut end = start;
        while end < n && is_word_byte(bytes[end]) {
            end += 1;
        }
        let word = &bytes[start..end];
        // Links are read as a reference, not as the words in their address.
        let lower_is = |s: &[u8]| word.eq_ignore_ascii_case(s);
        let maybe_link = matches!(bytes.get(end), Some(b':' | b'.'));
        if maybe_link
            && ((lower_is(b"http") || lower_is(b"https")) && bytes[end..].starts_with(b"://")
                || lower_is(b"www") && bytes.get(end) == Some(&b'.'))
        {
            let mut stop = end;
            while stop < n && !bytes[stop].is_ascii_whitespace() && bytes[stop] != b'>' {
                stop += 1;
            }
            while stop > end
                && matches!(
                    bytes[stop - 1],
                    b'.' | b',' | b';' | b':' | b'!' | b'?' | b')'
                )
            {
                stop -= 1;
            }
            w.put(start, stop, "link");
            *prev_word = 0;
            return stop;
        }
        // `_italic_`: the underscores are emphasis, not part of the word.
        let lead = word.iter().take_while(|&&b| b == b'_').count();
        let trail = word.iter().rev().take_while(|&&b| b == b'_').count();
        if lead == word.len() {
            w.drop(start, end);
            return end;
        }
        if lead > 0 {
            w.drop(start, start + lead);
        }
        let (ws, we) = (start + lead, end - trail);
        let after_apostrophe = w.src[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c == '\'' || typographic_quote(c) == Some("'"));
        let resume = if after_apostrophe {
            w.keep(ws, we);
            we
        } else {
            self.read_word(w, ws, we, *prev_word, *prev_number)
        };
        if trail > 0 && resume == we {
            w.drop(we, end);
        }
        let word = &bytes[ws..we];
        *prev_number = word.iter().all(u8::is_ascii_digit);
        *prev_word = key_of(word);
        if resume == we { end } else { resume }
    }

    /// Writes the reading of the word `src[start..end]`; returns where reading goes on, past
    /// any `/key` it took in.
    fn read_word(
        &self,
        w: &mut Writer,
        start: usize,
        end: usize,
        prev_word: u64,
        prev_number: bool,
    ) -> usize {
        let bytes = w.src.as_bytes();
        let word = &bytes[start..end];
        if word.len() > MAX_KEY || self.table.is_empty() {
            w.keep(start, end);
            return end;
        }
        // "w/o", "b/c", then "w/" before a word.
        if bytes.get(end) == Some(&b'/') {
            let mut next = end + 1;
            while next < bytes.len() && bytes[next].is_ascii_alphanumeric() {
                next += 1;
            }
            let longest = (next > end + 1).then_some(next);
            for stop in longest.into_iter().chain([end + 1]) {
                if stop - start > MAX_KEY {
                    continue;
                }
                if let Some(reads) = self
                    .entry(key_of(&bytes[start..stop]))
                    .and_then(|e| e.reads.as_deref())
                {
                    if stop == end + 1 && next > stop {
                        w.put(start, stop, &format!("{reads} "));
                    } else {
                        w.put(start, stop, reads);
                    }
                    return stop;
                }
            }
        }
        // "5yrs": a number with a unit glued on.
        let digits = word.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && digits < word.len() {
            let unit = self
                .entry(key_of(&word[digits..]))
                .and_then(|e| e.unit.as_deref());
            match unit {
                Some(unit) => {
                    w.keep(start, start + digits);
                    w.put(start + digits, end, &format!(" {unit}"));
                }
                None => w.keep(start, end),
            }
            return end;
        }
        let Some(entry) = self.entry(key_of(word)) else {
            w.keep(start, end);
            return end;
        };
        let reading = if prev_number && entry.unit.is_some() {
            entry.unit.as_deref()
        } else {
            let next = next_word_key(bytes, end);
            entry
                .rules
                .iter()
                .find(|r| r.before.contains(&next) || r.after.contains(&prev_word))
                .map(|r| &*r.reads)
                .or(entry.reads.as_deref())
        };
        match reading {
            Some(reads) => w.put(start, end, reads),
            None => w.keep(start, end),
        }
        end
    }

    /// Writes the non-ASCII character at `i` as read; returns the index after it.
    fn other_char(&self, w: &mut Writer, i: usize) -> usize {
        let src = w.src;
        let Some(c) = src[i..].chars().next() else {
            return src.len();
        };
        let mut end = i + c.len_utf8();
        if is_invisible(c) {
            w.drop(i, end);
            return end;
        }
        if let Some(q) = typographic_quote(c) {
            w.put(i, end, q);
            return end;
        }
        if is_emoji(c) {
            // A run of emoji, joiners and modifiers is one space.
            for next in src[end..].chars() {
                if is_emoji(next) || is_invisible(next) {
                    end += next.len_utf8();
                } else {
                    break;
                }
            }
            w.put(i, end, " ");
            return end;
        }
        for next in src[end..].chars() {
            if is_combining_mark(next) {
                end += next.len_utf8();
            } else {
                break;
            }
        }
        let cluster = &src[i..end];
        if unicode_normalization::is_nfkc_quick(cluster.chars())
            == unicode_normalization::IsNormalized::Yes
        {
            w.keep(i, end);
        } else {
            let read: String = cluster.nfkc().collect();
            w.put(i, end, &read);
        }
        end
    }
}

/// The key of the word after `from`, across spaces; 0 when there is none.
fn next_word_key(bytes: &[u8], from: usize) -> u64 {
    let mut i = from;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    let start = i;
    while i < bytes.len() && (is_word_byte(bytes[i]) || bytes[i] == b'\'') {
        i += 1;
    }
    if i == start {
        0
    } else {
        key_of(&bytes[start..i])
    }
}

/// Where the run of `b` starting at `i` ends.
fn run(bytes: &[u8], i: usize, b: u8) -> usize {
    let mut end = i;
    while end < bytes.len() && bytes[end] == b {
        end += 1;
    }
    end
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;` and `&nbsp;`, as Slack sends them.
fn entity(w: &mut Writer, i: usize) -> usize {
    const ENTITIES: [(&[u8], &str); 7] = [
        (b"&amp;", "&"),
        (b"&lt;", "<"),
        (b"&gt;", ">"),
        (b"&quot;", "\""),
        (b"&#39;", "'"),
        (b"&apos;", "'"),
        (b"&nbsp;", " "),
    ];
    let rest = &w.src.as_bytes()[i..];
    for (name, reads) in ENTITIES {
        if rest.starts_with(name) {
            w.put(i, i + name.len(), reads);
            return i + name.len();
        }
    }
    w.keep(i, i + 1);
    i + 1
}

/// Slack and Discord markup in angle brackets: mentions, channels, links, custom emoji and
/// timestamps. Anything else ("p99 <150") is kept as typed.
fn angle(w: &mut Writer, i: usize) -> usize {
    let bytes = w.src.as_bytes();
    let close = bytes[i + 1..]
        .iter()
        .take(300)
        .position(|&b| b == b'>' || b == b'\n' || b == b'<')
        .map(|p| i + 1 + p)
        .filter(|&p| bytes[p] == b'>');
    let Some(close) = close else {
        w.keep(i, i + 1);
        return i + 1;
    };
    let inner = &w.src[i + 1..close];
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(l.trim()).filter(|l| !l.is_empty())),
        None => (inner, None),
    };
    let no_space = !target.contains(char::is_whitespace) && !target.is_empty();
    let reads: Option<String> = if !no_space {
        None
    } else if let Some(id) = target.strip_prefix('@') {
        let id = id.trim_start_matches(['!', '&']);
        (!id.is_empty()).then(|| match label {
            Some(l) => format!("@{}", l.trim_start_matches('@')),
            None => "@user".to_string(),
        })
    } else if target.starts_with('#') {
        Some(match label {
            Some(l) => format!("#{}", l.trim_start_matches('#')),
            None => "#channel".to_string(),
        })
    } else if let Some(special) = target.strip_prefix('!') {
        Some(match label {
            Some(l) => l.to_string(),
            None => format!("@{}", special.split('^').next().unwrap_or("here")),
        })
    } else if ["http://", "https://", "mailto:", "ftp://"]
        .iter()
        .any(|p| target.len() > p.len() && target[..p.len()].eq_ignore_ascii_case(p))
    {
        Some(label.map_or_else(|| "link".to_string(), str::to_string))
    } else if target.starts_with(':') || target.starts_with("a:") || target.starts_with("t:") {
        Some(" ".to_string())
    } else {
        None
    };
    match reads {
        Some(reads) => {
            w.put(i, close + 1, &reads);
            close + 1
        }
        None => {
            w.keep(i, i + 1);
            i + 1
        }
    }
}

/// `:thumbsup:` and `:skin-tone-2:` are emoji, read as a space; "10:30" and "note: this" are
/// not shortcodes.
fn shortcode(w: &mut Writer, i: usize) -> usize {
    let bytes = w.src.as_bytes();
    let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
    let mut j = i + 1;
    let mut letter = false;
    while j < bytes.len() && j - i <= 64 {
        let b = bytes[j];
        if b.is_ascii_lowercase() || b.is_ascii_uppercase() {
            letter = true;
        } else if !(b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'-')) {
            break;
        }
        j += 1;
    }
    let closed = j > i + 1 && bytes.get(j) == Some(&b':');
    let after_ok = bytes.get(j + 1).is_none_or(|b| !b.is_ascii_alphanumeric());
    if before_ok && closed && letter && after_ok {
        w.put(i, j + 1, " ");
        return j + 1;
    }
    w.keep(i, i + 1);
    i + 1
}

/// The normaliser every part of Spar reads text through, built from the embedded table.
pub fn shared() -> &'static Normaliser {
    static SHARED: std::sync::LazyLock<Normaliser> =
        std::sync::LazyLock::new(|| Normaliser::embedded().unwrap_or_default());
    &SHARED
}

/// `text` as read, in lower case with every run of whitespace as one space: the form in which
/// one text can be looked for inside another.
pub fn folded(text: &str) -> String {
    shared()
        .normalise(text)
        .as_str()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> String {
        shared().normalise(text).as_str().to_string()
    }

    #[test]
    fn the_embedded_shorthand_table_loads() {
        if let Err(e) = Normaliser::embedded() {
            panic!("{e}");
        }
    }

    #[test]
    fn unicode_is_read_in_its_compatibility_form_and_invisible_characters_are_gone() {
        let cases: &[(&str, &str)] = &[
            ("go over your\u{a0}head", "go over your head"),
            ("esca\u{200b}late", "escalate"),
            ("es\u{ad}ca\u{200d}late", "escalate"),
            ("\u{feff}fine", "fine"),
            ("ｅｓｃａｌａｔｅ", "escalate"),
            ("the \u{FB01}nal call", "the final call"),
            ("I\u{2019}m sure", "I'm sure"),
            ("\u{201c}ship it\u{201d}", "\"ship it\""),
            ("wait\u{2026} what", "wait... what"),
        ];
        for (typed, want) in cases {
            assert_eq!(read(typed), *want, "{typed:?}");
        }
    }

    #[test]
    fn every_word_of_the_table_passes_the_quick_check() {
        let normaliser = shared();
        assert!(!normaliser.table.is_empty());
        for &key in normaliser.table.keys() {
            assert!(normaliser.entry(key).is_some(), "{key:x}");
        }
    }

    #[test]
    fn emoji_read_as_a_space_and_never_end_a_sentence() {
        let cases: &[(&str, &str)] = &[
            ("ok 👍 lets run it", "ok   let's run it"),
            (
                "pick which one wins 🤷\u{200d}♂\u{fe0f}",
                "pick which one wins  ",
            ),
            ("nice :tada: ship", "nice   ship"),
            ("at 10:30: ok", "at 10:30: ok"),
            ("thanks <:pepe:12345>", "thanks  "),
            ("🇺🇸 traffic", "  traffic"),
        ];
        for (typed, want) in cases {
            assert_eq!(read(typed), *want, "{typed:?}");
        }
    }

    #[test]
    fn discord_and_slack_markup_reads_as_a_person_reads_it() {
        let cases: &[(&str, &str)] = &[
            ("<@U03KMGR1> can u jump in", "@user can you jump in"),
            ("<@!1234> hi", "@user hi"),
            ("<@U1|dana> thoughts?", "@dana thoughts?"),
            (
                "posting in <#C123|serving-leads>",
                "posting in #serving-leads",
            ),
            ("see <https://x.io/a?b=c|the doc>", "see the doc"),
            ("see <https://x.io/escalate>", "see link"),
            ("see https://x.io/take-it-to-the-vp.", "see link."),
            ("this is *really* _not_ ok", "this is really not ok"),
            ("~~your ego~~ your concern", "your ego your concern"),
            ("||spoiler||", "spoiler"),
            (
                "run `serve_bench.yaml` w/ cache_hit_rate",
                "run serve_bench.yaml with cache_hit_rate",
            ),
            ("p99 <150ms and ~2k qps", "p99 <150ms and ~2k qps"),
            ("a &amp; b &lt;3", "a & b <3"),
        ];
        for (typed, want) in cases {
            assert_eq!(read(typed), *want, "{typed:?}");
        }
    }

    #[test]
    fn a_quoted_line_reads_as_a_quotation() {
        assert_eq!(
            read("> we ship friday\nnot happening"),
            "\"we ship friday\"\nnot happening"
        );
        assert_eq!(
            read("&gt; its ads' problem\nit isnt"),
            "\"its ads' problem\"\nit isn't"
        );
        assert_eq!(read(">>> a\nb"), "\"a\nb\"");
        assert_eq!(read("p99 > 180ms"), "p99 > 180ms");
    }

    #[test]
    fn shorthand_reads_as_the_words_it_stands_for() {
        let cases: &[(&str, &str)] = &[
            ("u cant just grab ppl", "you can't just grab people"),
            ("im ok w/ it tho", "i'm ok with it though"),
            ("w/o a canary", "without a canary"),
            (
                "idk, tbh imo its fine",
                "i don't know, to be honest in my opinion its fine",
            ),
            ("ur right", "you're right"),
            ("ur team always", "your team always"),
            ("id rather not", "i'd rather not"),
            ("the request id is 7", "the request id is 7"),
            ("results wed", "results wednesday"),
            ("wed need more data", "we'd need more data"),
            ("5yrs and 2 hr", "5 years and 2 hours"),
            ("HR and my skip-level", "HR and my skip-level"),
            ("our dir", "our director"),
            ("ready by thurs eod", "ready by thursday end of day"),
            ("c'mon", "c'mon"),
            ("DONT", "don't"),
            ("jk lol", "just kidding lol"),
        ];
        for (typed, want) in cases {
            assert_eq!(read(typed), *want, "{typed:?}");
        }
    }

    #[test]
    fn a_range_of_the_text_read_maps_back_to_what_was_typed() {
        let typed = "ok <@U1> u cant *really* mean that 👍 lol";
        let n = shared().normalise(typed);
        let text = n.as_str();
        for word in ["@user", "you", "can't", "really", "mean that", "lol"] {
            let at = text
                .find(word)
                .unwrap_or_else(|| panic!("{word} in {text:?}"));
            let r = n.source(at..at + word.len());
            let shown = &typed[r];
            assert!(!shown.is_empty(), "{word}");
            match word {
                "@user" => assert_eq!(shown, "<@U1>"),
                "you" => assert_eq!(shown, "u"),
                "can't" => assert_eq!(shown, "cant"),
                "really" => assert_eq!(shown, "*really*", "emphasis stays with its word"),
                "mean that" => assert_eq!(shown, "mean that"),
                _ => assert_eq!(shown, "lol"),
            }
        }
        let whole = n.source(0..text.len());
        assert_eq!(&typed[whole], typed);
        let bold = "*congrats* on it";
        let n = shared().normalise(bold);
        assert_eq!(&bold[n.source(0.."congrats".len())], "*congrats*");
        assert!(shared().normalise("Nothing to change here.").is_unchanged());
    }

    #[test]
    fn a_broken_table_names_the_field() {
        let e = Normaliser::parse("[words]\n\"waytoolongkey\" = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("`words.waytoolongkey`"), "{e}");
        let e = Normaliser::parse("[words]\n[[context]]\nword = \"ur\"\nreads = \"you're\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("`context[0]`"), "{e}");
    }

    #[test]
    fn folded_text_is_lower_case_on_one_line() {
        assert_eq!(folded("Ship  IT\n\u{200b}now"), "ship it now");
    }
}
