//! A bound on how deeply YAML text nests, found before the text is parsed.
//!
//! libyaml (under yaml_serde) turns a whole document into events before yaml_serde's own recursion limit of 128
//! applies, and its time grows much faster than the nesting: a file of 100,000 nested `[` took 43 s to be refused.
//! Configuration nests a few levels (`storage.results.options.KEY`), so text nesting deeper than [`MAX_DEPTH`] is
//! refused before the parser sees it, in one linear pass.
//!
//! The scan counts what opens a level without parsing: a flow collection (`[` or `{` where a value starts, or
//! anywhere inside another flow collection), each deeper indentation of a block line, and each `- ` or `? `
//! indicator on a line. It skips quoted scalars, comments and the lines of block scalars (`|`, `>`), whose brackets
//! are text. It may count a level or two more than the parser does (an indented continuation of a plain scalar, a
//! plain `- item`), which matters only near the limit; it never misses a flow level, and block nesting deeper than
//! what it counts would need a sequence directly under a key at every level, which yaml_serde's 128 still bounds.

/// Deepest nesting accepted in a configuration file or a `--set`/environment value.
pub const MAX_DEPTH: usize = 64;

/// The 1-based line where `text` first nests deeper than `limit`, if it does.
pub(crate) fn too_deep_at(text: &str, limit: usize) -> Option<usize> {
    let mut scan = Scan::default();
    for (index, line) in text.lines().enumerate() {
        if scan.line(line) > limit {
            return Some(index + 1);
        }
    }
    None
}

#[derive(Default)]
struct Scan {
    /// Open flow collections.
    flow: usize,
    /// Indentation columns of the open block levels, increasing.
    indents: Vec<usize>,
    /// The quote character of a quoted scalar that continues on the next line.
    quote: Option<char>,
    /// The indentation of the line that started a block scalar whose lines are being skipped.
    block_scalar: Option<usize>,
}

impl Scan {
    /// Scans one line and returns the deepest nesting seen on it.
    fn line(&mut self, line: &str) -> usize {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        if let Some(parent) = self.block_scalar {
            if content.is_empty() || indent > parent {
                return 0;
            }
            self.block_scalar = None;
        }
        if self.quote.is_none() && self.flow == 0 {
            if content.is_empty() || content.starts_with('#') {
                return 0;
            }
            while self.indents.last().is_some_and(|&open| open > indent) {
                self.indents.pop();
            }
            if self.indents.last() != Some(&indent) {
                self.indents.push(indent);
            }
        }
        let (mut indicators, mut deepest) = (0, 0);
        // Whether the next character starts a node (so `[`, `{` or a quote there opens one).
        let mut at_value = true;
        let mut after_space = true;
        // A `|` or `>` where a value starts, possibly followed by its indicators: a block scalar begins.
        let mut block_header = false;
        let mut chars = content.chars().peekable();
        while let Some(c) = chars.next() {
            let next_is_space = chars.peek().is_none_or(|n| n.is_whitespace());
            match self.quote {
                Some('"') => match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => self.quote = None,
                    _ => {}
                },
                Some(_) => {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            self.quote = None;
                        }
                    }
                }
                None => match c {
                    '#' if after_space => break,
                    '"' | '\'' if at_value => {
                        self.quote = Some(c);
                        at_value = false;
                    }
                    '[' | '{' if at_value || self.flow > 0 => {
                        self.flow += 1;
                        at_value = true;
                    }
                    ']' | '}' if self.flow > 0 => {
                        self.flow -= 1;
                        at_value = false;
                    }
                    ',' if self.flow > 0 => at_value = true,
                    '-' | '?' if at_value && next_is_space && self.flow == 0 => indicators += 1,
                    ':' if next_is_space || self.flow > 0 => at_value = true,
                    '|' | '>' if at_value && self.flow == 0 => {
                        block_header = true;
                        at_value = false;
                    }
                    c if c.is_whitespace() => {}
                    '+' | '-' | '0'..='9' if block_header => {}
                    _ => {
                        at_value = false;
                        block_header = false;
                    }
                },
            }
            after_space = c.is_whitespace();
            deepest = deepest.max(self.indents.len() + indicators + self.flow);
        }
        if block_header && self.quote.is_none() {
            self.block_scalar = Some(indent);
        }
        deepest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> usize {
        (0..100).find(|&limit| too_deep_at(text, limit).is_none()).unwrap()
    }

    #[test]
    fn flow_and_block_nesting_are_counted() {
        assert_eq!(depth("a: 1\n"), 1);
        assert_eq!(depth("a:\n  b:\n    c: 1\n"), 3);
        assert_eq!(depth("a: [[[1]]]\n"), 4);
        assert_eq!(depth("a: {b: [c, {d: 1}]}\n"), 4);
        assert_eq!(depth("- - - a\n"), 4);
        assert_eq!(depth("[[[[\n[[\n"), 7);
        assert_eq!(too_deep_at("a:\n  b: [[[[\n", 4), Some(2));
    }

    #[test]
    fn brackets_that_are_text_are_not_levels() {
        assert_eq!(depth("a: '[[[[ it''s ]'\nb: \"[[ \\\" [[\"\n"), 1);
        assert_eq!(depth("a: x[[[[[\n# [[[[[[\nb: 1 # [[[[\n"), 1);
        assert_eq!(depth("a: |\n  [[[[[[\n  {{{{{{\nb: >-\n  [[[[[\nc: 1\n"), 1);
        assert_eq!(depth("a: 'multi\n  [[[[[ line'\nb: 1\n"), 1);
        assert_eq!(depth("a:[[[[\n"), 1);
    }

    #[test]
    fn the_pathological_file_is_refused_at_once() {
        let text = "[".repeat(100_000);
        let started = std::time::Instant::now();
        assert_eq!(too_deep_at(&text, MAX_DEPTH), Some(1));
        assert!(started.elapsed().as_secs() < 1);
        let lines: String = (0..1000).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert_eq!(too_deep_at(&lines, MAX_DEPTH), Some(MAX_DEPTH + 1));
    }
}
