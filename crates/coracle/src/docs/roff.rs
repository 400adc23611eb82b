//! Writing roff text for the man macros: escapes and fonts.

/// `text` escaped for a roff text line: backslashes, dashes (so options
/// stay ASCII hyphen-minus), quotes and every non-ASCII character.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '\'' => out.push_str("\\(aq"),
            '`' => out.push_str("\\(ga"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("\\[u{:04X}]", u32::from(c))),
        }
    }
    out
}

/// `text` in bold, as for literal words such as commands and flags.
pub fn bold(text: &str) -> String {
    format!("\\fB{}\\fR", escape(text))
}

/// `text` in italics, as for words to replace such as argument names.
pub fn italic(text: &str) -> String {
    format!("\\fI{}\\fR", escape(text))
}

/// A help line from the table as a sentence: with a full stop, and
/// capitalised unless its first word is a name such as `process.json`.
pub fn sentence(help: &str) -> String {
    let first_word = help.split(' ').next().unwrap_or_default();
    let mut out = if first_word
        .chars()
        .all(|c| c.is_ascii_alphabetic() || c == '-')
    {
        capitalised(help)
    } else {
        help.to_string()
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    escape(&out)
}

/// `text` with its first letter in upper case.
fn capitalised(text: &str) -> String {
    with_first(text, |c| c.to_ascii_uppercase())
}

/// `text` with its first letter in lower case.
pub fn uncapitalised(text: &str) -> String {
    with_first(text, |c| c.to_ascii_lowercase())
}

/// `text` with `change` applied to its first character.
fn with_first(text: &str, change: fn(&char) -> char) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| change(&c));
    first.into_iter().chain(chars).collect()
}

/// Appends `line` and a newline to `out`, guarding a leading `.` or `'`
/// that roff would read as a request.
pub fn push_line(out: &mut String, line: &str) {
    if line.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_roff_would_interpret() {
        assert_eq!(escape("--root"), "\\-\\-root");
        assert_eq!(escape("a\\b 'q'"), "a\\eb \\(aqq\\(aq");
        assert_eq!(escape("3…"), "3\\[u2026]");
        assert_eq!(bold("-b"), "\\fB\\-b\\fR");
    }

    #[test]
    fn help_lines_become_sentences() {
        assert_eq!(sentence("show this help"), "Show this help.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("process.json to run"), "process.json to run.");
        let mut out = String::new();
        push_line(&mut out, ".x");
        assert_eq!(out, "\\&.x\n");
    }
}
