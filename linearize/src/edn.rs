//! Reading Jepsen-style key/value histories: one EDN map per event, as in the Porcupine
//! corpus (`{:process 3, :type :invoke, :f :append, :key "k", :value "x 3 0 y"}`).
//!
//! Time is the event's line number (blank lines aside). An `:invoke` opens the process's
//! operation; the process's next `:ok` closes it (a Get's value comes from the `:ok`); a
//! `:fail` removes it (it did not happen); an `:info`, or no answer at all, leaves it
//! pending (it may have happened: it never returned).

use crate::history::Operation;
use crate::models::{KvInput, KvOutput};
use crate::text::Text;

/// Why a history could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// The line (from 1).
    pub line: usize,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// Not an EDN map of keywords to values.
    #[error("not an event map ({0})")]
    Syntax(&'static str),
    /// A field the event needs is missing.
    #[error("no {0} field")]
    Missing(&'static str),
    /// A field has a value of the wrong kind.
    #[error("bad {field} value {value:?}")]
    BadValue {
        /// The field.
        field: &'static str,
        /// Its value, as written.
        value: String,
    },
    /// An `:invoke` by a process whose previous operation is still open.
    #[error("process {0} invokes while its previous operation is open")]
    DoubleInvoke(i64),
    /// An answer by a process with no open operation.
    #[error("process {0} answers with no open operation")]
    NoOpenOperation(i64),
}

/// One value of an event map.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Keyword(String),
    Str(String),
    Int(i64),
    Nil,
}

/// One event: its fields, by keyword.
type Event = Vec<(String, Value)>;

fn parse_line(line: &str) -> Result<Event, ParseErrorKind> {
    let mut chars = line.trim().chars().peekable();
    if chars.next() != Some('{') {
        return Err(ParseErrorKind::Syntax("expected '{'"));
    }
    let mut fields = Vec::new();
    let mut pending_key: Option<String> = None;
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let value = match chars.next() {
            None => return Err(ParseErrorKind::Syntax("expected '}'")),
            Some('}') => break,
            Some(':') => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == ',' || c == '}' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                Value::Keyword(word)
            }
            Some('"') => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(ParseErrorKind::Syntax("unterminated string")),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(c) => s.push(c),
                            None => return Err(ParseErrorKind::Syntax("unterminated string")),
                        },
                        Some(c) => s.push(c),
                    }
                }
                Value::Str(s)
            }
            Some(c) => {
                let mut word = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == ',' || c == '}' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                if word == "nil" {
                    Value::Nil
                } else {
                    Value::Int(
                        word.parse()
                            .map_err(|_| ParseErrorKind::Syntax("unknown value"))?,
                    )
                }
            }
        };
        match pending_key.take() {
            None => match value {
                Value::Keyword(k) => pending_key = Some(k),
                _ => return Err(ParseErrorKind::Syntax("a field name must be a keyword")),
            },
            Some(k) => fields.push((k, value)),
        }
    }
    if pending_key.is_some() {
        return Err(ParseErrorKind::Syntax("a field without a value"));
    }
    Ok(fields)
}

fn field<'a>(event: &'a Event, name: &'static str) -> Result<&'a Value, ParseErrorKind> {
    event
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .ok_or(ParseErrorKind::Missing(name))
}

fn bad(field: &'static str, value: &Value) -> ParseErrorKind {
    ParseErrorKind::BadValue {
        field,
        value: format!("{value:?}"),
    }
}

fn text(event: &Event, name: &'static str) -> Result<Option<String>, ParseErrorKind> {
    match field(event, name)? {
        Value::Str(s) => Ok(Some(s.clone())),
        Value::Nil => Ok(None),
        Value::Int(i) => Ok(Some(i.to_string())),
        other => Err(bad(name, other)),
    }
}

/// An operation still open, and where it is in the history.
struct Open {
    index: usize,
}

/// Reads a key/value history (see the module documentation). Process numbers become client
/// ids; times are event numbers from 0.
pub fn parse_kv_history(source: &str) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    let mut ops: Vec<Option<Operation<KvInput, KvOutput>>> = Vec::new();
    let mut open: std::collections::BTreeMap<i64, Open> = std::collections::BTreeMap::new();
    let mut time = 0u64;
    for (n, line) in source.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |kind| ParseError { line: n + 1, kind };
        let event = parse_line(line).map_err(err)?;
        let process = match field(&event, "process").map_err(err)? {
            Value::Int(p) => *p,
            other => return Err(err(bad("process", other))),
        };
        let kind = match field(&event, "type").map_err(err)? {
            Value::Keyword(k) => k.as_str(),
            other => return Err(err(bad("type", other))),
        };
        match kind {
            "invoke" => {
                let f = field(&event, "f").map_err(err)?;
                let key = text(&event, "key")
                    .map_err(err)?
                    .ok_or_else(|| err(ParseErrorKind::Missing("key")))?;
                let value = text(&event, "value").map_err(err)?.unwrap_or_default();
                let (input, output) = match f {
                    Value::Keyword(f) if f == "get" => (KvInput::get(&key), KvOutput::Unknown),
                    Value::Keyword(f) if f == "put" => (KvInput::put(&key, &value), KvOutput::Done),
                    Value::Keyword(f) if f == "append" => {
                        (KvInput::append(&key, &value), KvOutput::Done)
                    }
                    other => return Err(err(bad("f", other))),
                };
                if open.contains_key(&process) {
                    return Err(err(ParseErrorKind::DoubleInvoke(process)));
                }
                open.insert(process, Open { index: ops.len() });
                ops.push(Some(Operation::pending(process, input, output, time)));
            }
            "ok" | "fail" | "info" => {
                let Some(Open { index }) = open.remove(&process) else {
                    return Err(err(ParseErrorKind::NoOpenOperation(process)));
                };
                if kind == "fail" {
                    ops[index] = None;
                } else if let Some(op) = ops[index].as_mut().filter(|_| kind == "ok") {
                    op.ret = Some(time);
                    if matches!(op.input, KvInput::Get { .. }) {
                        let value = text(&event, "value").map_err(err)?.unwrap_or_default();
                        op.output = KvOutput::Value(Text::new(&value));
                    }
                }
            }
            _ => return Err(err(bad("type", &Value::Keyword(kind.to_owned())))),
        }
        time += 1;
    }
    Ok(ops.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_invokes_answers_and_pending_calls() {
        let history = parse_kv_history(
            "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"a\"}\n\
             {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n\
             {:process 0, :type :ok, :f :put, :key \"k\", :value \"a\"}\n\
             {:process 1, :type :ok, :f :get, :key \"k\", :value \"a \\\"q\\\"\"}\n\
             {:process 2, :type :invoke, :f :append, :key \"k\", :value \"b\"}\n",
        )
        .unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(
            history[0],
            Operation::new(0, KvInput::put("k", "a"), KvOutput::Done, 0, 2)
        );
        assert_eq!(
            history[1],
            Operation::new(1, KvInput::get("k"), KvOutput::value("a \"q\""), 1, 3)
        );
        assert_eq!(
            history[2],
            Operation::pending(2, KvInput::append("k", "b"), KvOutput::Done, 4)
        );
    }

    #[test]
    fn names_the_line_of_a_bad_event() {
        let e = parse_kv_history(
            "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n{:process 0 :type}",
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_kv_history("{:process 0, :type :ok, :f :get, :key \"k\", :value nil}")
            .unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::NoOpenOperation(0));
    }
}
