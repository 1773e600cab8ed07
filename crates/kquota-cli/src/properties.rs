//! Java `.properties` files (the `--command-config` of Kafka's tools) and `sasl.jaas.config`.
//!
//! The syntax follows `java.util.Properties.load`: `#`/`!` comments, `key=value`, `key: value`
//! or `key value`, backslash line continuations, `\t \n \r \f \uXXXX` escapes.
//!
//! Encoding: Kafka's tools load these files with `Properties.load(InputStream)`, which reads
//! every byte as one ISO-8859-1 character (unlike Java 9+ `PropertyResourceBundle`, which tries
//! UTF-8 first). [`read_file`] does the same, so a file means the same to kquota and to
//! kafka-configs.sh: ASCII files (UTF-8 or not) read identically, Latin-1 files work, and
//! non-ASCII UTF-8 text becomes one Latin-1 character per byte, exactly as in Java; kquota warns
//! about the latter, since it is rarely what the author meant (`\uXXXX` is the portable way).
//!
//! Written here rather than taken from the `java-properties` crate: that crate pulls in `regex`,
//! `encoding_rs` and `lazy_static` for a 100-line job, and the CLI must stay small.

use std::fmt;

/// One `key=value` with the line it started on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The key (escapes resolved).
    pub key: String,
    /// The value (escapes resolved, continuation lines joined).
    pub value: String,
    /// The line the entry starts on.
    pub line: usize,
}

/// A syntax error in a properties file or JAAS string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line (0 when not from a file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for SyntaxError {}

/// A properties file's text as Java sees it, with a warning when it looks like UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedFile {
    /// The text, each byte of the file one ISO-8859-1 character.
    pub text: String,
    /// `FILE:LINE: ...` when the file has non-ASCII bytes that form valid UTF-8 (they are read
    /// as Latin-1 all the same).
    pub warning: Option<String>,
}

/// Reads a properties file the way `java.util.Properties.load(InputStream)` does: ISO-8859-1.
pub fn read_file(path: &std::path::Path) -> std::io::Result<LoadedFile> {
    Ok(decode_latin1(
        &std::fs::read(path)?,
        &path.display().to_string(),
    ))
}

/// Decodes bytes as ISO-8859-1 (byte `b` is `U+00bb`); `name` goes into the warning.
pub fn decode_latin1(bytes: &[u8], name: &str) -> LoadedFile {
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let warning = (!bytes.is_ascii() && std::str::from_utf8(bytes).is_ok()).then(|| {
        let at = bytes.iter().position(|b| !b.is_ascii()).unwrap_or(0);
        let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
        format!(
            "{name}:{line}: non-ASCII UTF-8 text is read as ISO-8859-1, one character per byte, as Java's Properties.load reads it; write such characters as \\uXXXX"
        )
    });
    LoadedFile { text, warning }
}

/// Parses properties text. Later duplicates win, like Java; callers can warn about duplicates.
pub fn parse(text: &str) -> Result<Vec<Property>, SyntaxError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        let first = lines[i].trim_start_matches([' ', '\t', '\x0c']);
        i += 1;
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        // Join continuation lines: an odd number of trailing backslashes continues the line.
        let mut logical = String::from(first);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            if i >= lines.len() {
                break;
            }
            logical.push_str(lines[i].trim_start_matches([' ', '\t', '\x0c']));
            i += 1;
        }
        let (raw_key, raw_value) = split_key_value(&logical);
        let key = unescape(raw_key, start)?;
        let value = unescape(raw_value, start)?;
        out.push(Property {
            key,
            value,
            line: start,
        });
    }
    Ok(out)
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits at the first unescaped `=`, `:` or whitespace, skipping the separator and the
/// whitespace around it.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut j = 0;
    let mut escaped = false;
    while j < bytes.len() {
        let b = bytes[j];
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if matches!(b, b'=' | b':' | b' ' | b'\t' | b'\x0c') {
            break;
        }
        j += 1;
    }
    let key = &line[..j];
    let mut rest = line[j..].trim_start_matches([' ', '\t', '\x0c']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        if !line[j..].starts_with(['=', ':']) || !rest.is_empty() {
            rest = r.trim_start_matches([' ', '\t', '\x0c']);
        } else {
            rest = r;
        }
    }
    (key, rest)
}

fn unescape(s: &str, line: usize) -> Result<String, SyntaxError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            None => {}
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| SyntaxError {
                        line,
                        message: format!("malformed \\uXXXX escape '\\u{hex}'"),
                    })?;
                // Surrogate pairs are written as two escapes; decode them together.
                if (0xD800..0xDC00).contains(&code) {
                    let rest: String = chars.clone().take(6).collect();
                    if let Some(low) = rest
                        .strip_prefix("\\u")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        for _ in 0..6 {
                            chars.next();
                        }
                        let c = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                        continue;
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
        }
    }
    Ok(out)
}

/// One login module entry of a `sasl.jaas.config` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasEntry {
    /// Fully qualified login module class.
    pub module: String,
    /// `required`, `requisite`, `sufficient` or `optional`.
    pub flag: String,
    /// Options in order.
    pub options: Vec<(String, String)>,
}

impl JaasEntry {
    /// An option's value.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `sasl.jaas.config` value: `Module flag key="value" key2=value2;` (Kafka's
/// `JaasConfig` grammar; quoted values may contain spaces and `\"`). Secrets are never put in
/// error messages.
pub fn parse_jaas(text: &str) -> Result<Vec<JaasEntry>, SyntaxError> {
    // The caller names the property (and its file:line) around this message.
    let e = |m: &str| SyntaxError {
        line: 0,
        message: m.to_string(),
    };
    let mut toks = JaasTokens { s: text, pos: 0 };
    let mut entries = Vec::new();
    while let Some(module) = toks.next_token().map_err(|m| e(&m))? {
        let Tok::Word(module) = module else {
            return Err(e("expected a login module class name"));
        };
        let flag = match toks.next_token().map_err(|m| e(&m))? {
            Some(Tok::Word(f)) if matches!(f.as_str(), "required" | "requisite" | "sufficient" | "optional") => f,
            _ => return Err(e(&format!("login module {module} needs a control flag (required, requisite, sufficient or optional)"))),
        };
        let mut options = Vec::new();
        loop {
            match toks.next_token().map_err(|m| e(&m))? {
                Some(Tok::Semi) => break,
                Some(Tok::Word(k)) => {
                    match toks.next_token().map_err(|m| e(&m))? {
                        Some(Tok::Eq) => {}
                        _ => {
                            return Err(e(&format!(
                                "option '{k}' of {module} must be written {k}=\"value\""
                            )))
                        }
                    }
                    match toks.next_token().map_err(|m| e(&m))? {
                        Some(Tok::Word(v)) | Some(Tok::Quoted(v)) => options.push((k, v)),
                        _ => return Err(e(&format!("option '{k}' of {module} has no value"))),
                    }
                }
                None => {
                    return Err(e(&format!(
                        "login module {module} is not terminated with ';'"
                    )))
                }
                _ => return Err(e(&format!("unexpected token in the options of {module}"))),
            }
        }
        entries.push(JaasEntry {
            module,
            flag,
            options,
        });
    }
    if entries.is_empty() {
        return Err(e("no login module"));
    }
    Ok(entries)
}

enum Tok {
    Word(String),
    Quoted(String),
    Eq,
    Semi,
}

struct JaasTokens<'a> {
    s: &'a str,
    pos: usize,
}

impl JaasTokens<'_> {
    fn next_token(&mut self) -> Result<Option<Tok>, String> {
        let rest = &self.s[self.pos..];
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        let mut chars = trimmed.char_indices();
        let Some((_, c)) = chars.next() else {
            return Ok(None);
        };
        match c {
            '=' => {
                self.pos += 1;
                Ok(Some(Tok::Eq))
            }
            ';' => {
                self.pos += 1;
                Ok(Some(Tok::Semi))
            }
            '"' => {
                let mut out = String::new();
                let mut escaped = false;
                for (i, ch) in chars {
                    if escaped {
                        out.push(ch);
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == '"' {
                        self.pos += i + 1;
                        return Ok(Some(Tok::Quoted(out)));
                    } else {
                        out.push(ch);
                    }
                }
                Err("unterminated quoted value".into())
            }
            _ => {
                let end = trimmed
                    .find(|ch: char| ch.is_whitespace() || ch == '=' || ch == ';' || ch == '"')
                    .unwrap_or(trimmed.len());
                self.pos += end;
                Ok(Some(Tok::Word(trimmed[..end].to_string())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_decode_as_latin1_like_java() {
        // Latin-1 bytes: one character each, no warning.
        let f = decode_latin1(b"user=j\xf6rg\npassword=caf\xe9\n", "f");
        assert_eq!(f.text, "user=j\u{f6}rg\npassword=caf\u{e9}\n");
        assert_eq!(f.warning, None);
        let props = parse(&f.text).unwrap();
        assert_eq!(props[1].value, "café");
        // ASCII (UTF-8 or not): unchanged.
        let f = decode_latin1(b"a=b\n", "f");
        assert_eq!((f.text.as_str(), f.warning), ("a=b\n", None));
        // Non-ASCII UTF-8: read byte by byte like Java, with a warning naming file and line.
        let f = decode_latin1("a=1\npassword=café\n".as_bytes(), "client.properties");
        assert_eq!(f.text, "a=1\npassword=caf\u{c3}\u{a9}\n");
        assert!(
            f.warning
                .as_deref()
                .is_some_and(|w| w.starts_with("client.properties:2: non-ASCII UTF-8")),
            "{f:?}"
        );
        // \uXXXX escapes still give any character.
        assert_eq!(parse("k=caf\\u00e9").unwrap()[0].value, "café");
    }

    #[test]
    fn java_syntax() {
        let text = "# comment\n! also\n  bootstrap.servers = a:9092,\\\n    b:9092\nclient.id:my-app\nsasl.mechanism PLAIN\nempty=\nesc\\=key=v\\u0041\\tz\r\nkey.only\n";
        let p = parse(text).unwrap();
        let kv: Vec<(&str, &str, usize)> = p
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str(), p.line))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("bootstrap.servers", "a:9092,b:9092", 3),
                ("client.id", "my-app", 5),
                ("sasl.mechanism", "PLAIN", 6),
                ("empty", "", 7),
                ("esc=key", "vA\tz", 8),
                ("key.only", "", 9),
            ]
        );
    }

    #[test]
    fn malformed_unicode_escape_has_line() {
        let e = parse("a=1\nb=\\u12G4\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("line 2:"), "{e}");
    }

    #[test]
    fn jaas_modules() {
        let j = parse_jaas(r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p a\"ss";"#).unwrap();
        assert_eq!(
            j[0].module,
            "org.apache.kafka.common.security.scram.ScramLoginModule"
        );
        assert_eq!(j[0].option("username"), Some("alice"));
        assert_eq!(j[0].option("password"), Some("p a\"ss"));
        let j = parse_jaas("software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::1:role/R\" awsRoleSessionName=\"s\" awsDebugCreds=true;").unwrap();
        assert_eq!(j[0].option("awsRoleArn"), Some("arn:aws:iam::1:role/R"));
        assert_eq!(j[0].option("awsDebugCreds"), Some("true"));
        let j = parse_jaas(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        )
        .unwrap();
        assert!(j[0].options.is_empty());
    }

    #[test]
    fn jaas_errors_do_not_leak_secrets() {
        for bad in [
            r#"org.x.PlainLoginModule username="u" password="s3cret";"#,
            r#"org.x.PlainLoginModule required username="u" password="s3cret""#,
            r#"org.x.PlainLoginModule required username="u" password="s3cret;"#,
            "",
        ] {
            let e = parse_jaas(bad).unwrap_err().to_string();
            assert!(!e.contains("s3cret"), "{e}");
            assert!(
                !e.contains("sasl.jaas.config"),
                "the caller names the key: {e}"
            );
        }
    }
}
